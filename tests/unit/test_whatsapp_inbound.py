"""Inbound WhatsApp through the SNS Lambda handler: every type stored once, contacts, window, keywords, media."""
from __future__ import annotations

from backend.services.messaging.conversations import team_inbox

import json
import time

import pytest

from backend.adapters.send_queue import lambda_handler
from backend.models.audit import AuditLogModel
from backend.models.contact import ContactModel
from backend.models.messaging import MediaFileModel, MessageModel
from backend.services.messaging import messages
from backend.services.contacts.contacts import create_contact, owner_of
from backend.services.channels.whatsapp.inbound_media import retry_pending_media
from backend.services.messaging.rows import inbound_message_id
from tests.conftest import unique_phone
from tests.whatsapp_events import FIXTURES, make_wamid, meta_message, sns_event, sns_message, webhook_entry

inbound = lambda_handler("inbound-whatsapp-handler")


def deliver(*entries) -> dict:
    return inbound(sns_event(*(sns_message(e) for e in entries)), None)


def test_a_new_number_becomes_a_contact_with_its_profile_name_and_an_open_window(messaging, operator):
    phone = unique_phone()
    result = deliver(webhook_entry([meta_message("text", from_phone=phone[1:], text="Hi there", ts=int(time.time()))], from_phone=phone[1:], profile_name="Priya Shah"))
    assert result["stored"] == 1
    contact = ContactModel.get(owner_of("phone", phone))
    assert contact.name == "Priya Shah"
    assert contact.unreadCount == 1 and contact.lastPreview == "Hi there" and contact.lastInboundAt is not None
    conversations = team_inbox(operator, q="Priya").items
    assert [c.contact_id for c in conversations] == [contact.contactId]
    assert conversations[0].window_closes_at > contact.lastInboundAt


def test_redelivered_events_are_stored_once(messaging, viewer):
    phone = unique_phone()
    wamid = make_wamid(phone[1:], "redelivery")
    entry = webhook_entry([meta_message("text", wamid=wamid, from_phone=phone[1:], text="once", ts=int(time.time()))], from_phone=phone[1:])
    first = deliver(entry)
    second = deliver(entry, entry)
    assert (first["stored"], first["duplicates"]) == (1, 0)
    assert (second["stored"], second["duplicates"]) == (0, 2)
    contact_id = owner_of("phone", phone)
    thread = messages.conversation(viewer, contact_id)
    assert [m.body for m in thread.items] == ["once"]
    assert ContactModel.get(contact_id).unreadCount == 1


@pytest.mark.parametrize("fixture", sorted(p.stem for p in FIXTURES.glob("*.json") if not p.stem.startswith("status")))
def test_every_fixture_type_is_stored_with_a_readable_body(fixture, messaging, viewer):
    event = json.loads((FIXTURES / f"{fixture}.json").read_text())
    entry = json.loads(json.loads(event["Records"][0]["Sns"]["Message"])["whatsAppWebhookEntry"])
    wamids = [m["id"] for c in entry["changes"] for m in c["value"].get("messages", [])]
    result = inbound(event, None)
    assert result["stored"] + result["duplicates"] == len(wamids) and not result["rejected"]
    for wamid in wamids:
        row = MessageModel.get(inbound_message_id("whatsapp", wamid))
        assert row.direction == "inbound" and row.status == "RECEIVED"
        assert row.body, f"{fixture}: stored without a readable body"
        assert row.payload["id"] == wamid


def test_media_is_fetched_into_the_store_and_recorded(messaging, viewer):
    phone = unique_phone()
    wamid = make_wamid(phone[1:], "photo")
    deliver(webhook_entry([meta_message("image", wamid=wamid, from_phone=phone[1:], text="my receipt", ts=int(time.time()))], from_phone=phone[1:]))
    row = MessageModel.get(inbound_message_id("whatsapp", wamid))
    assert row.media.status == "stored" and row.media.caption == "my receipt"
    stored = MediaFileModel.get(row.media.fileId)
    assert stored.mimeType == "image/jpeg" and stored.sizeBytes > 0 and row.pendingWork is None


