"""Voice calls: the rules and roles, a call's whole life through the outbox and the sandbox's SNS events,
statuses that never go backwards, the call log, and the AWS request pinned with Stubber."""
from __future__ import annotations

import dataclasses

import json
import random
import threading
import uuid
from datetime import timedelta

import boto3
import phonenumbers
import pytest
from botocore.stub import Stubber

from backend.adapters.channels import providers
from backend.adapters.channels.errors import ProviderError
from backend.adapters.channels.voice import (
    VOICE_IDS,
    AwsVoiceProvider,
    DryRunVoiceProvider,
    SandboxVoiceProvider,
    VoiceProvider,
    simulated_duration,
    voice_event,
)
from backend.api.http import ApiRequest, invoke
from backend.api.channel_door import handle_sns
from backend.services.rules.channels import Channel
from backend.services.channels.registry import REGISTRY
from backend.api.voice_api import get_call, list_calls, place_call
from backend.errors import ConsentRequired, NotFound, OptedOut, PermissionDenied, Unauthenticated, ValidationError
from backend.models.audit import AuditLogModel
from backend.models.base import utcnow
from backend.models.contact import ContactModel
from backend.models.messaging import DLQMessageModel, MessageModel
from backend.models.voice import VoiceCallModel
from backend.services.messaging import dlq
from backend.services.platform import system_config
from backend.services.channels.voice import calls as voice_calls
from backend.services.platform.access import Actor
from backend.services.contacts.contacts import create_contact, update_contact
from backend.services.channels.voice.events import call_id_for, record_call_status
from backend.settings import SendMode, get_settings
from tests.conftest import unique_phone
from tests.whatsapp_events import sns_event

TEXT = "Hello Sam, your appointment is tomorrow at ten. Reply to our message if you need to change it."


class EventLog:
    """A sandbox event sink that only records (the test thread applies the events: moto is not thread-safe)."""

    def __init__(self):
        self.events: list[str] = []
        self._changed = threading.Condition()

    def __call__(self, message: str) -> None:
        with self._changed:
            self.events.append(message)
            self._changed.notify_all()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[str]:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.events) >= count, timeout), self.events
            return list(self.events)


@pytest.fixture
def voice(messaging):
    """The voice sandbox with no latency, its events recorded, and room in the rate limit for many calls."""
    providers.reset_providers()
    log = EventLog()
    sandbox = SandboxVoiceProvider(get_settings().model_copy(update={"sandbox_latency_ms": 0}), on_event=log)
    providers.VOICE.use(sandbox)
    system_config.write("rateLimit.voice", {"perSecond": 1000, "burst": 1000}, updated_by="test")
    system_config.forget()
    yield sandbox, log
    providers.reset_providers()


def phone_ending(last_four: str) -> str:
    while True:
        candidate = f"+4479{random.randrange(10**4):04d}{last_four}"
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
            return candidate


def contact_with(operator, phone: str | None = None, **fields):
    """A contact who agreed to be called (optInVoice), unless `fields` say otherwise."""
    return create_contact(operator, {"name": "Sam Caller", "phone": phone or unique_phone(), "optInVoice": True, **fields})


def apply(*messages: str) -> dict:
    return handle_sns("voice", sns_event(*messages))


def call_row(call) -> VoiceCallModel:
    return VoiceCallModel.get(call.call_id, consistent_read=True)


def nothing_written(messaging) -> bool:
    return len(messaging.queue) == 0 and not list(MessageModel.scan()) and not list(VoiceCallModel.scan())


# ---------------------------------------------------------------- a call's life


