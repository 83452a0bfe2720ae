"""SMS: the send rules hold, a send goes out once through the outbox, inbound texts are stored once and
STOP/START/HELP are honoured, delivery events move statuses forward only; the sandbox publishes AWS-shaped
events and the AWS request is pinned with Stubber (moto has no pinpoint-sms-voice-v2)."""
from __future__ import annotations

import json
import logging
import random
import threading
import time
import uuid

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from backend.api.channel_door import handle_sns
from backend.adapters.channels import providers
from backend.adapters.channels.errors import ProviderError
from backend.adapters.channels.sms import (
    AwsSmsProvider,
    DryRunSmsProvider,
    SandboxSmsProvider,
    SmsProvider,
    text_message_request,
)
from backend.adapters.send_queue import lambda_handler, sqs_record
from backend.api import sms_api
from backend.api.http import ApiRequest, invoke
from backend.errors import ConsentRequired, NotFound, OptedOut, PermissionDenied, Unauthenticated, ValidationError
from backend.models.contact import ContactModel
from backend.models.messaging import DLQMessageModel, MessageModel
from backend.services.platform.access import Actor
from backend.services.platform.audit import resource_history
from backend.services.contacts.contacts import create_contact, update_contact
from backend.services.messaging.rows import inbound_message_id
from backend.adapters.channels.sms_events import FAILED_EVENTS, InboundSms, SmsDeliveryEvent, parse_sms_sns_message
from backend.adapters.channels.sms_segments import segment_info
from backend.services.channels.sms.send import send_sms
from backend.adapters.channels.whatsapp_events import MalformedEvent
from backend.settings import SendMode, Settings, get_settings
from tests.conftest import unique_phone
from tests.whatsapp_events import sns_event

OUR_NUMBER = "+12065550152"


# ---------------------------------------------------------------- builders of AWS-shaped SNS messages


def inbound_text(from_phone: str, body: str, inbound_id: str | None = None, previous: str | None = None) -> str:
    """What two-way SMS publishes when a customer texts our number."""
    return json.dumps({
        "originationNumber": from_phone,
        "destinationNumber": OUR_NUMBER,
        "messageKeyword": "KEYWORD_123456789012",
        "messageBody": body,
        "inboundMessageId": inbound_id or str(uuid.uuid4()),
        "previousPublishedMessageId": previous,
    })


def delivery(provider_id: str, event_type: str, *, our_id: str | None = None, at_ms: int | None = None,
             description: str = "Message has been accepted by phone carrier", to: str = "+447400123456") -> str:
    """What a configuration set's SNS event destination publishes for one of our texts."""
    status = event_type.removeprefix("TEXT_")
    event = {
        "eventType": event_type, "eventVersion": "1.0", "eventTimestamp": at_ms or int(time.time() * 1000),
        "isFinal": event_type != "TEXT_SUCCESSFUL", "originationPhoneNumber": OUR_NUMBER,
        "destinationPhoneNumber": to, "isoCountryCode": "GB", "mcc": "234", "mnc": "10",
        "messageId": provider_id, "messageRequestTimestamp": int(time.time() * 1000) - 300,
        "messageEncoding": "GSM", "messageType": "TRANSACTIONAL", "messageStatus": status,
        "messageStatusDescription": description, "totalMessageParts": 1, "totalMessagePrice": 0.0415,
        "totalCarrierFee": 0.0,
    }
    if our_id:
        event["context"] = {"wecareMessageId": our_id}
    return json.dumps(event)


def ingest(*messages: str) -> dict:
    return handle_sns("sms", sns_event(*messages))


