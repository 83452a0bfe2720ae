"""Voice calls through AWS End User Messaging SMS and voice v2 (`pinpoint-sms-voice-v2` SendVoiceMessage):
the interface, the AWS adapter, the dry run and the local sandbox.

Amazon Polly speaks the text (plain or SSML) in the chosen voice. Every call carries our message id in
`Context` ({"wecareMessageId": …}); AWS copies the context into each event it publishes for the call, so an
event resolves its message even if the worker died before recording the provider id.

The sandbox records calls (`sent`, and JSON lines in `<data_dir>/sandbox/voice-calls.jsonl`) and publishes
the events an SNS event destination would, each SNS `Message` being one event object: VOICE_INITIATED,
VOICE_RINGING, then VOICE_ANSWERED and VOICE_COMPLETED (with the call's duration). The destination number's
last four digits force an outcome: 0486 → VOICE_BUSY, 0487 → VOICE_NO_ANSWER, 0000 → INVALID_NUMBER
(permanent), 0429 → THROTTLED and 0500 → PROVIDER_UNAVAILABLE (retryable). Otherwise `sandbox_failure_rate`
of calls fail as `sandbox_failure_code` says (any code but throttled/server/invalid_number ends in VOICE_FAILED).
"""
from __future__ import annotations

import functools
import json
import math
import random
import re
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import boto3
import botocore.session
import phonenumbers

from backend.adapters.channels.dry_run import DryRunRecorder
from backend.adapters.channels.sandbox_events import DelayedEvents, EventSink
from backend.adapters.channels.sandbox_sends import SendLog
from backend.adapters.channels.sandbox_failures import InjectedFailures
from backend.adapters.channels.errors import (
    PROVIDER_CLIENT_CONFIG,
    INVALID_NUMBER,
    INVALID_REQUEST,
    ProviderError,
    classify_sms_voice_exception,
)
from backend.settings import Settings, get_settings



SERVICE = "pinpoint-sms-voice-v2"
_MODEL = botocore.session.get_session().get_service_model(SERVICE)
_REQUEST = _MODEL.operation_model("SendVoiceMessage").input_shape.members
VOICE_IDS: tuple[str, ...] = tuple(_REQUEST["VoiceId"].enum)  # Polly voices the service accepts
TEXT_TYPES: tuple[str, ...] = tuple(_REQUEST["MessageBodyTextType"].enum)  # TEXT, SSML
MESSAGE_BODY_MAX: int = int(_REQUEST["MessageBody"].metadata["max"])  # characters, SSML tags included
CONTEXT_KEY = "wecareMessageId"
SPEAKING_RATE_WPM = 150  # how fast Polly voices speak, near enough, at the default rate

# Failure codes of SMS and voice v2 on top of errors.py's (the SMS channel uses the same two).


@runtime_checkable
class VoiceProvider(Protocol):
    def send_voice(self, to: str, body: str, *, text_type: str, voice_id: str, origination: str,
                   configuration_set: str | None, message_id: str) -> str:
        """Place a text-to-speech call; returns the provider's message id, or raises ProviderError."""


def voice_request(to: str, body: str, *, text_type: str, voice_id: str, origination: str,
                  configuration_set: str | None, message_id: str) -> dict:
    """SendVoiceMessage parameters (member names as in botocore's service model)."""
    params: dict[str, Any] = {
        "DestinationPhoneNumber": to,
        "OriginationIdentity": origination,
        "MessageBody": body,
        "MessageBodyTextType": text_type,
        "VoiceId": voice_id,
        "Context": {CONTEXT_KEY: message_id},
    }
    if configuration_set:
        params["ConfigurationSetName"] = configuration_set
    return params


class AwsVoiceProvider:
    """Live calls. botocore's own retries are kept few: the outbox retries with backoff."""

    def __init__(self, client: Any = None, settings: Settings | None = None):
        self.settings = settings or get_settings()
        self.client = client or boto3.client(
            SERVICE,
            region_name=self.settings.aws_region,
            config=PROVIDER_CLIENT_CONFIG,
        )

    def send_voice(self, to: str, body: str, *, text_type: str, voice_id: str, origination: str,
                   configuration_set: str | None, message_id: str) -> str:
        params = voice_request(to, body, text_type=text_type, voice_id=voice_id, origination=origination,
                               configuration_set=configuration_set, message_id=message_id)
        try:
            return self.client.send_voice_message(**params)["MessageId"]
        except Exception as exc:  # noqa: BLE001 - every failure becomes a classified ProviderError
            raise classify_sms_voice_exception(exc) from exc


class DryRunVoiceProvider(DryRunRecorder):
    """Builds the live request, logs and records it, calls nothing (and so no events follow)."""

    def __init__(self, settings: Settings | None = None):
        super().__init__()
        self.settings = settings or get_settings()

    def send_voice(self, to: str, body: str, *, text_type: str, voice_id: str, origination: str,
                   configuration_set: str | None, message_id: str) -> str:
        params = voice_request(to, body, text_type=text_type, voice_id=voice_id, origination=origination,
                               configuration_set=configuration_set, message_id=message_id)
        return self.record("send_voice_message", params, json.dumps(params, ensure_ascii=False))


# ---------------------------------------------------------------- the sandbox

SANDBOX_ORIGINATION_NUMBER = "+15555550199"
_E164 = re.compile(r"^\+[1-9]\d{1,18}$")
_TAG = re.compile(r"<[^>]*>")
_DESCRIPTIONS = {
    "INITIATED": "The call has been initiated",
    "RINGING": "The phone is ringing",
    "ANSWERED": "The call was answered",
    "COMPLETED": "The call was completed",
    "BUSY": "The line was busy",
    "NO_ANSWER": "The call was not answered",
    "FAILED": "The call could not be connected",
}
PRICE_PER_MINUTE = 0.013