def test_a_call_goes_out_once_and_follows_its_events_to_completed(operator, viewer, voice, messaging):
    sandbox, log = voice
    contact = contact_with(operator)
    call = voice_calls.place_call(operator, {"contactId": contact.contact_id, "text": TEXT, "voiceId": "matthew"})

    assert (call.status, call.to, call.voice_id, call.text_type) == ("queued", contact.phone, "MATTHEW", "TEXT")
    row = call_row(call)
    assert row.messageId and row.callId == call_id_for(row.messageId) and [e.status for e in row.events] == ["queued"]
    assert abs(row.expiresAt - row.startedAt - timedelta(days=90)) < timedelta(seconds=1) and row.day == row.startedAt.strftime("%Y-%m-%d")
    message = MessageModel.get(row.messageId)
    assert (message.channel, message.kind, message.status, message.body, message.address) == (
        "voice", "voice", "PENDING", TEXT, contact.phone)
    assert message.payload == {"text": TEXT, "textType": "TEXT", "voiceId": "MATTHEW", "callId": call.call_id}
    summary = ContactModel.get(contact.contact_id)
    assert (summary.lastChannel, summary.lastDirection, summary.lastPreview) == ("voice", "outbound", TEXT)
    audit, = AuditLogModel.query(f"voiceCall#{call.call_id}")
    assert audit.action == "voice.call" and audit.actorId == operator.user_id

    assert messaging.drain() == 1
    request = sandbox.sent[0]["params"]
    assert request == {"DestinationPhoneNumber": contact.phone, "OriginationIdentity": "sandbox-voice-origination",
                       "MessageBody": TEXT, "MessageBodyTextType": "TEXT", "VoiceId": "MATTHEW",
                       "Context": {"wecareMessageId": row.messageId}}
    provider_id = sandbox.sent[0]["provider_message_id"]
    assert MessageModel.get(row.messageId).status == "ACCEPTED" and call_row(call).providerMessageId == provider_id

    events = log.wait_for(4)
    assert [json.loads(e)["eventType"] for e in events] == ["VOICE_INITIATED", "VOICE_RINGING", "VOICE_ANSWERED",
                                                            "VOICE_COMPLETED"]
    assert apply(*events) == {"applied": 4, "ignored": 0, "skipped": 0, "rejected": []}

    done = voice_calls.get_call(viewer, call.call_id)
    assert done.status == "completed" and done.duration_seconds == simulated_duration(TEXT)
    assert [e.status for e in done.events] == ["queued", "initiated", "ringing", "answered", "completed"]
    assert done.answered_at and done.ended_at and done.provider_message_id == provider_id
    message = MessageModel.get(row.messageId)
    assert message.status == "DELIVERED"
    assert [s.status for s in message.statusHistory] == ["PENDING", "ACCEPTED", "SENT", "DELIVERED"]

    # late and repeated events change nothing: statuses never go backwards
    assert apply(events[1], events[0], events[3])["ignored"] == 3
    assert [e.status for e in call_row(call).events] == ["queued", "initiated", "ringing", "answered", "completed"]
    # and a redelivered queue record does not call again
    from backend.adapters.send_queue import lambda_handler, sqs_record

    lambda_handler("outbound-voice")({"Records": [sqs_record(row.messageId, receive_count=2)]}, None)
    assert len(sandbox.sent) == 1


@pytest.mark.parametrize("last_four, status, code", [("0486", "busy", "BUSY"), ("0487", "no-answer", "NO_ANSWER")])
def test_busy_and_unanswered_calls_fail_their_message_with_the_reason(operator, voice, messaging, last_four, status, code):
    _, log = voice
    call = voice_calls.place_call(operator, {"contactId": contact_with(operator, phone_ending(last_four)).contact_id,
                                             "text": TEXT})
    messaging.drain()
    events = log.wait_for(3)
    assert json.loads(events[-1])["eventType"] == f"VOICE_{code}"
    apply(*events)
    row = call_row(call)
    assert (row.status, row.errorCode, row.durationSeconds, row.answeredAt) == (status, code, None, None)
    assert row.endedAt and [e.status for e in row.events] == ["queued", "initiated", "ringing", status]
    message = MessageModel.get(row.messageId)
    assert (message.status, message.errorCode) == ("FAILED", code) and message.errorMessage