def wait_for(predicate, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def fresh_sms_provider():
    providers.reset_providers()
    yield
    providers.reset_providers()


@pytest.fixture
def sandbox() -> SandboxSmsProvider:
    return providers.SMS.get()


@pytest.fixture
def subscriber(operator, messaging):
    """A contact who opted in to SMS."""
    return create_contact(operator, {"name": "Sam Subscriber", "phone": unique_phone(), "optInSms": True})


def sends_to(sandbox: SandboxSmsProvider, phone: str) -> list[dict]:
    return [s for s in sandbox.sent if s["to"] == phone]


# ---------------------------------------------------------------- sending


def test_a_text_goes_out_once_with_its_segments_and_follows_delivery_events(operator, subscriber, messaging, sandbox):
    sent = send_sms(operator, {"contactId": subscriber.contact_id, "body": "Your parcel arrives today."})
    assert (sent.status, sent.channel, sent.kind, sent.segments) == ("PENDING", "sms", "text", 1)
    assert messaging.drain() == 1
    row = MessageModel.get(sent.message_id)
    assert row.status == "ACCEPTED" and row.providerMessageId and int(row.segments) == 1
    assert row.address == subscriber.phone and row.sender == get_settings().sms_origination_identity
    assert row.payload == {"body": "Your parcel arrives today.", "messageType": "TRANSACTIONAL"}
    (request,) = sandbox.sent
    assert (request["to"], request["body"], request["message_id"]) == (subscriber.phone, row.body, sent.message_id)
    assert request["origination"] == get_settings().sms_origination_identity
    assert request["message_type"] == "TRANSACTIONAL"

    ingest(delivery(row.providerMessageId, "TEXT_DELIVERED"))
    ingest(delivery(row.providerMessageId, "TEXT_SUCCESSFUL"))  # late
    ingest(delivery(row.providerMessageId, "TEXT_UNKNOWN"))  # a failure after delivery changes nothing
    row.refresh()
    assert row.status == "DELIVERED" and row.errorCode is None
    assert [s.status for s in row.statusHistory] == ["PENDING", "ACCEPTED", "DELIVERED"]

    lambda_handler("outbound-sms")({"Records": [sqs_record(sent.message_id, receive_count=2)]}, None)
    assert len(sandbox.sent) == 1  # a redelivered queue record does not send again


def test_a_unicode_text_is_counted_in_ucs2_segments(operator, subscriber, messaging, sandbox):
    body = "Ça va? Votre commande est prête 😀 " * 3
    sent = send_sms(operator, {"contactId": subscriber.contact_id, "body": body})
    expected = segment_info(body)
    assert expected.encoding == "UCS-2" and expected.segments == 2
    assert sent.segments == 2 and int(MessageModel.get(sent.message_id).segments) == 2
    messaging.drain()
    assert sandbox.sent[0]["encoding"] == "UCS-2" and sandbox.sent[0]["parts"] == 2
    (entry,) = [e for e in resource_history("message", sent.message_id) if e.action == "message.send"]
    assert entry.details["segments"] == 2 and entry.details["channel"] == "sms" and entry.actor_id == operator.user_id


def test_the_conversation_shows_the_outbound_text(operator, subscriber, messaging):
    send_sms(operator, {"contactId": subscriber.contact_id, "body": "Hello from us"})
    contact = ContactModel.get(subscriber.contact_id)
    assert (contact.lastChannel, contact.lastDirection, contact.lastPreview) == ("sms", "outbound", "Hello from us")


def test_sms_needs_consent(operator, messaging):
    contact = create_contact(operator, {"name": "No Consent", "phone": unique_phone(), "optInWhatsApp": True})
    with pytest.raises(ConsentRequired) as error:
        send_sms(operator, {"contactId": contact.contact_id, "body": "hi"})
    assert error.value.code == "CONSENT_REQUIRED" and error.value.field == "contactId"
    assert messaging.drain() == 0


def test_an_opted_out_contact_gets_nothing_until_start(operator, subscriber, messaging, sandbox):
    ingest(inbound_text(subscriber.phone, "STOP"))
    messaging.drain()
    before = len(sandbox.sent)
    with pytest.raises(OptedOut) as error:
        send_sms(operator, {"contactId": subscriber.contact_id, "body": "but wait"})
    assert error.value.code == "OPTED_OUT" and error.value.field == "contactId" and "START" in error.value.message
    assert messaging.drain() == 0 and len(sandbox.sent) == before

    ingest(inbound_text(subscriber.phone, "start"))
    messaging.drain()
    send_sms(operator, {"contactId": subscriber.contact_id, "body": "welcome back"})
    assert messaging.drain() == 1 and sandbox.sent[-1]["body"] == "welcome back"


def test_a_contact_without_a_phone_cannot_be_texted(operator, messaging):
    contact = create_contact(operator, {"name": "Mail Only", "email": "mail.only@example.com"})
    with pytest.raises(ValidationError) as error:
        send_sms(operator, {"contactId": contact.contact_id, "body": "hi"})
    assert error.value.field == "contactId" and "phone" in error.value.message


def test_send_by_phone_number_and_unknown_numbers(operator, subscriber, messaging):
    sent = send_sms(operator, {"to": subscriber.phone, "body": "by number"})
    assert sent.contact_id == subscriber.contact_id and sent.address == subscriber.phone
    with pytest.raises(NotFound) as error:
        send_sms(operator, {"to": unique_phone(), "body": "who?"})
    assert error.value.field == "to"


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "body"),
        ({"body": ""}, "body"),
        ({"body": "   \n"}, "body"),
        ({"body": "x" * 1601}, "body"),
        ({"body": 42}, "body"),
        ({"body": "x", "colour": "red"}, "colour"),
        ({"body": "x", "contactId": None}, "contactId"),
    ],
)
def test_bad_requests_name_the_field_and_queue_nothing(operator, subscriber, messaging, sandbox, body, field):
    request = {"contactId": subscriber.contact_id, **body}
    with pytest.raises(ValidationError) as error:
        send_sms(operator, request)
    assert error.value.field == field
    assert messaging.drain() == 0 and not sandbox.sent
    assert not list(MessageModel.by_contact.query(subscriber.contact_id))


