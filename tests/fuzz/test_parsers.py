"""Every inbound event parser, fed arbitrary JSON and mutated real events (as objects, text or bytes), either
returns what it parsed or raises the project's own domain error (a 4xx naming the field): never another
exception. What it does return holds the promises the rest of the system relies on (E.164 phones in ASCII
digits, UTC times never in the future, one-line summaries of bounded length, text that can be stored)."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from hypothesis import example, given, strategies as st

from backend.adapters.channels.sms_events import InboundSms, SmsDeliveryEvent, parse_sms_sns_message
from backend.adapters.channels.sms_segments import CONCATENATED, SINGLE, segment_info
from backend.adapters.channels.whatsapp_events import (
    STATUS_VALUES, SUMMARY_MAX, ParsedEvents, parse_meta_webhook, parse_sns_message, parse_webhook_entry,
)
from backend.errors import DomainError
from backend.services.channels.email.events import EmailEvent, parse_email_event
from backend.services.channels.voice.events import VoiceEvent, parse_voice_event
from tests.fuzz.seeds import (
    EMAIL_MESSAGES, ENTRY_KEY, META_BODIES, SMS_MESSAGES, VOICE_MESSAGES, WHATSAPP_ENVELOPES, encode_whatsapp_envelope,
)
from tests.fuzz.strategies import any_text, documents, encoded, hostile_strings, raw_bodies, timestamps

_E164 = re.compile(r"^\+[0-9]{6,15}$")
_SENT_AT = datetime(2026, 1, 7, 12, 0, 1, tzinfo=timezone.utc)
DEEP = "[" * 10_000 + "]" * 10_000


raw_messages = raw_bodies | raw_bodies.map(lambda raw: raw.decode("utf-8", "replace"))


def parser_inputs(seeds: list) -> st.SearchStrategy:
    """What an SNS `Message` can be: a (mutated) event as an object, text or bytes, or text that is no JSON."""
    return encoded(documents(seeds)) | raw_messages


def parsed_or_refused(parse, *args, **kwargs):
    """The parser's result, or None when it refused the input with a domain error (a client error)."""
    try:
        return parse(*args, **kwargs)
    except DomainError as error:
        assert 400 <= error.http_status < 500 and error.message
        return None


def storable_time(at: datetime) -> bool:
    """A time a table can store: with its zone, and a UTC year no later than 9999."""
    assert at.tzinfo is not None
    return at.astimezone(timezone.utc).year >= 1


def storable(text: str | None) -> bool:
    """Text DynamoDB and a UTF-8 log line can take: no unpaired surrogate."""
    try:
        text is None or text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_whatsapp(parsed: ParsedEvents | None) -> None:
    if parsed is None:
        return
    now = datetime.now(timezone.utc)
    for message in parsed.messages:
        assert message.provider_message_id.strip() and _E164.match(message.from_phone)
        assert storable_time(message.timestamp) and message.timestamp <= now
        assert len(message.summary) <= SUMMARY_MAX and "\n" not in message.summary
        for text in (message.provider_message_id, message.text, message.summary, message.profile_name,
                     message.reply_to, message.reaction_emoji, message.media and message.media.media_id):
            assert storable(text)
    for status in parsed.statuses:
        assert status.status in STATUS_VALUES and storable_time(status.timestamp) and status.timestamp <= now
        assert storable(status.provider_message_id)
        assert status.recipient_phone is None or _E164.match(status.recipient_phone)
    assert all(isinstance(reason, str) and storable(reason) for reason in parsed.rejected)


@st.composite
def whatsapp_messages(draw) -> object:
    """An SNS `Message` of End User Messaging Social: its entry re-encoded as a JSON string, or left an object."""
    return encode_whatsapp_envelope(draw(documents(WHATSAPP_ENVELOPES)), draw(st.booleans()))


@given(encoded(whatsapp_messages()) | raw_messages)
def test_whatsapp_sns_messages_parse_or_are_refused(message):
    check_whatsapp(parsed_or_refused(parse_sns_message, message))


@given(parser_inputs(META_BODIES))
def test_metas_webhook_bodies_parse_or_are_refused(body):
    check_whatsapp(parsed_or_refused(parse_meta_webhook, body))


@given(documents([envelope[ENTRY_KEY] for envelope in WHATSAPP_ENVELOPES]))
def test_whatsapp_entries_parse_or_are_refused(entry):
    check_whatsapp(parsed_or_refused(parse_webhook_entry, entry))


@given(parser_inputs(SMS_MESSAGES))
def test_sms_events_parse_or_are_refused(message):
    event = parsed_or_refused(parse_sms_sns_message, message, received_at=_SENT_AT)
    if isinstance(event, InboundSms):
        assert _E164.match(event.from_phone) and event.inbound_message_id.strip() and storable(event.body)
    elif event is not None:
        assert isinstance(event, SmsDeliveryEvent) and storable_time(event.at)
        assert event.provider_message_id.strip() and storable(event.provider_message_id)


@given(any_text | hostile_strings)
def test_any_text_has_a_consistent_segment_count(text):
    info = segment_info(text)
    assert info.characters == len(text) and info.units >= info.characters
    assert (info.segments == 0) == (text == "")
    if info.segments > 1:
        assert info.per_segment == CONCATENATED[info.encoding] and info.segments * info.per_segment >= info.units
    else:
        assert info.per_segment == SINGLE[info.encoding] and info.units <= SINGLE[info.encoding]


@given(parser_inputs(EMAIL_MESSAGES))
@example({**EMAIL_MESSAGES[0], "mail": {**EMAIL_MESSAGES[0]["mail"], "timestamp": "9999-12-31T23:59:59-14:00"}})
def test_ses_events_parse_or_are_refused(message):
    event = parsed_or_refused(parse_email_event, message)
    if event is not None:
        assert isinstance(event, EmailEvent) and storable_time(event.at) and event.provider_message_id
        assert all(isinstance(address, str) for address in event.recipients)


@given(parser_inputs(VOICE_MESSAGES) | st.fixed_dictionaries({"eventType": st.just("VOICE_COMPLETED"),
                                                               "messageId": any_text, "eventTimestamp": timestamps}))
@example(DEEP)
def test_voice_events_parse_or_are_refused(message):
    event = parsed_or_refused(parse_voice_event, message)
    assert event is None or (isinstance(event, VoiceEvent) and storable_time(event.at))