def test_events_out_of_order_never_move_a_call_backwards(operator, voice, messaging):
    sandbox, log = voice
    call = voice_calls.place_call(operator, {"contactId": contact_with(operator).contact_id, "text": TEXT})
    messaging.drain()
    initiated, ringing, answered, completed = log.wait_for(4)
    assert apply(answered)["applied"] == 1
    assert apply(ringing, initiated)["ignored"] == 2
    assert call_row(call).status == "answered"
    assert apply(completed)["applied"] == 1
    assert apply(voice_event("BUSY", provider_message_id=sandbox.sent[0]["provider_message_id"], to=call.to,
                             origination="+15555550199", requested_ms=0,
                             context={"wecareMessageId": call_row(call).messageId}))["ignored"] == 1
    row = call_row(call)
    assert row.status == "completed" and row.errorCode is None
    assert [e.status for e in row.events] == ["queued", "answered", "completed"]
    assert MessageModel.get(row.messageId).status == "DELIVERED"


def test_an_event_without_our_context_finds_the_call_by_the_provider_id(operator, voice, messaging):
    sandbox, _ = voice
    call = voice_calls.place_call(operator, {"contactId": contact_with(operator).contact_id, "text": TEXT})
    messaging.drain()
    event = voice_event("COMPLETED", provider_message_id=sandbox.sent[0]["provider_message_id"], to=call.to,
                        origination="+15555550199", requested_ms=0, context={}, duration_seconds=42)
    assert apply(event)["applied"] == 1
    row = call_row(call)
    assert (row.status, row.durationSeconds) == ("completed", 42)
    assert row.endedAt - row.answeredAt == timedelta(seconds=42)  # answered before the 42 seconds it lasted


def test_poison_and_foreign_records_are_counted_and_never_block_the_rest(operator, voice, messaging):
    _, log = voice
    call = voice_calls.place_call(operator, {"contactId": contact_with(operator).contact_id, "text": TEXT})
    messaging.drain()
    initiated = log.wait_for(4)[0]
    sms = json.dumps({"eventType": "TEXT_DELIVERED", "messageId": "m-1"})
    unknown = voice_event("RINGING", provider_message_id=str(uuid.uuid4()), to=call.to, origination="+15555550199",
                          requested_ms=0, context={})
    event = sns_event("not json", sms, json.dumps({"eventType": "VOICE_RINGING"}), unknown, initiated)
    event["Records"].insert(0, {"EventSource": "aws:sns"})
    report = handle_sns("voice", event)
    assert (report["applied"], report["ignored"], report["skipped"], len(report["rejected"])) == (1, 1, 1, 3)
    assert call_row(call).status == "initiated"


def test_a_record_that_fails_for_another_reason_is_retried_after_the_rest(operator, voice, messaging, monkeypatch):
    _, log = voice
    call = voice_calls.place_call(operator, {"contactId": contact_with(operator).contact_id, "text": TEXT})
    messaging.drain()
    initiated, ringing, *_ = log.wait_for(4)
    real = REGISTRY[Channel.VOICE].ingest

    def table_down_for_ringing(message, published_at):
        if json.loads(message)["eventType"] == "VOICE_RINGING":
            raise RuntimeError("table unavailable")
        return real(message, published_at)

    monkeypatch.setitem(REGISTRY, Channel.VOICE, dataclasses.replace(REGISTRY[Channel.VOICE], ingest=table_down_for_ringing))
    with pytest.raises(RuntimeError, match="1 voice event"):
        apply(ringing, initiated)
    assert call_row(call).status == "initiated"  # the other record was applied


def test_a_completed_call_without_a_reported_duration_is_timed_by_its_events(operator, viewer, voice, messaging):
    sandbox, _ = voice
    call = voice_calls.place_call(operator, {"contactId": contact_with(operator).contact_id, "text": TEXT})
    messaging.drain()
    event = dict(provider_message_id=sandbox.sent[0]["provider_message_id"], to=call.to, origination="+15555550199",
                 requested_ms=0, context={"wecareMessageId": call_row(call).messageId})
    answered, completed = json.loads(voice_event("ANSWERED", **event)), json.loads(voice_event("COMPLETED", **event))
    completed["eventTimestamp"] = answered["eventTimestamp"] + 12_000
    apply(json.dumps(answered), json.dumps(completed))
    assert voice_calls.get_call(viewer, call.call_id).duration_seconds == 12


# ---------------------------------------------------------------- provider failures