def test_the_longest_body_is_accepted(operator, subscriber, messaging):
    sent = send_sms(operator, {"contactId": subscriber.contact_id, "body": "x" * 1600})
    assert sent.segments == 11


def test_roles_hold_for_sending(viewer, subscriber, messaging):
    with pytest.raises(PermissionDenied):
        send_sms(viewer, {"contactId": subscriber.contact_id, "body": "x"})
    with pytest.raises(Unauthenticated):
        send_sms(Actor.anonymous(), {"contactId": subscriber.contact_id, "body": "x"})
    assert messaging.drain() == 0


def _post(body) -> ApiRequest:
    return ApiRequest(method="POST", raw_body=json.dumps(body).encode())


def test_the_endpoint_answers_202_with_the_message_and_maps_errors(operator, viewer, subscriber, messaging):
    response = invoke(sms_api.send_sms, operator, _post({"contactId": subscriber.contact_id, "body": "€10 off"}))
    assert response.status == 202
    assert response.body["segments"] == 1 and response.body["channel"] == "sms" and response.body["status"] == "PENDING"
    assert invoke(sms_api.send_sms, viewer, _post({"contactId": subscriber.contact_id, "body": "x"})).status == 403
    assert invoke(sms_api.send_sms, Actor.anonymous(), _post({"contactId": subscriber.contact_id, "body": "x"})).status == 401
    bad = invoke(sms_api.send_sms, operator, _post({"contactId": subscriber.contact_id, "body": ""}))
    assert bad.status == 422 and bad.body["error"]["field"] == "body"
    assert messaging.drain() == 1


# ---------------------------------------------------------------- outbox outcomes through the sandbox


@pytest.mark.parametrize("phone", ["+447911230000"])
def test_a_permanent_error_fails_the_message_at_once(operator, messaging, sandbox, phone):
    contact = create_contact(operator, {"name": "Bad Number", "phone": phone, "optInSms": True})
    sent = send_sms(operator, {"contactId": contact.contact_id, "body": "hello"})
    messaging.drain()
    row = MessageModel.get(sent.message_id)
    assert (row.status, row.errorCode, int(row.attempts)) == ("FAILED", "INVALID_NUMBER", 1)


@pytest.mark.parametrize("phone, code", [("+447911230429", "THROTTLED"), ("+447911230500", "PROVIDER_UNAVAILABLE")])
def test_retryable_errors_retry_then_dead_letter(operator, messaging, sandbox, phone, code):
    contact = create_contact(operator, {"name": "Busy", "phone": phone, "optInSms": True})
    sent = send_sms(operator, {"contactId": contact.contact_id, "body": "hello"})
    messaging.drain()
    row = MessageModel.get(sent.message_id)
    assert (row.status, row.errorCode, int(row.attempts)) == ("DEAD", code, get_settings().send_attempts)
    entry = DLQMessageModel.get(f"sms#{sent.message_id}")
    assert entry.queue == "sms" and entry.payload["request"] == {"body": "hello", "messageType": "TRANSACTIONAL"}


def test_the_live_request_shape_through_the_outbox(operator, subscriber, messaging, monkeypatch):
    monkeypatch.setattr(get_settings(), "sms_configuration_set", "wecare-sms-events")
    client = boto3.client("pinpoint-sms-voice-v2", region_name="us-east-1")
    providers.SMS.use(AwsSmsProvider(client=client))
    sent = send_sms(operator, {"contactId": subscriber.contact_id, "body": "Live shape"})
    with Stubber(client) as stub:
        stub.add_response("send_text_message", {"MessageId": "5e4f0a1c-0000-4000-8000-000000000001"}, {
            "DestinationPhoneNumber": subscriber.phone, "OriginationIdentity": "sandbox-sms-origination",
            "MessageBody": "Live shape", "MessageType": "TRANSACTIONAL",
            "ConfigurationSetName": "wecare-sms-events", "Context": {"wecareMessageId": sent.message_id}})
        messaging.drain()
        stub.assert_no_pending_responses()
    row = MessageModel.get(sent.message_id)
    assert row.status == "ACCEPTED" and row.providerMessageId == "5e4f0a1c-0000-4000-8000-000000000001"


# ---------------------------------------------------------------- inbound


def test_a_customer_text_is_stored_once_even_when_redelivered(operator, messaging):
    phone = unique_phone()
    message = inbound_text(phone, "Is my order on its way?", inbound_id="cae173d2-66b9-564c-8309-21f858e9fb84")
    first = ingest(message)
    again = ingest(message)
    assert (first["stored"], first["duplicates"]) == (1, 0)
    assert (again["stored"], again["duplicates"]) == (0, 1)
    row = MessageModel.get(inbound_message_id("sms", "cae173d2-66b9-564c-8309-21f858e9fb84"))
    assert (row.channel, row.direction, row.status, row.body, row.address) == (
        "sms", "inbound", "RECEIVED", "Is my order on its way?", phone)
    assert row.sender == OUR_NUMBER
    contact = ContactModel.get(row.contactId)
    assert contact.phone == phone and contact.name == phone  # a new number becomes a contact
    assert int(contact.unreadCount) == 1 and contact.lastChannel == "sms" and contact.lastDirection == "inbound"
    assert len(list(MessageModel.by_contact.query(contact.contactId))) == 1
    assert messaging.drain() == 0  # an ordinary text is not answered automatically


