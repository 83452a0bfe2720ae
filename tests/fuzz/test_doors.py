"""The doors providers call, fed the fuzzer's events end to end (parsing, then storing in moto's tables): the
app's WhatsApp webhook answers every correctly signed request with a 2xx or a 4xx, never a 5xx and never an
exception, whatever the body (mutated real events in each format, bytes that are not JSON or not UTF-8, JSON
nested 10,000 deep); each channel's SNS Lambda door returns its summary for any batch of provider events.

A raise from the SNS door means "redeliver": SNS would retry a poison event until it expires, so an event that
can never succeed must be counted as rejected instead."""
from __future__ import annotations

import hashlib
import hmac
import time

import pytest
from hypothesis import example, given, strategies as st

from backend.api.channel_door import handle_channel_event
from backend.api.whatsapp_webhook import META_SIGNATURE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, handle_webhook_post
from tests.fuzz.conftest import META_APP_SECRET, WEBHOOK_SECRET, door_settings, reset_outbound
from tests.fuzz.seeds import (
    EMAIL_MESSAGES, META_BODIES, SMS_MESSAGES, VOICE_MESSAGES, WHATSAPP_ENVELOPES, encode_whatsapp_envelope,
)
from tests.fuzz.test_parsers import storable
from tests.fuzz.strategies import documents, dumps, mutated, raw_bodies
from tests.whatsapp_events import sns_event

pytestmark = pytest.mark.usefixtures("door")
DEEP = "[" * 10_000 + "]" * 10_000

CHANNEL_SEEDS = {"whatsapp": WHATSAPP_ENVELOPES, "sms": SMS_MESSAGES, "email": EMAIL_MESSAGES, "voice": VOICE_MESSAGES}


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_envelope(body: bytes):
    """A request signed as our own relay signs it, over "{timestamp}.{body}" (the SNS envelope, or a batch of
    SNS records)."""
    reset_outbound()
    stamp = str(int(time.time()))
    headers = {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: signature(WEBHOOK_SECRET, f"{stamp}.".encode() + body)}
    return handle_webhook_post(headers, body)


def post_meta(body: bytes):
    """A request signed as Meta signs its own webhook calls."""
    reset_outbound()
    return handle_webhook_post({META_SIGNATURE_HEADER: signature(META_APP_SECRET, body)}, body)


def assert_client_status(response) -> None:
    """A 2xx or a 4xx, and never 401: every request is signed right, so each one reaches the parsers."""
    assert 200 <= response.status < 500 and response.status != 401, response.body


@st.composite
def sns_messages(draw, channel: str) -> str:
    """One SNS `Message` for `channel`: a mutated real event (or arbitrary JSON) as JSON text, or raw text."""
    doc = draw(documents(CHANNEL_SEEDS[channel]))
    if channel == "whatsapp":
        doc = encode_whatsapp_envelope(doc, draw(st.booleans()))
    text = draw(raw_bodies).decode("utf-8", "replace") if draw(st.booleans()) else dumps(doc, ensure_ascii=draw(st.booleans()))
    return text if storable(text) else dumps(doc)  # SNS carries valid Unicode: a lone surrogate only as "\\ud800"


def sns_batch(messages: list[str]) -> dict:
    """A Lambda SNS event with one record per message (real-shaped records, each `Message` set as given)."""
    event = sns_event(*["{}"] * len(messages))
    for record, message in zip(event["Records"], messages):
        record["Sns"]["Message"] = message
    return event


@st.composite
def bodies(draw, documents_strategy) -> bytes:
    """A document as a request body (unpaired surrogates kept as the invalid UTF-8 a careless sender makes)."""
    return dumps(draw(documents_strategy), ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")


@door_settings
@given(sns_messages("whatsapp").map(lambda message: message.encode("utf-8", "surrogatepass")))
def test_the_webhook_answers_any_signed_envelope_with_a_client_status(body):
    assert_client_status(post_envelope(body))


@door_settings
@given(bodies(documents(META_BODIES)))
def test_the_webhook_answers_any_signed_meta_body_with_a_client_status(body):
    assert_client_status(post_meta(body))


@door_settings
@given(st.lists(sns_messages("whatsapp"), min_size=1, max_size=3))
def test_the_webhook_answers_any_signed_sns_batch_with_a_client_status(messages):
    assert_client_status(post_envelope(dumps(sns_batch(messages)).encode("utf-8", "surrogatepass")))


@given(raw_bodies, st.booleans())
def test_the_webhook_answers_raw_bytes_with_a_client_status(body, meta):
    assert_client_status(post_meta(body) if meta else post_envelope(body))


def assert_summarised(channel: str, messages: list[str]) -> None:
    reset_outbound()
    summary = handle_channel_event(channel, sns_batch(messages))
    assert isinstance(summary.get("rejected"), list)


@pytest.mark.parametrize("channel", ["email", "sms", "whatsapp"])
@door_settings
@given(data=st.data())
def test_the_sns_door_summarises_any_batch_of_provider_events(channel, data):
    assert_summarised(channel, data.draw(st.lists(sns_messages(channel), min_size=1, max_size=3)))


@door_settings
@given(st.lists(sns_messages("voice"), min_size=1, max_size=3))
@example([DEEP])
def test_the_voice_sns_door_summarises_any_batch_of_provider_events(messages):
    assert_summarised("voice", messages)


_SNS_EVENTS = [sns_event(dumps(seed)) for seed in SMS_MESSAGES + VOICE_MESSAGES]


@given(st.sampled_from(sorted(CHANNEL_SEEDS)), mutated(_SNS_EVENTS).filter(lambda event: isinstance(event, dict)))
@example("sms", {"Records": 5})
def test_the_sns_door_answers_mangled_records_without_a_server_error(channel, event):
    """Records that are not quite SNS (no Sns, another source, a Message that is not text) are rejected or routed
    as an HTTP request (404), never a crash."""
    result = handle_channel_event(channel, event)
    assert isinstance(result, dict) and result.get("statusCode", 200) < 500