def test_an_uncallable_number_fails_the_call_without_retrying(operator, voice, messaging):
    sandbox, log = voice
    call = voice_calls.place_call(operator, {"contactId": contact_with(operator, phone_ending("0000")).contact_id,
                                             "text": TEXT})
    assert messaging.drain() == 1
    row = call_row(call)
    assert (row.status, row.errorCode) == ("failed", "INVALID_NUMBER") and row.providerMessageId is None
    assert MessageModel.get(row.messageId).status == "FAILED" and sandbox.sent == [] and log.events == []


class Throttled:
    def __init__(self):
        self.calls = 0

    def send_voice(self, *args, **kwargs) -> str:
        self.calls += 1
        raise ProviderError("THROTTLED", "ThrottlingException: Rate exceeded", retryable=True)


def test_a_dead_lettered_call_fails_and_a_replay_brings_it_back_to_life(operator, admin, voice, messaging):
    sandbox, log = voice
    throttled = Throttled()
    providers.VOICE.use(throttled)
    call = voice_calls.place_call(operator, {"contactId": contact_with(operator).contact_id, "text": TEXT})
    messaging.drain()
    row = call_row(call)
    assert throttled.calls == get_settings().send_attempts
    assert (row.status, row.errorCode) == ("failed", "THROTTLED")
    assert MessageModel.get(row.messageId).status == "DEAD"

    providers.VOICE.use(sandbox)
    result, = dlq.replay(admin, {"dlqIds": [DLQMessageModel.get(f"voice#{row.messageId}").dlqId]})
    assert result.outcome == "replayed"
    messaging.drain()
    apply(*log.wait_for(4))
    row = call_row(call)
    assert row.status == "completed" and row.errorCode is None and row.providerMessageId
    assert [e.status for e in row.events] == ["queued", "failed", "queued", "initiated", "ringing", "answered",
                                              "completed"]


# ---------------------------------------------------------------- rules and roles


def test_an_sms_opt_out_means_do_not_call(operator, voice, messaging):
    contact = contact_with(operator, optInSms=True)
    update_contact(operator, contact.contact_id, {"optInSms": False})
    with pytest.raises(OptedOut) as error:
        voice_calls.place_call(operator, {"contactId": contact.contact_id, "text": TEXT})
    assert error.value.field == "contactId" and "opted out of SMS" in error.value.message
    assert nothing_written(messaging)
    # never having opted in is not an opt-out: it is no consent, and a call needs it like any other channel
    with pytest.raises(ConsentRequired, match=r"not opted in to voice \(optInVoice\)"):
        voice_calls.place_call(operator, {"contactId": contact_with(operator, optInVoice=False).contact_id, "text": TEXT})
    assert nothing_written(messaging)
    assert voice_calls.place_call(operator, {"contactId": contact_with(operator).contact_id, "text": TEXT}).status == "queued"


@pytest.mark.parametrize("change, field", [
    ({"to": "12"}, "to"),
    ({"to": "+44 20 7946 00"}, "to"),
    ({"voiceId": "HAL9000"}, "voiceId"),
    ({"text": "   "}, "text"),
    ({"text": ""}, "text"),
    ({"text": "<speak>Hello", "textType": "SSML"}, "text"),
    ({"text": '<speak><audio src="x.mp3"/></speak>', "textType": "SSML"}, "text"),
    ({"text": "word " * 700}, "text"),  # 3,499 spoken characters: over Polly's 3,000
    ({"text": "x" * 6001}, "text"),  # over SendVoiceMessage's 6,000
    ({"textType": "HTML"}, "textType"),
    ({"callerId": "+15555550100"}, "callerId"),
])
def test_bad_input_names_the_field_and_queues_nothing(operator, voice, messaging, change, field):
    request = {"to": unique_phone(), "text": TEXT, **change}
    with pytest.raises(ValidationError) as error:
        voice_calls.place_call(operator, request)
    assert error.value.field == field, error.value.message
    assert nothing_written(messaging)