def voice_event(status: str, *, provider_message_id: str, to: str, origination: str, requested_ms: int,
                context: dict, duration_seconds: int | None = None) -> str:
    """One voice event as an SMS/voice v2 event destination publishes it (the SNS `Message` string)."""
    final = status not in ("INITIATED", "RINGING", "ANSWERED")
    event: dict[str, Any] = {
        "eventType": f"VOICE_{status}",
        "eventVersion": "1.0",
        "eventTimestamp": int(time.time() * 1000),
        "isFinal": final,
        "originationPhoneNumber": origination,
        "destinationPhoneNumber": to,
        "isoCountryCode": _country_of(to),
        "messageId": provider_message_id,
        "messageRequestTimestamp": requested_ms,
        "messageStatus": status,
        "messageStatusDescription": _DESCRIPTIONS[status],
        "context": context,
    }
    if status == "COMPLETED" and duration_seconds is not None:
        minutes = max(1, math.ceil(duration_seconds / 60))
        event |= {"callDurationInSeconds": duration_seconds, "totalDurationRoundedToMinutes": minutes,
                  "totalMessagePrice": round(minutes * PRICE_PER_MINUTE, 5)}
    elif final:
        event["totalMessagePrice"] = 0.0
    return json.dumps(event)


def _country_of(number: str) -> str | None:
    try:
        return phonenumbers.region_code_for_country_code(phonenumbers.parse(number).country_code)
    except phonenumbers.NumberParseException:
        return None


def simulated_duration(body: str) -> int:
    """Seconds a sandbox call lasts: its words at SPEAKING_RATE_WPM (tags stripped), plus the pick-up."""
    words = len(_TAG.sub(" ", body).split())
    return 1 + math.ceil(words * 60 / SPEAKING_RATE_WPM)


class SandboxVoiceProvider:
    """In-memory, thread-safe; `sent` is for tests to inspect. Events go to `on_event`, if set, each
    `sandbox_latency_ms` after the one before."""

    def __init__(self, settings: Settings, on_event: EventSink | None = None, *, rng: random.Random | None = None):
        self.settings = settings
        self.on_event = on_event
        self.sent: list[dict] = []
        self._failures = InjectedFailures(
            settings, rng, throttled="ThrottlingException", server="InternalServerException",
            invalid_number=lambda note: ProviderError(
                INVALID_NUMBER, f"ValidationException: destination cannot be called {note}", retryable=False),
        )
        self._lock = threading.Lock()
        self._events = DelayedEvents("voice")
        self._calls = SendLog(Path(settings.data_dir) / "sandbox" / "voice-calls.jsonl")

    def send_voice(self, to: str, body: str, *, text_type: str, voice_id: str, origination: str,
                   configuration_set: str | None, message_id: str) -> str:
        params = voice_request(to, body, text_type=text_type, voice_id=voice_id, origination=origination,
                               configuration_set=configuration_set, message_id=message_id)
        _check_request(params)
        failure = self._failures.at_send(to)
        provider_id = str(uuid.uuid4())
        record = {"provider_message_id": provider_id, "message_id": message_id, "to": to, "params": params,
                  "sent_at": datetime.now(UTC).isoformat()}
        with self._lock:
            self.sent.append(record)
            self._calls.append(record)
        self._schedule(provider_id, params, _outcome(to, failure), simulated_duration(body))
        return provider_id

    def sent_before(self, message_id: str) -> str | None:
        """The id of this message's call if the sandbox placed it (from any process), else None."""
        return self._calls.find(message_id)

    def _schedule(self, provider_id: str, params: dict, statuses: list[str], duration: int) -> None:
        sink = self.on_event
        if sink is None:
            return
        origination = params["OriginationIdentity"]
        common = {
            "provider_message_id": provider_id,
            "to": params["DestinationPhoneNumber"],
            "origination": origination if _E164.match(origination) else SANDBOX_ORIGINATION_NUMBER,
            "requested_ms": int(time.time() * 1000),
            "context": dict(params["Context"]),
        }
        events = [functools.partial(voice_event, status, duration_seconds=duration, **common) for status in statuses]
        self._events.send(sink, events, self.settings.sandbox_latency_ms / 1000)

    def clear(self) -> None:
        with self._lock:
            self.sent.clear()

    def close(self) -> None:
        """Cancel events not yet delivered."""
        self._events.cancel_all()


def _check_request(params: dict) -> None:
    """What AWS would refuse as a ValidationException before placing the call."""
    problems = []
    if not _E164.match(params["DestinationPhoneNumber"]):
        problems.append("DestinationPhoneNumber")
    if params["VoiceId"] not in VOICE_IDS:
        problems.append("VoiceId")
    if params["MessageBodyTextType"] not in TEXT_TYPES:
        problems.append("MessageBodyTextType")
    if not params["MessageBody"].strip() or len(params["MessageBody"]) > MESSAGE_BODY_MAX:
        problems.append("MessageBody")
    if problems:
        raise ProviderError(INVALID_REQUEST, f"ValidationException: invalid {', '.join(problems)} (sandbox)",
                            retryable=False)


def _outcome(to: str, failure: str | None) -> list[str]:
    if to.endswith("0486"):
        return ["INITIATED", "RINGING", "BUSY"]
    if to.endswith("0487"):
        return ["INITIATED", "RINGING", "NO_ANSWER"]
    if failure:
        return ["INITIATED", "FAILED"]
    return ["INITIATED", "RINGING", "ANSWERED", "COMPLETED"]