def test_a_text_from_a_known_contact_lands_in_their_conversation(operator, subscriber, messaging):
    ingest(inbound_text(subscriber.phone, "thanks"), inbound_text(subscriber.phone, "see you"))
    rows = list(MessageModel.by_contact.query(subscriber.contact_id))
    assert sorted(r.body for r in rows) == ["see you", "thanks"]
    assert int(ContactModel.get(subscriber.contact_id).unreadCount) == 2


def test_stop_opts_out_audited_and_confirmed_once(operator, subscriber, messaging, sandbox):
    stop = inbound_text(subscriber.phone, " Stop. ")
    report = ingest(stop)
    assert report["consentChanges"] == 1
    contact = ContactModel.get(subscriber.contact_id)
    assert contact.optInSms is False and contact.consent.sms.optedIn is False
    assert contact.consent.sms.source == "SMS keyword STOP."
    assert contact.optInWhatsApp is False and contact.consent.whatsapp is None  # other channels untouched
    (audit,) = [e for e in resource_history("contact", subscriber.contact_id) if e.action == "contact.consent"]
    assert audit.changed_fields == ["optInSms"] and audit.details["optedIn"] is False
    assert audit.actor_id == "system:sms-inbound"

    assert messaging.drain() == 1  # the confirmation goes out although the contact just opted out
    (confirmation,) = sends_to(sandbox, subscriber.phone)
    assert "unsubscribed" in confirmation["body"] and "START" in confirmation["body"]

    again = ingest(stop)
    assert again["duplicates"] == 1 and again["consentChanges"] == 0
    assert messaging.drain() == 0 and len(sends_to(sandbox, subscriber.phone)) == 1


@pytest.mark.parametrize("word", ["UNSUBSCRIBE", "cancel", "Arrêt", "quit"])
def test_every_carrier_opt_out_word_works(operator, subscriber, messaging, word):
    ingest(inbound_text(subscriber.phone, word))
    assert ContactModel.get(subscriber.contact_id).optInSms is False


def test_start_opts_back_in_and_is_confirmed(operator, messaging, sandbox):
    phone = unique_phone()
    contact = create_contact(operator, {"name": "Returning", "phone": phone})
    ingest(inbound_text(phone, "START"))
    row = ContactModel.get(contact.contact_id)
    assert row.optInSms is True and row.consent.sms.optedIn is True
    messaging.drain()
    assert "subscribed" in sends_to(sandbox, phone)[0]["body"]
    send_sms(operator, {"contactId": contact.contact_id, "body": "now allowed"})


def test_help_is_answered_without_a_consent_change(operator, subscriber, messaging, sandbox):
    report = ingest(inbound_text(subscriber.phone, "help"))
    assert report["stored"] == 1 and report["consentChanges"] == 0
    assert ContactModel.get(subscriber.contact_id).optInSms is True
    messaging.drain()
    (answer,) = sends_to(sandbox, subscriber.phone)
    assert "STOP" in answer["body"] and "WECARE.DIGITAL" in answer["body"]
    assert ingest(inbound_text(subscriber.phone, "HELP"))["stored"] == 1  # a new HELP is a new message…
    assert messaging.drain() == 1  # …and answered again


def test_help_is_answered_even_after_stop(operator, subscriber, messaging, sandbox):
    ingest(inbound_text(subscriber.phone, "STOP"))
    ingest(inbound_text(subscriber.phone, "HELP"))
    messaging.drain()
    bodies = [s["body"] for s in sends_to(sandbox, subscriber.phone)]
    assert len(bodies) == 2 and "STOP" in bodies[1]
    assert ContactModel.get(subscriber.contact_id).optInSms is False


def test_stop_survives_a_concurrent_edit_of_the_contact(operator, subscriber, messaging, monkeypatch):
    """The keyword transaction is versioned: an edit in between makes it retry on the fresh row."""
    import backend.services.channels.sms.inbound as inbound_sms

    resolve = inbound_sms._resolve_sender

    def resolve_then_edit(sms):
        contact = resolve(sms)
        update_contact(operator, subscriber.contact_id, {"tags": ["vip"]})
        return contact

    monkeypatch.setattr(inbound_sms, "_resolve_sender", resolve_then_edit)
    ingest(inbound_text(subscriber.phone, "STOP"))
    row = ContactModel.get(subscriber.contact_id)
    assert row.optInSms is False and row.tags == {"vip"}


# ---------------------------------------------------------------- delivery events