def test_long_ssml_is_judged_by_what_it_says(operator, voice, messaging):
    contact = contact_with(operator)
    markup = "<speak>" + '<prosody rate="medium">word</prosody> ' * 140 + "</speak>"
    assert 3000 < len(markup) <= 6000
    call = voice_calls.place_call(operator, {"to": contact.phone, "text": markup, "textType": "SSML", "voiceId": "Joanna"})
    assert (call.contact_id, call.text_type, call.voice_id) == (contact.contact_id, "SSML", "JOANNA")
    assert MessageModel.get(call_row(call).messageId).body == " ".join(["word"] * 140)
    assert call.spoken == " ".join(["word"] * 140)  # the view carries the words, so pages need not parse SSML


def test_a_number_must_belong_to_a_contact_with_a_phone(operator, voice, messaging):
    with pytest.raises(NotFound) as error:
        voice_calls.place_call(operator, {"to": unique_phone(), "text": TEXT})
    assert error.value.field == "to"
    emailed = create_contact(operator, {"name": "Email Only", "email": "only@example.com"})
    with pytest.raises(ValidationError) as error:
        voice_calls.place_call(operator, {"contactId": emailed.contact_id, "text": TEXT})
    assert error.value.field == "contactId"
    with pytest.raises(ValidationError) as error:
        voice_calls.place_call(operator, {"text": TEXT})
    assert error.value.field == "contactId"
    assert nothing_written(messaging)


def test_the_default_voice_comes_from_the_settings(operator, voice, messaging):
    call = voice_calls.place_call(operator, {"contactId": contact_with(operator).contact_id, "text": TEXT})
    assert call.voice_id == get_settings().voice_default_voice_id == "JOANNA" and "JOANNA" in VOICE_IDS


def test_viewers_read_operators_place_and_strangers_do_neither(operator, viewer, voice, messaging):
    contact = contact_with(operator)
    body = json.dumps({"contactId": contact.contact_id, "text": TEXT}).encode()
    placed = invoke(place_call, operator, ApiRequest("POST", raw_body=body))
    assert placed.status == 202 and placed.body["status"] == "queued" and placed.body["to"] == contact.phone
    call_id = placed.body["callId"]

    assert invoke(place_call, viewer, ApiRequest("POST", raw_body=body)).status == 403
    assert invoke(place_call, Actor.anonymous(), ApiRequest("POST", raw_body=body)).status == 401
    with pytest.raises(PermissionDenied):
        voice_calls.place_call(viewer, {"contactId": contact.contact_id, "text": TEXT})

    one = invoke(get_call, viewer, ApiRequest("GET", path_params={"callId": call_id}))
    assert one.status == 200 and one.body["callId"] == call_id and one.body["events"][0]["status"] == "queued"
    listed = invoke(list_calls, viewer, ApiRequest("GET", query={"contactId": contact.contact_id}))
    assert listed.status == 200 and [c["callId"] for c in listed.body["items"]] == [call_id]
    assert invoke(list_calls, Actor.anonymous(), ApiRequest("GET")).status == 401
    assert invoke(get_call, viewer, ApiRequest("GET", path_params={"callId": "f" * 32})).status == 404
    assert invoke(get_call, viewer, ApiRequest("GET", path_params={"callId": "../etc"})).status == 404
    assert invoke(list_calls, viewer, ApiRequest("GET", query={"day": "yesterday"})).body["error"]["field"] == "day"
    with pytest.raises(Unauthenticated):
        voice_calls.get_call(Actor.anonymous(), call_id)


# ---------------------------------------------------------------- the call log


