"""Inputs the fuzzer (or its review) found crashing or poisoning an inbound parser, pinned; all but the
nesting guard of the WhatsApp envelope (already held) failed on the code before the fix. "Poisoning" is an
event parsed fine whose storing then fails (a table cannot hold it): the SNS door asks for a redelivery, and
SNS would redeliver it until it expires."""
from __future__ import annotations

import json

import pytest

from backend.adapters.channels.event_json import ID_MAX, MAX_STORED_BYTES, NOT_UNICODE, MalformedEvent
from backend.adapters.channels.sms_events import parse_sms_sns_message
from backend.adapters.channels.whatsapp_events import parse_sns_message, parse_webhook_entry
from backend.api.channel_door import handle_sns
from backend.services.channels.voice.events import parse_voice_event
from tests.fuzz.conftest import reset_outbound
from tests.fuzz.seeds import EMAIL_MESSAGES, SMS_MESSAGES, VOICE_MESSAGES
from tests.whatsapp_events import OUTBOUND_WAMID, meta_message, meta_status, sns_event, sns_message, webhook_entry

DEEP = "[" * 10_000 + "]" * 10_000


def only_rejection(entry: dict) -> str:
    parsed = parse_webhook_entry(entry)
    assert not parsed.messages and not parsed.statuses and len(parsed.rejected) == 1
    return parsed.rejected[0]


@pytest.mark.parametrize("message", [
    meta_message("text", text="half an emoji \ud83d"),
    meta_message("text", **{"key \udfff": 1}),
    meta_message("image", caption="\ud800"),
])
def test_a_whatsapp_message_holding_an_unpaired_surrogate_is_skipped_with_its_reason(message):
    assert only_rejection(webhook_entry([message])).endswith(NOT_UNICODE)


def test_a_whatsapp_message_too_large_for_a_row_is_skipped_and_the_others_kept():
    huge = meta_message("text", text="\u4e2d" * (MAX_STORED_BYTES // 6))  # escaped as \\u4e2d: six bytes each
    parsed = parse_webhook_entry(webhook_entry([huge, meta_message("text")]))
    assert len(parsed.messages) == 1 and parsed.rejected[0].endswith(f"larger than {MAX_STORED_BYTES // 1024} KB")


def test_ids_too_long_for_a_table_key_are_refused():
    assert only_rejection(webhook_entry([meta_message("text", wamid="wamid." + "A" * ID_MAX)])).endswith(
        f"id: longer than {ID_MAX} characters")
    assert only_rejection(webhook_entry(statuses=[meta_status("x" * 3000, "read")])).endswith(
        f"id: longer than {ID_MAX} characters")
    entry = webhook_entry([meta_message("text")], phone_number_id="9" * 3000)
    assert parse_webhook_entry(entry).messages[0].phone_number_id is None


@pytest.mark.parametrize("phone", ["٤٤٧٧٠٠٩٠٠١٢٣", "４４７７００９００１２３"])
def test_only_ascii_digits_make_a_whatsapp_number(phone):
    assert "from: not a phone number" in only_rejection(webhook_entry([meta_message("text", from_phone=phone)]))


def test_integers_too_large_to_print_are_refused_not_crashed_on():
    message = meta_message("location", ts=None, timestamp=10**5000, location={"latitude": 10**5000, "longitude": 1e309})
    assert only_rejection(webhook_entry([message])).endswith("timestamp: not epoch seconds ('int')")
    location = {"latitude": "nan", "longitude": float("inf")}  # json reads Infinity and NaN
    assert parse_webhook_entry(webhook_entry([meta_message("location", location=location)])).messages[0].summary == "Location"
    status = meta_status(OUTBOUND_WAMID, "failed", error_code=131047)
    status["errors"][0]["code"] = 10**5000
    assert parse_webhook_entry(webhook_entry(statuses=[status])).statuses[0].error_code is None


def test_a_whatsapp_envelope_nested_10000_deep_is_malformed():
    with pytest.raises(MalformedEvent, match="Message: not valid JSON"):
        parse_sns_message(DEEP)
    envelope = json.loads(sns_message(webhook_entry([meta_message("text")])))
    with pytest.raises(MalformedEvent, match="whatsAppWebhookEntry: not valid JSON"):
        parse_sns_message({**envelope, "whatsAppWebhookEntry": DEEP})


@pytest.mark.parametrize(("message", "problem"), [
    (DEEP, "Message: not valid JSON"),
    (DEEP.encode(), "Message: not valid JSON"),
    (bytearray(b'{"eventType": "\xff"}'), "Message: not valid JSON"),
    (json.dumps({**SMS_MESSAGES[0], "messageBody": "\ud800"}), f"Message: {NOT_UNICODE}"),
    (json.dumps({**SMS_MESSAGES[0], "messageBody": "x" * MAX_STORED_BYTES}), "Message: larger than"),
    (json.dumps({**SMS_MESSAGES[0], "originationNumber": "+4٤٧٧٠٠٩٠٠١٢٣"}), "originationNumber: not a phone number"),
    (json.dumps({**SMS_MESSAGES[1], "messageId": "m" * 3000}), f"messageId: longer than {ID_MAX} characters"),
])
def test_unusable_sms_events_are_malformed_not_crashes(message, problem):
    with pytest.raises(MalformedEvent) as refused:
        parse_sms_sns_message(message)
    assert refused.value.message.startswith(problem)


def test_an_sms_part_count_no_table_can_hold_is_dropped():
    assert parse_sms_sns_message({**SMS_MESSAGES[1], "totalMessageParts": 10**40}).parts is None
    assert parse_sms_sns_message(SMS_MESSAGES[1]).parts == 1


# --- found in the voice and email services and the Lambda doors -------------------------------------------------


def sns_ingest(channel: str, event: dict) -> dict:
    reset_outbound()
    return handle_sns(channel, sns_event(json.dumps(event)))


@pytest.mark.usefixtures("door")
def test_a_voice_event_with_a_duration_past_any_call_is_not_redelivered_forever():
    summary = sns_ingest("voice", {**VOICE_MESSAGES[1], "callDurationInSeconds": 10**20})
    assert summary["rejected"] == [] and summary["applied"] + summary["ignored"] == 1  # handled, not raised


@pytest.mark.usefixtures("door")
def test_a_voice_event_holding_an_unpaired_surrogate_is_not_redelivered_forever():
    summary = sns_ingest("voice", {**VOICE_MESSAGES[2], "messageStatusDescription": "\ud800"})
    assert summary == {"rejected": ["record 0: Sns.Message: holds text that is not valid Unicode (an unpaired surrogate)"]}


@pytest.mark.usefixtures("door")
def test_an_ses_event_holding_an_unpaired_surrogate_is_not_redelivered_forever():
    bounce = json.loads(json.dumps(EMAIL_MESSAGES[2]))
    bounce["bounce"]["bouncedRecipients"][0]["diagnosticCode"] = "\ud800"
    summary = sns_ingest("email", bounce)
    assert summary == {"rejected": ["record 0: Message: holds text that is not valid Unicode (an unpaired surrogate)"]}


def test_a_voice_event_with_an_infinite_duration_has_no_duration():
    assert parse_voice_event({**VOICE_MESSAGES[1], "callDurationInSeconds": float("inf")}).duration_seconds is None