def test_failure_events_record_the_event_type(operator, subscriber, messaging):
    sent = send_sms(operator, {"contactId": subscriber.contact_id, "body": "x"})
    messaging.drain()
    provider_id = MessageModel.get(sent.message_id).providerMessageId
    report = ingest(delivery(provider_id, "TEXT_CARRIER_UNREACHABLE", description="Carrier is unreachable"))
    assert report["statusesApplied"] == 1
    row = MessageModel.get(sent.message_id)
    assert (row.status, row.errorCode, row.errorMessage) == ("FAILED", "TEXT_CARRIER_UNREACHABLE", "Carrier is unreachable")
    assert ingest(delivery(provider_id, "TEXT_DELIVERED"))["statusesIgnored"] == 1  # FAILED is final
    assert MessageModel.get(sent.message_id).status == "FAILED"


def test_an_event_finds_its_message_by_our_context_id(operator, subscriber, messaging, sandbox):
    """The worker died after AWS took the text but before it recorded the provider id."""
    sent = send_sms(operator, {"contactId": subscriber.contact_id, "body": "x"})
    MessageModel(messageId=sent.message_id).update(actions=[MessageModel.status.set("SENDING")])
    report = ingest(delivery("9539975a-e71f-45f3-b496-8d98dc098a77", "TEXT_SUCCESSFUL", our_id=sent.message_id))
    assert report["statusesApplied"] == 1
    row = MessageModel.get(sent.message_id)
    assert row.status == "SENT" and row.providerMessageId == "9539975a-e71f-45f3-b496-8d98dc098a77"
    assert messaging.drain() == 1 and MessageModel.get(sent.message_id).status == "SENT"
    assert sandbox.sent == []  # the queued record finds it no longer PENDING: not sent (again)


def test_events_that_move_nothing_are_ignored(operator, subscriber, messaging):
    sent = send_sms(operator, {"contactId": subscriber.contact_id, "body": "x"})
    messaging.drain()
    provider_id = MessageModel.get(sent.message_id).providerMessageId
    report = ingest(delivery(provider_id, "TEXT_PENDING"), delivery(str(uuid.uuid4()), "TEXT_DELIVERED"))
    assert (report["statusesApplied"], report["statusesIgnored"]) == (0, 2)
    assert MessageModel.get(sent.message_id).status == "ACCEPTED"


def test_poison_records_are_rejected_without_blocking_the_batch(operator, messaging):
    phone = unique_phone()
    event = sns_event("not json", json.dumps({"eventType": "TEXT_DELIVERED"}), inbound_text(phone, "still here"))
    event["Records"].append({"Sns": {}})
    report = handle_sns("sms", event)
    assert report["stored"] == 1 and len(report["rejected"]) == 3
    assert "Message: not valid JSON" in report["rejected"][0]
    assert "messageId" in report["rejected"][1]
    assert "Sns.Message" in report["rejected"][2]


def test_an_unexpected_failure_asks_for_a_redelivery_after_the_rest(operator, messaging, monkeypatch):
    import dataclasses

    from backend.services.rules.channels import Channel
    from backend.services.channels.registry import REGISTRY

    real = REGISTRY[Channel.SMS].ingest

    def flaky(message, published_at):
        if "boom" in message:
            raise RuntimeError("table unavailable")
        return real(message, published_at)

    monkeypatch.setitem(REGISTRY, Channel.SMS, dataclasses.replace(REGISTRY[Channel.SMS], ingest=flaky))
    phone = unique_phone()
    with pytest.raises(RuntimeError, match="SNS will redeliver"):
        handle_sns("sms", sns_event(inbound_text(phone, "boom"), inbound_text(phone, "fine")))
    assert [r.body for r in MessageModel.scan()] == ["fine"]  # the other record went through


# ---------------------------------------------------------------- parsing


def test_the_documented_event_parses():
    event = parse_sms_sns_message(json.dumps({
        "eventType": "TEXT_SUCCESSFUL", "eventVersion": "1.0", "eventTimestamp": 1686975103470, "isFinal": True,
        "originationPhoneNumber": "+12065550152", "destinationPhoneNumber": "+14255550156", "isoCountryCode": "US",
        "mcc": "310", "mnc": "800", "messageId": "862a8790-60c0-4430-9b2b-658bdexample",
        "messageRequestTimestamp": 1686975103170, "messageEncoding": "GSM", "messageType": "PROMOTIONAL",
        "messageStatus": "SUCCESSFUL", "messageStatusDescription": "Message has been accepted by phone carrier",
        "context": {"account": "bar"}, "totalMessageParts": 1, "totalMessagePrice": 0.09582, "totalCarrierFee": 0.0,
    }))
    assert isinstance(event, SmsDeliveryEvent)
    assert (event.provider_message_id, event.status, event.message_id, event.parts) == (
        "862a8790-60c0-4430-9b2b-658bdexample", "SENT", None, 1)
    assert event.at.isoformat() == "2023-06-17T04:11:43.470000+00:00" and event.error_code is None