def test_the_call_log_pages_newest_first_and_filters(operator, viewer, voice, messaging):
    ann, bob = contact_with(operator), contact_with(operator)
    placed = [voice_calls.place_call(operator, {"contactId": c.contact_id, "text": f"Call {i}"})
              for i, c in enumerate([ann, bob, ann, bob, ann])]
    record_call_status(placed[2].call_id, "completed", utcnow(), duration_seconds=3)
    newest_first = [c.call_id for c in reversed(placed)]

    seen, token = [], None
    while True:
        page = voice_calls.list_calls(viewer, limit=2, next_token=token)
        seen += [c.call_id for c in page.items]
        if not (token := page.next_token):
            break
    assert seen == newest_first

    by_ann = voice_calls.list_calls(viewer, contact_id=ann.contact_id, limit=2)
    assert [c.call_id for c in by_ann.items] == newest_first[::2][:2]
    rest = voice_calls.list_calls(viewer, contact_id=ann.contact_id, limit=2, next_token=by_ann.next_token)
    assert [c.call_id for c in rest.items] == [placed[0].call_id]

    assert [c.call_id for c in voice_calls.list_calls(viewer, status="completed").items] == [placed[2].call_id]
    assert len(voice_calls.list_calls(viewer, status="queued", contact_id=bob.contact_id).items) == 2

    today = utcnow().date()
    assert len(voice_calls.list_calls(viewer, day=today.isoformat()).items) == 5
    assert voice_calls.list_calls(viewer, day=today - timedelta(days=1)).items == []

    with pytest.raises(ValidationError) as error:
        voice_calls.list_calls(viewer, status="completed", next_token=page.next_token or by_ann.next_token)
    assert error.value.field == "nextToken"
    for bad, field in (({"status": "ringing-ish"}, "status"), ({"limit": 0}, "limit"), ({"day": "2026-13-01"}, "day")):
        with pytest.raises(ValidationError) as error:
            voice_calls.list_calls(viewer, **bad)
        assert error.value.field == field


def test_a_filtered_call_log_request_reads_at_most_its_cap_and_pages_on(operator, viewer, voice, messaging, monkeypatch):
    """A status filter that matches little cannot make one request read every call in 90 days: it stops at
    the cap and hands back a token that reads on, so paging still finds every match exactly once."""
    ann = contact_with(operator)
    placed = [voice_calls.place_call(operator, {"contactId": ann.contact_id, "text": f"Call {i}"}) for i in range(5)]
    record_call_status(placed[0].call_id, "completed", utcnow(), duration_seconds=3)  # the oldest
    monkeypatch.setattr(voice_calls, "EXAMINE_MAX", 2)

    first = voice_calls.list_calls(viewer, status="completed")
    assert first.items == [] and first.next_token  # two read, none matched: go on
    found, token = [], first.next_token
    while token:
        page = voice_calls.list_calls(viewer, status="completed", next_token=token)
        found += [c.call_id for c in page.items]
        token = page.next_token
    assert found == [placed[0].call_id]


def test_the_log_reaches_back_over_days_and_skips_expired_calls(operator, viewer, voice, messaging):
    recent = voice_calls.place_call(operator, {"contactId": contact_with(operator).contact_id, "text": TEXT})
    long_ago = utcnow() - timedelta(days=40)
    for call_id, started, expires in (("a" * 32, long_ago, long_ago + timedelta(days=90)),
                                      ("b" * 32, long_ago, utcnow() - timedelta(minutes=1))):
        row = VoiceCallModel(callId=call_id, toNumber="+447700900123", status="completed", startedAt=started,
                             day=started.strftime("%Y-%m-%d"), events=[])
        row.expiresAt = expires
        row.save()
    assert [c.call_id for c in voice_calls.list_calls(viewer).items] == [recent.call_id, "a" * 32]
    with pytest.raises(NotFound):
        voice_calls.get_call(viewer, "b" * 32)


# ---------------------------------------------------------------- the providers


@pytest.fixture
def aws(tmp_path):
    client = boto3.client("pinpoint-sms-voice-v2", region_name="us-east-1")
    settings = get_settings().model_copy(update={"data_dir": tmp_path})
    with Stubber(client) as stub:
        yield AwsVoiceProvider(client=client, settings=settings), stub
        stub.assert_no_pending_responses()


