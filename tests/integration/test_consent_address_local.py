"""Consent belongs to the address, against DynamoDB Local (AWS's own engine): the conditions moto only imitates —
lastInboundAt's forward-only condition inside the group-committed transaction, and the kept opt-out written and
removed in the keyword's transaction."""
from __future__ import annotations

import time

import pytest

from backend.adapters.send_queue import LocalSendQueue, use_send_queue
from backend.models.contact import ContactModel, ContactUniqueKey
from backend.services.contacts.contacts import create_contact, delete_contact
from tests.conftest import unique_phone
from tests.unit.people import customer_writes


@pytest.fixture(autouse=True)
def send_queue():
    use_send_queue(LocalSendQueue())  # the STOP/START confirmations are queued, not sent
    yield
    use_send_queue(None)


def test_last_inbound_only_moves_forward_and_a_stop_outlives_the_contact(operator):
    phone = unique_phone()
    ann = create_contact(operator, {"name": "Ann Local", "phone": phone, "optInWhatsApp": True})
    now = int(time.time())
    customer_writes(phone, "newest", ts=now)
    latest = ContactModel.get(ann.contact_id, consistent_read=True).lastInboundAt
    customer_writes(phone, "older, delivered late", ts=now - 600)
    row = ContactModel.get(ann.contact_id, consistent_read=True)
    assert row.lastInboundAt == latest and int(row.unreadCount) == 2

    customer_writes(phone, "STOP", ts=now + 1)
    assert ContactUniqueKey.get(ContactUniqueKey.suppression_key("whatsapp", phone), consistent_read=True).record.optedIn is False
    delete_contact(operator, ann.contact_id)
    again = create_contact(operator, {"name": "Ann Again", "phone": phone})
    assert again.channels["whatsapp"].opted_out and again.consent["whatsapp"].source == "WhatsApp keyword STOP"

    customer_writes(phone, "START", ts=now + 2)
    with pytest.raises(ContactUniqueKey.DoesNotExist):
        ContactUniqueKey.get(ContactUniqueKey.suppression_key("whatsapp", phone), consistent_read=True)
    assert ContactModel.get(again.contact_id, consistent_read=True).optInWhatsApp is True