def test_the_documented_inbound_payload_parses():
    sms = parse_sms_sns_message({
        "originationNumber": "+14255550182", "destinationNumber": "+12125550101", "messageKeyword": "JOIN",
        "messageBody": "EXAMPLE", "inboundMessageId": "cae173d2-66b9-564c-8309-21f858e9fb84",
        "previousPublishedMessageId": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    })
    assert isinstance(sms, InboundSms)
    assert (sms.from_phone, sms.to_phone, sms.body, sms.keyword) == ("+14255550182", "+12125550101", "EXAMPLE", "JOIN")
    assert sms.previous_message_id == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" and sms.received_at.tzinfo


@pytest.mark.parametrize("event_type", sorted(FAILED_EVENTS))
def test_failure_event_types_map_to_failed(event_type):
    event = parse_sms_sns_message(delivery("p-1", event_type, description="why"))
    assert (event.status, event.error_code, event.error_detail) == ("FAILED", event_type, "why")


@pytest.mark.parametrize("event_type, status", [("TEXT_QUEUED", "SENT"), ("TEXT_SUCCESSFUL", "SENT"),
                                                ("TEXT_DELIVERED", "DELIVERED"), ("TEXT_PENDING", None),
                                                ("VOICE_COMPLETED", None)])
def test_other_event_types(event_type, status):
    assert parse_sms_sns_message(delivery("p-1", event_type)).status == status


@pytest.mark.parametrize(
    "message, field",
    [
        ("{", "Message"),
        ("[]", "Message"),
        (json.dumps({"hello": 1}), "eventType"),
        (json.dumps({"eventType": "TEXT_DELIVERED", "eventTimestamp": 1}), "messageId"),
        (json.dumps({"eventType": "", "messageId": "m"}), "eventType"),
        (json.dumps({"eventType": "TEXT_DELIVERED", "messageId": "m", "eventTimestamp": "yesterday"}), "eventTimestamp"),
        (json.dumps({"inboundMessageId": "i", "messageBody": "x"}), "originationNumber"),
        (json.dumps({"inboundMessageId": "i", "originationNumber": "not a number", "messageBody": "x"}), "originationNumber"),
        (json.dumps({"inboundMessageId": "i", "originationNumber": "+447400123456"}), "messageBody"),
        (json.dumps({"inboundMessageId": "", "originationNumber": "+447400123456", "messageBody": "x"}), "inboundMessageId"),
    ],
)
def test_malformed_messages_name_the_field(message, field):
    with pytest.raises(MalformedEvent) as error:
        parse_sms_sns_message(message)
    assert error.value.field == field and error.value.code == "MALFORMED_EVENT"


def test_a_foreign_context_id_is_not_taken_for_ours():
    event = parse_sms_sns_message(delivery("p-1", "TEXT_DELIVERED", our_id="not-one-of-ours"))
    assert event.message_id is None


# ---------------------------------------------------------------- the sandbox


@pytest.fixture
def sandbox_settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path, sandbox_latency_ms=0, sandbox_failure_rate=0.0,
                    sms_origination_identity="+12065550152")


def _send(provider: SmsProvider, to: str = "+447400123456", body: str = "Hello", message_id: str = "a" * 32) -> str:
    return provider.send_text(to, body, origination="+12065550152", message_type="TRANSACTIONAL",
                              configuration_set=None, message_id=message_id)