def test_aws_request_shape_is_pinned(aws):
    provider, stub = aws
    ssml = "<speak>Hello <break time='1s'/> Sam</speak>"
    stub.add_response("send_voice_message", {"MessageId": "c0ffee00-0000-4000-8000-000000000001"}, {
        "DestinationPhoneNumber": "+447700900123",
        "OriginationIdentity": "pool-0123456789abcdef",
        "MessageBody": ssml,
        "MessageBodyTextType": "SSML",
        "VoiceId": "AMY",
        "ConfigurationSetName": "wecare-voice",
        "Context": {"wecareMessageId": "m" * 32},
    })
    stub.add_response("send_voice_message", {"MessageId": "c0ffee00-0000-4000-8000-000000000002"}, {
        "DestinationPhoneNumber": "+447700900123",
        "OriginationIdentity": "pool-0123456789abcdef",
        "MessageBody": "Hi",
        "MessageBodyTextType": "TEXT",
        "VoiceId": "BRIAN",
        "Context": {"wecareMessageId": "n" * 32},
    })
    assert isinstance(provider, VoiceProvider)
    assert provider.send_voice("+447700900123", ssml, text_type="SSML", voice_id="AMY",
                               origination="pool-0123456789abcdef", configuration_set="wecare-voice",
                               message_id="m" * 32) == "c0ffee00-0000-4000-8000-000000000001"
    assert provider.send_voice("+447700900123", "Hi", text_type="TEXT", voice_id="BRIAN",
                               origination="pool-0123456789abcdef", configuration_set=None,
                               message_id="n" * 32).endswith("0002")


@pytest.mark.parametrize("code, status, reason, ours, retryable", [
    ("ThrottlingException", 400, None, "THROTTLED", True),
    ("InternalServerException", 500, None, "PROVIDER_UNAVAILABLE", True),
    ("ValidationException", 400, "INVALID_PARAMETER", "INVALID_REQUEST", False),
    ("ValidationException", 400, "DESTINATION_COUNTRY_BLOCKED", "INVALID_NUMBER", False),
    ("ValidationException", 400, "VOICE_CAPABILITY_NOT_AVAILABLE", "INVALID_NUMBER", False),
    ("ConflictException", 400, "DESTINATION_PHONE_NUMBER_OPTED_OUT", "OPTED_OUT", False),
    ("ServiceQuotaExceededException", 400, "DAILY_DESTINATION_CALL_LIMIT", "QUOTA_EXCEEDED", True),
    ("ServiceQuotaExceededException", 400, "MONTHLY_SPEND_LIMIT_REACHED_FOR_VOICE", "QUOTA_EXCEEDED", True),
    ("AccessDeniedException", 403, "ACCOUNT_DISABLED", "ACCESS_DENIED", False),
])
def test_aws_errors_are_classified_for_the_outbox(aws, code, status, reason, ours, retryable):
    provider, stub = aws
    stub.add_client_error("send_voice_message", service_error_code=code, service_message="refused",
                          http_status_code=status, modeled_fields={"Reason": reason} if reason else None)
    with pytest.raises(ProviderError) as error:
        provider.send_voice("+447700900123", "Hi", text_type="TEXT", voice_id="AMY", origination="o",
                            configuration_set=None, message_id="m")
    assert (error.value.code, error.value.retryable) == (ours, retryable)


def test_dry_run_records_the_live_request_and_calls_nothing(tmp_path):
    provider = DryRunVoiceProvider(get_settings().model_copy(update={"data_dir": tmp_path}))
    provider_id = provider.send_voice("+447700900123", "Hi", text_type="TEXT", voice_id="AMY", origination="o",
                                      configuration_set="set", message_id="m")
    assert provider_id.startswith("dryrun.")
    assert provider.recorded == [{"operation": "send_voice_message", "params": {
        "DestinationPhoneNumber": "+447700900123", "OriginationIdentity": "o", "MessageBody": "Hi",
        "MessageBodyTextType": "TEXT", "VoiceId": "AMY", "Context": {"wecareMessageId": "m"},
        "ConfigurationSetName": "set"}}]


