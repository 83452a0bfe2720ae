"""Answering on the customer's channel: the reply box offers each channel with the contact's verdict, starts on
the channel of their last message, sends through that channel's own service (its rules), keeps an email in its
thread (Re:, In-Reply-To, References); a failed message is sent again once, as a new message, where the rule
allows it."""
from __future__ import annotations

import json
import uuid

import pytest

from backend.errors import Conflict, OptedOut, PermissionDenied, ValidationError
from backend.models.contact import ContactModel
from backend.models.messaging import MessageModel
from backend.services.channels import reply
from backend.services.channels.email.send import rfc_message_id, send_email
from backend.services.channels.sms.inbound import ingest_sms_event
from backend.services.channels.sms.send import send_sms
from backend.services.contacts.contacts import create_contact
from backend.services.messaging import messages
from tests.conftest import unique_email, unique_phone
from tests.unit.people import contact, customer_writes


def texts_in(phone: str, body: str = "hi") -> None:
    ingest_sms_event(json.dumps({"originationNumber": phone, "destinationNumber": "+12065550152", "messageKeyword": "KEYWORD_1",
                                 "messageBody": body, "inboundMessageId": str(uuid.uuid4()), "previousPublishedMessageId": None}))


def options_by_channel(actor, contact_id):
    found = reply.reply_options(actor, contact_id)
    return found, {c.channel: c for c in found.channels}


def test_an_sms_only_contact_is_offered_sms_and_told_why_not_the_others(operator, messaging):
    person = create_contact(operator, {"name": "Sam Sms", "phone": unique_phone(), "optInSms": True})
    texts_in(person.phone, "is it ready?")
    found, by = options_by_channel(operator, person.contact_id)
    assert found.default_channel == "sms"
    assert by["sms"].can_reply and not by["whatsapp"].can_reply and not by["whatsapp"].templates_only
    assert by["whatsapp"].reason and by["email"].reason == "no email address" and not by["email"].can_reply
    # A text does not open WhatsApp's 24-hour window: only a WhatsApp message does.
    assert ContactModel.get(person.contact_id).lastInboundAt is None


def test_the_default_is_the_channel_of_the_customers_last_message(operator, messaging):
    person = contact(operator, "Wanda Both", optInWhatsApp=True, optInSms=True)
    customer_writes(person.phone, "on whatsapp")
    assert reply.reply_options(operator, person.contact_id).default_channel == "whatsapp"
    texts_in(person.phone, "now by text")
    assert reply.reply_options(operator, person.contact_id).default_channel == "sms"


def test_a_reply_goes_through_the_channels_own_service_and_rules(operator, viewer, messaging):
    person = create_contact(operator, {"name": "Rita Reply", "phone": unique_phone(), "optInSms": True})
    sent = reply.send_reply(operator, person.contact_id, {"channel": "sms", "text": "  On its way  "})
    assert (sent.channel, sent.body, sent.status) == ("sms", "On its way", "PENDING")
    with pytest.raises(PermissionDenied):
        reply.send_reply(viewer, person.contact_id, {"channel": "sms", "text": "x"})
    with pytest.raises(ValidationError):
        reply.send_reply(operator, person.contact_id, {"channel": "fax", "text": "x"})
    with pytest.raises(ValidationError):
        reply.send_reply(operator, person.contact_id, {"channel": "sms", "text": "   "})
    texts_in(person.phone, "STOP")
    with pytest.raises(OptedOut):
        reply.send_reply(operator, person.contact_id, {"channel": "sms", "text": "still there?"})


