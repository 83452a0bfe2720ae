"""Sending on WhatsApp: the rules (window, consent, opt-out, roles) hold, and a send goes out exactly once."""
from __future__ import annotations

import time

import pytest

from backend.adapters.send_queue import lambda_handler
from backend.errors import ConsentRequired, NotFound, OptedOut, PermissionDenied, TemplateRequired, Unauthenticated, ValidationError
from backend.models.messaging import MessageModel
from backend.services.messaging import messages
from backend.services.platform.access import Actor
from backend.services.contacts.contacts import create_contact
from backend.services.messaging.rows import inbound_message_id
from backend.services.channels.whatsapp.send import send_whatsapp
from tests.conftest import unique_phone
from tests.whatsapp_events import make_wamid, meta_message, meta_status, sns_event, sns_message, webhook_entry

inbound = lambda_handler("inbound-whatsapp-handler")


def customer_writes(phone: str, text: str = "hello", ts: int | None = None) -> str:
    wamid = make_wamid(phone[1:])
    entry = webhook_entry([meta_message("text", wamid=wamid, from_phone=phone[1:], text=text, ts=ts or int(time.time()))], from_phone=phone[1:])
    inbound(sns_event(sns_message(entry)), None)
    return wamid


def statuses(*updates) -> dict:
    return inbound(sns_event(sns_message(webhook_entry(statuses=updates))), None)


@pytest.fixture
def talking(operator, messaging):
    """A contact who wrote to us a minute ago (window open), without template consent."""
    phone = unique_phone()
    contact = create_contact(operator, {"name": "Open Window", "phone": phone})
    customer_writes(phone, ts=int(time.time()) - 60)
    return contact


def test_a_reply_inside_the_window_goes_out_once_and_follows_statuses(operator, talking, messaging):
    sent = send_whatsapp(operator, {"contactId": talking.contact_id, "type": "text", "text": "Hi, how can we help?"})
    assert sent.status == "PENDING"
    assert messaging.drain() == 1
    row = MessageModel.get(sent.message_id)
    assert row.status == "ACCEPTED" and row.providerMessageId
    request = messaging.provider.sent[0]["message"]
    assert request["to"] == talking.phone and request["text"]["body"] == "Hi, how can we help?"
    assert request["biz_opaque_callback_data"] == sent.message_id

    statuses(meta_status(row.providerMessageId, "read"))
    statuses(meta_status(row.providerMessageId, "delivered"), meta_status(row.providerMessageId, "sent"))  # late
    row.refresh()
    assert row.status == "READ"
    assert [s.status for s in row.statusHistory] == ["PENDING", "ACCEPTED", "READ"]

    # a redelivered queue record does not send again
    lambda_handler("outbound-whatsapp")({"Records": [_sqs(sent.message_id)]}, None)
    assert len(messaging.provider.sent) == 1


def _sqs(message_id: str) -> dict:
    from backend.adapters.send_queue import sqs_record

    return sqs_record(message_id, receive_count=2)


def test_failed_status_records_metas_error(operator, talking, messaging):
    sent = send_whatsapp(operator, {"contactId": talking.contact_id, "type": "text", "text": "x"})
    messaging.drain()
    provider_id = MessageModel.get(sent.message_id).providerMessageId
    statuses(meta_status(provider_id, "failed", error_code=131047))
    row = MessageModel.get(sent.message_id)
    assert row.status == "FAILED" and row.errorCode == "131047" and "24 hours" in row.errorMessage


def test_free_form_outside_the_window_needs_a_template(operator, messaging):
    phone = unique_phone()
    contact = create_contact(operator, {"name": "Old", "phone": phone, "optInWhatsApp": True})
    customer_writes(phone, ts=int(time.time()) - 25 * 3600)
    with pytest.raises(TemplateRequired) as error:
        send_whatsapp(operator, {"contactId": contact.contact_id, "type": "text", "text": "late"})
    assert error.value.code == "TEMPLATE_REQUIRED" and error.value.field == "type"
    sent = send_whatsapp(operator, {"contactId": contact.contact_id, "type": "template", "template": {"name": "welcome_back", "language": "en_US"}})
    assert sent.kind == "template"
    messaging.drain()
    assert MessageModel.get(sent.message_id).status == "ACCEPTED"


def test_templates_need_whatsapp_consent(operator, talking):
    with pytest.raises(ConsentRequired) as error:
        send_whatsapp(operator, {"contactId": talking.contact_id, "type": "template", "template": {"name": "welcome_back", "language": "en_US"}})
    assert error.value.code == "CONSENT_REQUIRED"