class FailingFetch:
    """The sandbox, except that media fetches fail until `recover()`."""

    def __init__(self, sandbox):
        self.sandbox, self.failing = sandbox, True

    def __getattr__(self, name):
        return getattr(self.sandbox, name)

    def fetch_media(self, *args, **kwargs):
        if self.failing:
            raise ConnectionError("media endpoint unreachable")
        return self.sandbox.fetch_media(*args, **kwargs)


def test_a_failed_media_fetch_keeps_the_message_and_is_retried(messaging, viewer):
    from datetime import timedelta

    from backend.adapters.channels import providers

    flaky = FailingFetch(messaging.provider)
    providers.WHATSAPP.use(flaky)
    phone = unique_phone()
    wamid = make_wamid(phone[1:], "doc")
    deliver(webhook_entry([meta_message("document", wamid=wamid, from_phone=phone[1:], text="contract", ts=int(time.time()))], from_phone=phone[1:]))
    row = MessageModel.get(inbound_message_id("whatsapp", wamid))
    assert row.media.status == "pending" and row.pendingWork == "media" and "unreachable" in row.media.error
    assert row.media.caption == "contract"
    flaky.failing = False
    assert retry_pending_media(older_than=timedelta(0)) == 1
    row.refresh()
    assert row.media.status == "stored" and row.pendingWork is None


def test_stop_opts_out_is_audited_and_confirmed_and_start_opts_back_in(messaging, operator):
    phone = unique_phone()
    contact = create_contact(operator, {"name": "Sam", "phone": phone, "optInWhatsApp": True})
    deliver(webhook_entry([meta_message("text", from_phone=phone[1:], text="  stop ", ts=int(time.time()))], from_phone=phone[1:]))
    row = ContactModel.get(contact.contact_id)
    assert row.optInWhatsApp is False and row.consent.whatsapp.optedIn is False
    assert "STOP" in row.consent.whatsapp.source
    audit = [a for a in AuditLogModel.query(f"contact#{contact.contact_id}") if a.action == "contact.consent"]
    assert audit and audit[0].details["keyword"] == "STOP"
    messaging.drain()
    confirmation = messaging.provider.sent[-1]["message"]
    assert "unsubscribed" in confirmation["text"]["body"] and confirmation["to"] == phone

    deliver(webhook_entry([meta_message("text", from_phone=phone[1:], text="START", ts=int(time.time()))], from_phone=phone[1:]))
    row.refresh()
    assert row.optInWhatsApp is True and row.consent.whatsapp.optedIn is True
    messaging.drain()
    assert "subscribed" in messaging.provider.sent[-1]["message"]["text"]["body"]


def test_stop_inside_a_sentence_is_just_a_message(messaging, operator):
    phone = unique_phone()
    contact = create_contact(operator, {"name": "Lee", "phone": phone, "optInWhatsApp": True})
    deliver(webhook_entry([meta_message("text", from_phone=phone[1:], text="please don't stop the delivery", ts=int(time.time()))], from_phone=phone[1:]))
    assert ContactModel.get(contact.contact_id).optInWhatsApp is True
    assert messaging.drain() == 0


def test_a_poison_record_does_not_block_the_rest_of_the_batch(messaging):
    phone = unique_phone()
    good = sns_message(webhook_entry([meta_message("text", from_phone=phone[1:], text="fine", ts=int(time.time()))], from_phone=phone[1:]))
    event = sns_event("not json at all", good, json.dumps({"context": {}}))
    result = inbound(event, None)
    assert result["stored"] == 1
    assert len(result["rejected"]) == 2


def test_a_message_after_the_contact_was_deleted_starts_a_new_contact(messaging, operator):
    from backend.services.contacts.contacts import delete_contact

    phone = unique_phone()
    deliver(webhook_entry([meta_message("text", from_phone=phone[1:], text="one", ts=int(time.time()))], from_phone=phone[1:]))
    first = owner_of("phone", phone)
    delete_contact(operator, first)  # the sender lookup is remembered; the write must notice the deletion
    deliver(webhook_entry([meta_message("text", from_phone=phone[1:], text="two", ts=int(time.time()))], from_phone=phone[1:]))
    second = owner_of("phone", phone)
    assert second and second != first
    assert [m.body for m in messages.conversation(operator, second).items] == ["two"]