def test_an_email_reply_stays_in_the_thread(operator, messaging):
    person = create_contact(operator, {"name": "Eli Email", "email": unique_email(), "optInEmail": True})
    first = send_email(operator, {"contactId": person.contact_id, "subject": "Your invoice 42", "text": "Attached."})
    messaging.drain()
    provider_id = MessageModel.get(first.message_id).providerMessageId
    assert provider_id
    found = reply.reply_options(operator, person.contact_id)
    assert (found.email_subject, found.email_reply_to) == ("Re: Your invoice 42", first.message_id)
    answer = reply.send_reply(operator, person.contact_id, {"channel": "email", "text": "Any questions?"})
    row = MessageModel.get(answer.message_id)
    own = rfc_message_id(provider_id, "us-east-1")
    assert row.subject == "Re: Your invoice 42"
    assert row.payload["headers"]["In-Reply-To"] == own and row.payload["headers"]["References"] == own
    messaging.drain()
    again = reply.send_reply(operator, person.contact_id, {"channel": "email", "text": "Still here."})
    headers = MessageModel.get(again.message_id).payload["headers"]
    assert MessageModel.get(again.message_id).subject == "Re: Your invoice 42"  # never "Re: Re:"
    second = rfc_message_id(MessageModel.get(answer.message_id).providerMessageId, "us-east-1")
    assert headers["In-Reply-To"] == second and headers["References"] == f"{own} {second}"


def test_in_reply_to_must_be_an_email_of_the_same_contact_that_went_out(operator, messaging):
    ann = create_contact(operator, {"name": "Ann", "email": unique_email(), "optInEmail": True})
    bo = create_contact(operator, {"name": "Bo", "email": unique_email(), "optInEmail": True})
    not_yet = send_email(operator, {"contactId": ann.contact_id, "subject": "s", "text": "t"})
    for who, answered in ((ann, not_yet.message_id), (bo, not_yet.message_id), (ann, "f" * 32)):
        with pytest.raises(ValidationError) as refused:
            send_email(operator, {"contactId": who.contact_id, "subject": "Re: s", "text": "t", "inReplyTo": answered})
        assert refused.value.field == "inReplyTo"


def test_a_failed_message_is_sent_again_once_as_a_new_message(operator, viewer, messaging):
    person = create_contact(operator, {"name": "Fay Failed", "phone": "+447911230000", "optInSms": True})
    failed = send_sms(operator, {"contactId": person.contact_id, "body": "hello"})
    messaging.drain()
    view = messages.get_message(operator, failed.message_id)
    assert view.status == "FAILED" and view.can_retry and view.retry_refusal is None
    with pytest.raises(PermissionDenied):
        reply.retry_message(viewer, failed.message_id)
    again = reply.retry_message(operator, failed.message_id)
    assert again.message_id != failed.message_id and again.body == "hello" and again.channel == "sms"
    view = messages.get_message(operator, failed.message_id)
    assert view.retried_as == again.message_id and not view.can_retry and view.retry_refusal == "it was sent again already"
    with pytest.raises(Conflict):
        reply.retry_message(operator, failed.message_id)
    assert [m.message_id for m in messages.conversation(operator, person.contact_id).items if m.direction == "outbound"] == [again.message_id, failed.message_id]


def test_a_retry_the_rules_refuse_sends_nothing_and_can_be_tried_later(operator, messaging):
    person = create_contact(operator, {"name": "Gus Gone", "phone": "+447911230000", "optInSms": True})
    failed = send_sms(operator, {"contactId": person.contact_id, "body": "hello"})
    messaging.drain()
    texts_in(person.phone, "STOP")
    with pytest.raises(OptedOut):
        reply.retry_message(operator, failed.message_id)
    assert MessageModel.get(failed.message_id).retriedAs is None  # released: nothing was sent
    assert [m.message_id for m in messages.conversation(operator, person.contact_id).items if m.direction == "outbound"][-1] == failed.message_id


def test_a_delivered_message_is_not_sent_again(operator, messaging):
    person = create_contact(operator, {"name": "Hal Happy", "phone": unique_phone(), "optInSms": True})
    sent = send_sms(operator, {"contactId": person.contact_id, "body": "hello"})
    messaging.drain()
    with pytest.raises(Conflict):
        reply.retry_message(operator, sent.message_id)