def test_an_opted_out_contact_gets_nothing_not_even_inside_the_window(operator, talking, messaging):
    customer_writes(talking.phone, "STOP")
    messaging.drain()
    before = len(messaging.provider.sent)
    with pytest.raises(OptedOut) as error:
        send_whatsapp(operator, {"contactId": talking.contact_id, "type": "text", "text": "but wait"})
    assert error.value.code == "OPTED_OUT"
    assert messaging.drain() == 0 and len(messaging.provider.sent) == before


def test_template_parameters_and_approval_are_checked(operator, messaging):
    contact = create_contact(operator, {"name": "T", "phone": unique_phone(), "optInWhatsApp": True})
    base = {"contactId": contact.contact_id, "type": "template"}
    with pytest.raises(ValidationError) as error:
        send_whatsapp(operator, {**base, "template": {"name": "order_update", "language": "en_US"}})
    assert error.value.field == "template.bodyParameters"
    with pytest.raises(ValidationError) as error:
        send_whatsapp(operator, {**base, "template": {"name": "no_such_template", "language": "en_US"}})
    assert error.value.field == "template.name"
    pending = [t for t in messaging.provider.list_templates() if t["status"] != "APPROVED"][0]
    with pytest.raises(ValidationError, match="only APPROVED"):
        send_whatsapp(operator, {**base, "template": {"name": pending["name"], "language": pending["language"]}})


@pytest.mark.parametrize(
    "body, field",
    [
        ({"type": "text"}, "text"),
        ({"type": "text", "text": "x" * 4097}, "text"),
        ({"type": "fax", "text": "x"}, "type"),
        ({"type": "text", "text": "x", "colour": "red"}, "colour"),
    ],
)
def test_bad_requests_name_the_field_and_queue_nothing(operator, talking, messaging, body, field):
    with pytest.raises(ValidationError) as error:
        send_whatsapp(operator, {"contactId": talking.contact_id, **body})
    assert field in str(error.value.details) or error.value.field == field
    assert messaging.drain() == 0


def test_roles_hold_for_sending(viewer, talking):
    with pytest.raises(PermissionDenied):
        send_whatsapp(viewer, {"contactId": talking.contact_id, "type": "text", "text": "x"})
    with pytest.raises(Unauthenticated):
        send_whatsapp(Actor.anonymous(), {"contactId": talking.contact_id, "type": "text", "text": "x"})


def test_send_by_phone_number_and_unknown_numbers(operator, talking, messaging):
    sent = send_whatsapp(operator, {"to": talking.phone, "type": "text", "text": "by number"})
    assert sent.contact_id == talking.contact_id
    with pytest.raises(NotFound) as error:
        send_whatsapp(operator, {"to": unique_phone(), "type": "text", "text": "who?"})
    assert error.value.field == "to"


def test_reply_and_reaction_point_at_the_customers_message(operator, talking, messaging, viewer):
    wamid = customer_writes(talking.phone, "Is my order on its way?")
    target = inbound_message_id("whatsapp", wamid)
    send_whatsapp(operator, {"contactId": talking.contact_id, "type": "text", "text": "Yes!", "replyTo": target})
    send_whatsapp(operator, {"contactId": talking.contact_id, "type": "reaction", "reaction": {"messageId": target, "emoji": "👍"}})
    messaging.drain()
    reply, reaction = (s["message"] for s in messaging.provider.sent)
    assert reply["context"] == {"message_id": wamid}
    assert reaction["reaction"] == {"message_id": wamid, "emoji": "👍"}
    send_whatsapp(operator, {"contactId": talking.contact_id, "type": "read", "messageId": target})
    assert messaging.provider.read_receipts == [wamid]
    kinds = [m.kind for m in messages.conversation(viewer, talking.contact_id).items]
    assert kinds[:2] == ["reaction", "text"]


def test_media_upload_then_send(operator, talking, messaging):
    from backend.services.media.files import upload

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    stored = upload(operator, "chart.png", png, "image/png")
    sent = send_whatsapp(operator, {"contactId": talking.contact_id, "type": "media", "media": {"fileId": stored.file_id, "caption": "see chart"}})
    messaging.drain()
    request = messaging.provider.sent[0]["message"]
    assert request["type"] == "image" and request["image"]["caption"] == "see chart" and request["image"]["id"]
    assert MessageModel.get(sent.message_id).status == "ACCEPTED"
    with pytest.raises(ValidationError) as error:
        upload(operator, "big.png", png + b"\x00" * (5 * 1024 * 1024), "image/png")
    assert "5 MB" in error.value.message
    with pytest.raises(ValidationError):
        upload(operator, "x.exe", b"MZ", "application/x-msdownload")
