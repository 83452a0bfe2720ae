"""The message log: filters, paging, search, CSV export (formula-safe), and deleting a message."""
from __future__ import annotations

import csv
import io
import time

import pytest

from backend.adapters.send_queue import lambda_handler
from backend.errors import NotFound, PermissionDenied, ValidationError
from backend.services.messaging import messages
from backend.services.contacts.contacts import create_contact
from backend.services.channels.whatsapp.send import send_whatsapp
from tests.conftest import unique_phone
from tests.whatsapp_events import meta_message, sns_event, sns_message, webhook_entry


def customer_says(phone: str, *texts: str) -> None:
    now = int(time.time())
    entry = webhook_entry([meta_message("text", from_phone=phone[1:], text=t, ts=now) for t in texts], from_phone=phone[1:])
    lambda_handler("inbound-whatsapp-handler")(sns_event(sns_message(entry)), None)


@pytest.fixture
def traffic(operator, messaging):
    contact = create_contact(operator, {"name": "Log Person", "phone": unique_phone()})
    customer_says(contact.phone, "first question", "=HYPERLINK(\"http://evil\")", "third")
    send_whatsapp(operator, {"contactId": contact.contact_id, "type": "text", "text": "our answer"})
    return contact


def test_filters_search_and_paging(viewer, traffic):
    everything = messages.message_log(viewer, limit=200)
    assert len(everything.items) == 4
    outbound = messages.message_log(viewer, direction="outbound")
    assert [m.body for m in outbound.items] == ["our answer"]
    assert [m.body for m in messages.message_log(viewer, q="QUESTION").items] == ["first question"]
    first = messages.message_log(viewer, limit=3)
    second = messages.message_log(viewer, limit=3, next_token=first.next_token)
    assert len(first.items) == 3 and len(second.items) == 1
    assert not {m.message_id for m in first.items} & {m.message_id for m in second.items}
    with pytest.raises(ValidationError) as error:
        messages.message_log(viewer, q="other", next_token=first.next_token)
    assert error.value.field == "nextToken"


def test_export_is_csv_with_formulas_defused(viewer, traffic):
    text, count, complete = messages.export_csv(viewer)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert count == len(rows) == 4 and complete
    assert {r["body"] for r in rows} >= {"first question", "'=HYPERLINK(\"http://evil\")"}


def test_delete_is_for_writers_and_audited(operator, viewer, traffic):
    target = messages.message_log(viewer, q="third").items[0]
    with pytest.raises(PermissionDenied):
        messages.delete_message(viewer, target.message_id)
    messages.delete_message(operator, target.message_id)
    with pytest.raises(NotFound):
        messages.get_message(viewer, target.message_id)
    from backend.services.platform.audit import resource_history

    assert [e.action for e in resource_history("message", target.message_id)] == ["message.delete"]


def test_fresh_ids_override_a_lagging_index(operator, viewer, traffic, monkeypatch):
    """The change feed names what changed; those rows are read by key even if the index has not caught up."""
    from backend.models.contact import ContactModel
    from backend.models.messaging import MessageModel

    from backend.services.messaging.conversations import team_inbox

    monkeypatch.setattr(ContactModel.by_conversation_status, "query", lambda *a, **k: iter(()))
    assert team_inbox(viewer).items == []
    [conversation] = team_inbox(viewer, fresh_contact_ids=(traffic.contact_id,)).items
    assert conversation.last_preview == "our answer"

    newest = messages.conversation(viewer, traffic.contact_id).items[0]
    monkeypatch.setattr(MessageModel.by_contact, "query", lambda *a, **k: iter(()))
    assert messages.conversation(viewer, traffic.contact_id).items == []
    page = messages.conversation(viewer, traffic.contact_id, fresh_message_ids=(newest.message_id, "f" * 32))
    assert [m.message_id for m in page.items] == [newest.message_id]
