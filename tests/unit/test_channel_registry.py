"""The channel registry: each channel declared once, and every channel's doors behaving the same way."""
from __future__ import annotations

import dataclasses
import json

import pytest

from backend.api import channel_door
from backend.services.rules.channels import CHANNEL_NAMES, CHANNELS, Channel, channel_info
from backend.services.channels.registry import REGISTRY, delivery_for, entry


def test_every_channel_has_one_catalog_entry_and_one_registry_entry():
    assert list(REGISTRY) == list(CHANNELS) == [Channel(name) for name in CHANNEL_NAMES]
    for channel, wiring in REGISTRY.items():
        assert wiring.info is CHANNELS[channel]
        assert wiring.info.function == f"outbound-{channel.value}" and wiring.info.queue == channel.value
    assert {type(delivery_for(c)).__name__ for c in CHANNEL_NAMES} == {
        "WhatsAppDelivery", "SmsDelivery", "EmailDelivery", "VoiceDelivery"}


def test_an_unknown_channel_is_refused():
    with pytest.raises(ValueError):
        channel_info("fax")
    with pytest.raises(ValueError):
        entry("fax")


def _sns(*messages):
    return {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": m, "Timestamp": "2026-01-02T03:04:05Z"}}
                        if m is not None else {"EventSource": "aws:sns", "Sns": {}} for m in messages]}


@pytest.mark.parametrize("channel", CHANNEL_NAMES)
def test_one_sns_loop_rejects_the_unreadable_goes_on_past_a_failure_and_then_asks_for_a_redelivery(channel, monkeypatch):
    seen = []

    def ingest(message, published_at):
        seen.append(message)
        if message == "boom":
            raise RuntimeError("table unavailable")
        return {"applied": 1, "rejected": ["inner problem"] if message == "partly" else []}

    monkeypatch.setitem(REGISTRY, Channel(channel), dataclasses.replace(REGISTRY[Channel(channel)], ingest=ingest))
    with pytest.raises(RuntimeError, match="1 .* event record\\(s\\) failed; SNS will redeliver"):
        channel_door.handle_channel_event(channel, _sns(None, "boom", "fine"))
    assert seen == ["boom", "fine"]  # the record after the failure still went through

    summary = channel_door.handle_channel_event(channel, _sns(None, "fine", "partly"))
    assert summary == {"applied": 2, "rejected": ["record 0: Records[].Sns.Message: missing", "record 2: inner problem"]}


@pytest.mark.parametrize("channel", CHANNEL_NAMES)
def test_the_door_tells_queue_events_from_api_requests(channel, monkeypatch):
    calls = []
    monkeypatch.setattr(channel_door, "handle_queue", lambda ch, event: calls.append(("queue", ch)) or {"batchItemFailures": []})
    monkeypatch.setattr(channel_door, "handle_http", lambda fn, event: calls.append(("http", fn)) or {"statusCode": 200})
    channel_door.handle_channel_event(channel, {"Records": [{"eventSource": "aws:sqs", "body": json.dumps({"messageId": "x"})}]})
    channel_door.handle_channel_event(channel, {"requestContext": {"http": {"method": "GET"}}, "rawPath": "/"})
    assert calls == [("queue", channel), ("http", f"outbound-{channel}")]