def test_the_sandbox_publishes_successful_then_delivered(sandbox_settings, tmp_path):
    events: list[str] = []
    provider = SandboxSmsProvider(sandbox_settings, on_event=events.append)
    provider_id = _send(provider, body="Ünïcode 😀")
    wait_for(lambda: len(events) == 2)
    first, second = (json.loads(e) for e in events)
    assert (first["eventType"], first["messageStatus"], first["isFinal"]) == ("TEXT_SUCCESSFUL", "SUCCESSFUL", False)
    assert (second["eventType"], second["messageStatus"], second["isFinal"]) == ("TEXT_DELIVERED", "DELIVERED", True)
    for event in (first, second):
        assert event["messageId"] == provider_id and event["context"] == {"wecareMessageId": "a" * 32}
        assert event["destinationPhoneNumber"] == "+447400123456" and event["originationPhoneNumber"] == "+12065550152"
        assert event["messageEncoding"] == "UCS2" and event["totalMessageParts"] == 1
        assert event["isoCountryCode"] == "GB" and event["messageType"] == "TRANSACTIONAL"
        assert isinstance(event["eventTimestamp"], int) and event["eventTimestamp"] > 1_600_000_000_000
    assert [parse_sms_sns_message(e).status for e in events] == ["SENT", "DELIVERED"]
    (line,) = (tmp_path / "sandbox" / "sms-sends.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["provider_message_id"] == provider_id and json.loads(line)["body"] == "Ünïcode 😀"


def test_sandbox_events_drive_the_message_to_delivered(operator, subscriber, messaging):
    events: list[str] = []
    providers.SMS.set_sink(events.append)  # collected here, ingested on this thread (moto is not thread-safe)
    sent = send_sms(operator, {"contactId": subscriber.contact_id, "body": "tracked"})
    messaging.drain()
    wait_for(lambda: len(events) == 2)
    report = ingest(*events)
    assert report["statusesApplied"] == 2
    row = MessageModel.get(sent.message_id)
    assert row.status == "DELIVERED" and [s.status for s in row.statusHistory] == ["PENDING", "ACCEPTED", "SENT", "DELIVERED"]


@pytest.mark.parametrize(
    "to, code, retryable",
    [("+447911230000", "INVALID_NUMBER", False), ("+447911230429", "THROTTLED", True),
     ("+447911230500", "PROVIDER_UNAVAILABLE", True), ("not-a-number", "INVALID_REQUEST", False)],
)
def test_the_sandbox_fails_on_cue(sandbox_settings, to, code, retryable):
    provider = SandboxSmsProvider(sandbox_settings)
    with pytest.raises(ProviderError) as error:
        _send(provider, to=to)
    assert (error.value.code, error.value.retryable) == (code, retryable)
    assert provider.sent == []


@pytest.mark.parametrize("code, expected", [("throttled", "THROTTLED"), ("server", "PROVIDER_UNAVAILABLE"),
                                            ("invalid_number", "INVALID_NUMBER")])
def test_the_sandbox_failure_rate(tmp_path, code, expected):
    settings = Settings(data_dir=tmp_path, sandbox_failure_rate=1.0, sandbox_failure_code=code)
    with pytest.raises(ProviderError) as error:
        _send(SandboxSmsProvider(settings, rng=random.Random(7)))
    assert error.value.code == expected


def test_the_sandbox_accepted_then_failed_case(tmp_path):
    events: list[str] = []
    settings = Settings(data_dir=tmp_path, sandbox_latency_ms=0, sandbox_failure_rate=1.0, sandbox_failure_code="131047")
    _send(SandboxSmsProvider(settings, on_event=events.append))
    wait_for(lambda: len(events) == 1)
    event = parse_sms_sns_message(events[0])
    assert (event.status, event.error_code) == ("FAILED", "TEXT_UNREACHABLE")


def test_the_sandbox_refuses_an_unknown_failure_code(tmp_path):
    with pytest.raises(ValueError):
        SandboxSmsProvider(Settings(data_dir=tmp_path, sandbox_failure_code="fax"))


def test_the_sandbox_records_sends_from_many_threads(sandbox_settings):
    provider = SandboxSmsProvider(sandbox_settings)
    threads = [threading.Thread(target=lambda i=i: _send(provider, body=f"m{i}")) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(s["body"] for s in provider.sent) == sorted(f"m{i}" for i in range(20))


def test_sandbox_inbound_texts_have_the_two_way_shape(operator, messaging, sandbox_settings):
    received: list[str] = []
    provider = SandboxSmsProvider(sandbox_settings)
    provider_id = _send(provider, to="+447400123456")
    provider.on_event = received.append  # after the send: only inbound texts arrive here
    inbound_id = provider.emit_inbound("+447400123456", "stop")
    payload = json.loads(received[-1])
    assert set(payload) == {"originationNumber", "destinationNumber", "messageKeyword", "messageBody",
                            "inboundMessageId", "previousPublishedMessageId"}
    assert (payload["originationNumber"], payload["destinationNumber"]) == ("+447400123456", "+12065550152")
    assert payload["messageKeyword"] == "STOP" and payload["inboundMessageId"] == inbound_id
    assert payload["previousPublishedMessageId"] == provider_id
    provider.emit_inbound("+447911999999", "hello")
    assert json.loads(received[-1])["messageKeyword"].startswith("KEYWORD_")
    assert json.loads(received[-1])["previousPublishedMessageId"] is None

    report = ingest(received[0])
    assert report["stored"] == 1 and report["consentChanges"] == 1
    row = MessageModel.get(inbound_message_id("sms", inbound_id))
    assert row.replyTo == provider_id and ContactModel.get(row.contactId).optInSms is False


def test_emit_inbound_needs_a_sink(sandbox_settings):
    with pytest.raises(RuntimeError):
        SandboxSmsProvider(sandbox_settings).emit_inbound("+447400123456", "hi")


def test_close_cancels_pending_events(tmp_path):
    events: list[str] = []
    provider = SandboxSmsProvider(Settings(data_dir=tmp_path, sandbox_latency_ms=5000), on_event=events.append)
    _send(provider)
    provider.close()
    time.sleep(0.05)
    assert events == []


# ---------------------------------------------------------------- AWS and dry run


@pytest.fixture
def aws(sandbox_settings):
    client = boto3.client("pinpoint-sms-voice-v2", region_name="us-east-1")
    with Stubber(client) as stub:
        yield AwsSmsProvider(client=client, settings=sandbox_settings), stub
        stub.assert_no_pending_responses()


def test_aws_send_text_message_request_shape(aws):
    provider, stub = aws
    stub.add_response("send_text_message", {"MessageId": "862a8790-60c0-4430-9b2b-658bdexample"}, {
        "DestinationPhoneNumber": "+447400123456", "OriginationIdentity": "pool-0123456789abcdef",
        "MessageBody": "Code 123456 — valid 10 min", "MessageType": "TRANSACTIONAL",
        "ConfigurationSetName": "wecare-sms-events", "Context": {"wecareMessageId": "b" * 32}})
    provider_id = provider.send_text("+447400123456", "Code 123456 — valid 10 min", origination="pool-0123456789abcdef",
                                     message_type="TRANSACTIONAL", configuration_set="wecare-sms-events",
                                     message_id="b" * 32)
    assert provider_id == "862a8790-60c0-4430-9b2b-658bdexample"


def test_aws_request_without_a_configuration_set(aws):
    provider, stub = aws
    stub.add_response("send_text_message", {"MessageId": "m-2"}, {
        "DestinationPhoneNumber": "+447400123456", "OriginationIdentity": "+12065550152", "MessageBody": "Hello",
        "MessageType": "TRANSACTIONAL", "Context": {"wecareMessageId": "a" * 32}})
    assert _send(provider) == "m-2"


@pytest.mark.parametrize(
    "aws_code, status, modeled, code, retryable",
    [
        ("ThrottlingException", 400, None, "THROTTLED", True),
        ("InternalServerException", 500, None, "PROVIDER_UNAVAILABLE", True),
        ("ValidationException", 400, {"Reason": "INVALID_PARAMETER"}, "INVALID_REQUEST", False),
        ("AccessDeniedException", 400, {"Reason": "ACCOUNT_DISABLED"}, "ACCESS_DENIED", False),
        ("ResourceNotFoundException", 400, None, "NOT_FOUND", False),
        ("ConflictException", 400, {"Reason": "DESTINATION_PHONE_NUMBER_OPTED_OUT"}, "OPTED_OUT", False),
        ("ConflictException", 400, {"Reason": "RESOURCE_NOT_ACTIVE"}, "INVALID_REQUEST", False),
        ("ServiceQuotaExceededException", 400, {"Reason": "MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT"}, "QUOTA_EXCEEDED", True),
    ],
)
def test_aws_errors_are_classified(aws, aws_code, status, modeled, code, retryable):
    provider, stub = aws
    stub.add_client_error("send_text_message", service_error_code=aws_code, service_message="nope (sandbox test)",
                          http_status_code=status, modeled_fields=modeled)
    with pytest.raises(ProviderError) as error:
        _send(provider)
    assert (error.value.code, error.value.retryable) == (code, retryable)
    assert aws_code in error.value.message and "Hello" not in error.value.message


def test_aws_connection_failures_are_retryable(sandbox_settings):
    class Unreachable:
        def send_text_message(self, **params):
            raise EndpointConnectionError(endpoint_url="https://sms-voice.us-east-1.amazonaws.com")

    with pytest.raises(ProviderError) as error:
        _send(AwsSmsProvider(client=Unreachable(), settings=sandbox_settings))
    assert (error.value.code, error.value.retryable) == ("PROVIDER_UNAVAILABLE", True)


def test_the_dry_run_records_the_live_request_and_logs_no_body(sandbox_settings, caplog):
    provider = DryRunSmsProvider(sandbox_settings)
    with caplog.at_level(logging.INFO, logger="backend.adapters.channels.sms"):
        provider_id = _send(provider, body="Your code is 482913")
    assert provider_id.startswith("dryrun.")
    (recorded,) = provider.recorded
    assert recorded == {"operation": "send_text_message", "params": text_message_request(
        "+447400123456", "Your code is 482913", origination="+12065550152", message_type="TRANSACTIONAL",
        configuration_set=None, message_id="a" * 32)}
    assert "482913" not in caplog.text and "+447400123456" not in caplog.text and "…3456" in caplog.text


def test_the_factory_follows_the_send_mode(tmp_path):
    for mode, kind in ((SendMode.SANDBOX, SandboxSmsProvider), (SendMode.DRY_RUN, DryRunSmsProvider),
                       (SendMode.LIVE, AwsSmsProvider)):
        providers.reset_providers()
        provider = providers.SMS.get(Settings(data_dir=tmp_path, send_mode=mode))
        assert isinstance(provider, kind) and isinstance(provider, SmsProvider)
        assert providers.SMS.get() is provider  # cached per process


def test_the_sink_reaches_a_sandbox_already_built(tmp_path):
    provider = providers.SMS.get(Settings(data_dir=tmp_path))
    sink = [].append
    providers.SMS.set_sink(sink)
    assert provider.on_event is sink
    providers.reset_providers()
    assert providers.SMS.get(Settings(data_dir=tmp_path)).on_event is None