def test_sandbox_records_calls_and_publishes_events_in_the_aws_shape(tmp_path):
    log = EventLog()
    settings = get_settings().model_copy(update={"data_dir": tmp_path, "sandbox_latency_ms": 0})
    sandbox = SandboxVoiceProvider(settings, on_event=log)
    provider_id = sandbox.send_voice("+447700900123", TEXT, text_type="TEXT", voice_id="AMY",
                                     origination="sandbox-voice-origination", configuration_set=None, message_id="m1")
    events = [json.loads(e) for e in log.wait_for(4)]
    assert [(e["eventType"], e["messageStatus"], e["isFinal"]) for e in events] == [
        ("VOICE_INITIATED", "INITIATED", False), ("VOICE_RINGING", "RINGING", False),
        ("VOICE_ANSWERED", "ANSWERED", False), ("VOICE_COMPLETED", "COMPLETED", True)]
    completed = events[-1]
    assert {"eventVersion", "eventTimestamp", "originationPhoneNumber", "destinationPhoneNumber", "isoCountryCode",
            "messageId", "messageRequestTimestamp", "messageStatusDescription", "context"} <= set(completed)
    assert completed["messageId"] == provider_id and completed["context"] == {"wecareMessageId": "m1"}
    assert (completed["destinationPhoneNumber"], completed["isoCountryCode"]) == ("+447700900123", "GB")
    words = len(TEXT.split())  # 18 words: about 7 seconds at 150 a minute, plus the pick-up
    assert completed["callDurationInSeconds"] == simulated_duration(TEXT) == 1 + -(-words * 60 // 150)
    assert completed["totalDurationRoundedToMinutes"] == 1
    line, = (tmp_path / "sandbox" / "voice-calls.jsonl").read_text().splitlines()
    assert json.loads(line)["params"]["MessageBody"] == TEXT and sandbox.sent[0]["provider_message_id"] == provider_id


@pytest.mark.parametrize("last_four, code, retryable", [
    ("0000", "INVALID_NUMBER", False), ("0429", "THROTTLED", True), ("0500", "PROVIDER_UNAVAILABLE", True)])
def test_sandbox_numbers_force_provider_errors(tmp_path, last_four, code, retryable):
    sandbox = SandboxVoiceProvider(get_settings().model_copy(update={"data_dir": tmp_path}))
    with pytest.raises(ProviderError) as error:
        sandbox.send_voice(f"+44770090{last_four}", "Hi", text_type="TEXT", voice_id="AMY", origination="o",
                           configuration_set=None, message_id="m")
    assert (error.value.code, error.value.retryable) == (code, retryable) and sandbox.sent == []


def test_sandbox_failure_rate_follows_the_settings(tmp_path):
    settings = get_settings().model_copy(update={"data_dir": tmp_path, "sandbox_latency_ms": 0,
                                                 "sandbox_failure_rate": 1.0, "sandbox_failure_code": "131047"})
    log = EventLog()
    SandboxVoiceProvider(settings, on_event=log).send_voice("+447700900123", "Hi", text_type="TEXT", voice_id="AMY",
                                                           origination="o", configuration_set=None, message_id="m")
    assert [json.loads(e)["eventType"] for e in log.wait_for(2)] == ["VOICE_INITIATED", "VOICE_FAILED"]
    throttled = SandboxVoiceProvider(settings.model_copy(update={"sandbox_failure_code": "throttled"}))
    with pytest.raises(ProviderError, match="Rate exceeded"):
        throttled.send_voice("+447700900123", "Hi", text_type="TEXT", voice_id="AMY", origination="o",
                             configuration_set=None, message_id="m")


def test_the_factory_picks_the_provider_by_send_mode_and_wires_the_sink(tmp_path):
    settings = get_settings().model_copy(update={"data_dir": tmp_path, "sandbox_latency_ms": 0})
    providers.reset_providers()
    try:
        sandbox = providers.VOICE.get(settings)
        assert isinstance(sandbox, SandboxVoiceProvider) and providers.VOICE.get() is sandbox
        log = EventLog()
        providers.VOICE.set_sink(log)
        sandbox.send_voice("+447700900123", "Hi", text_type="TEXT", voice_id="AMY", origination="o",
                           configuration_set=None, message_id="m")
        assert len(log.wait_for(4)) == 4
        providers.reset_providers()
        assert isinstance(providers.VOICE.get(settings.model_copy(update={"send_mode": SendMode.DRY_RUN})),
                          DryRunVoiceProvider)
        providers.reset_providers()
        assert isinstance(providers.VOICE.get(settings.model_copy(update={"send_mode": SendMode.LIVE})),
                          AwsVoiceProvider)
    finally:
        providers.reset_providers()
