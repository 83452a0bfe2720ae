"""SMS through AWS End User Messaging SMS (`pinpoint-sms-voice-v2`): the interface, the AWS adapter, the dry run
and the local sandbox.

Every send carries our message id in `Context` ({"wecareMessageId": …}); AWS echoes the context in each
delivery event, so an event resolves its message even if the worker died before recording the provider id.
SendTextMessage has no client token: the outbox's PENDING→SENDING claim is what keeps a send at most once.

The AWS adapter, the dry run and the sandbox share one request builder, so a dry run shows (and the sandbox
validates) exactly the request a live send would make.
"""
from __future__ import annotations

import functools
import json
import random
import re
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import boto3
import phonenumbers

from backend.adapters.channels.dry_run import DryRunRecorder
from backend.adapters.channels.sandbox_events import DelayedEvents
from backend.adapters.channels.sandbox_sends import SendLog
from backend.adapters.channels.sandbox_failures import InjectedFailures
from backend.adapters.channels.errors import (
    PROVIDER_CLIENT_CONFIG,
    INVALID_NUMBER,
    INVALID_REQUEST,
    ProviderError,
    classify_sms_voice_exception,
)
from backend.adapters.channels.whatsapp_sandbox import FAILURE_CODES, SANDBOX_ACCOUNT_ID, EventSink
from backend.adapters.channels.sms_segments import segment_info  # the parts AWS reports per message
from backend.settings import Settings, get_settings



MESSAGE_TYPES = ("TRANSACTIONAL", "PROMOTIONAL")
MAX_BODY = 1600
CONTEXT_KEY = "wecareMessageId"
_DESTINATION = re.compile(r"^\+?[1-9][0-9]{1,18}$")  # SendTextMessage's own pattern


@runtime_checkable
class SmsProvider(Protocol):
    def send_text(self, to: str, body: str, *, origination: str, message_type: str,
                  configuration_set: str | None, message_id: str) -> str:
        """Send one text; returns the provider message id."""


def text_message_request(to: str, body: str, *, origination: str, message_type: str,
                         configuration_set: str | None, message_id: str) -> dict:
    """SendTextMessage parameters (member names as in botocore's service model)."""
    params: dict[str, Any] = {
        "DestinationPhoneNumber": to,
        "OriginationIdentity": origination,
        "MessageBody": body,
        "MessageType": message_type,
        "Context": {CONTEXT_KEY: message_id},
    }
    if configuration_set:
        params["ConfigurationSetName"] = configuration_set
    return params


def readable_request(params: dict) -> dict:
    """A request for a log line: the body (it may hold a one-time code) by its length, the number by its end."""
    shown = dict(params)
    shown["MessageBody"] = f"<{len(params.get('MessageBody') or '')} characters>"
    shown["DestinationPhoneNumber"] = "…" + str(params.get("DestinationPhoneNumber") or "")[-4:]
    return shown


class AwsSmsProvider:
    """Live sends. Throttling and server errors surface as retryable ProviderErrors for the outbox to retry;
    botocore's own retries are kept few so a send does not block a worker for long."""

    def __init__(self, client: Any = None, settings: Settings | None = None):
        self.settings = settings or get_settings()
        self.client = client or boto3.client(
            "pinpoint-sms-voice-v2",
            region_name=self.settings.aws_region,
            config=PROVIDER_CLIENT_CONFIG,
        )

    def send_text(self, to: str, body: str, *, origination: str, message_type: str,
                  configuration_set: str | None, message_id: str) -> str:
        params = text_message_request(to, body, origination=origination, message_type=message_type,
                                      configuration_set=configuration_set, message_id=message_id)
        try:
            return self.client.send_text_message(**params)["MessageId"]
        except Exception as exc:  # noqa: BLE001 - every failure becomes a classified ProviderError
            raise classify_sms_voice_exception(exc) from exc


class DryRunSmsProvider(DryRunRecorder):
    """Builds the live request, records and logs it (without the body), and calls nothing."""

    def __init__(self, settings: Settings | None = None):
        super().__init__()
        self.settings = settings or get_settings()

    def send_text(self, to: str, body: str, *, origination: str, message_type: str,
                  configuration_set: str | None, message_id: str) -> str:
        params = text_message_request(to, body, origination=origination, message_type=message_type,
                                      configuration_set=configuration_set, message_id=message_id)
        return self.record("send_text_message", params, json.dumps(readable_request(params), ensure_ascii=False))


# ---------------------------------------------------------------- sandbox

SANDBOX_NUMBER = "+15555550111"  # the sandbox's own long code when the origination identity is not a number
DEFAULT_KEYWORDS = ("HELP", "STOP")  # what an AWS number has registered out of the box
_EVENT_STATUS = {
    "TEXT_SUCCESSFUL": ("SUCCESSFUL", "Message has been accepted by phone carrier"),
    "TEXT_DELIVERED": ("DELIVERED", "Message has been accepted by phone"),
    "TEXT_UNREACHABLE": ("UNREACHABLE", "Phone is not reachable (sandbox)"),
}
PRICE_PER_PART = 0.00581


def _now_ms() -> int:
    return int(time.time() * 1000)


def _country_of(number: str) -> str | None:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse("+" + _digits(number)))
    except phonenumbers.NumberParseException:
        return None


class SandboxSmsProvider:
    """Records sends (`sent`, and JSON lines in `<data_dir>/sandbox/sms-sends.jsonl`) and answers with the
    delivery events AWS publishes to an event destination's SNS topic: TEXT_SUCCESSFUL, then TEXT_DELIVERED.

    Outcomes can be forced by the recipient's last four digits, as in the WhatsApp sandbox: 0000 →
    INVALID_NUMBER (permanent), 0429 → THROTTLED, 0500 → PROVIDER_UNAVAILABLE (both retryable). Otherwise
    `sandbox_failure_rate` of sends fail as `sandbox_failure_code` says; its "131047" (WhatsApp's accepted-
    then-failed case) is, for SMS, an accepted send reported as TEXT_UNREACHABLE.
    """

    def __init__(self, settings: Settings, on_event: EventSink | None = None, *, rng: random.Random | None = None):
        if settings.sandbox_failure_code not in FAILURE_CODES:
            raise ValueError(f"sandbox_failure_code must be one of {', '.join(FAILURE_CODES)}")
        self.settings = settings
        self.on_event = on_event
        self.sent: list[dict] = []
        self._last_sent_to: dict[str, str] = {}  # recipient → provider id, for an inbound reply's context
        self._failures = InjectedFailures(
            settings, rng, throttled="ThrottlingException", server="InternalServerException",
            invalid_number=lambda note: ProviderError(
                INVALID_NUMBER, f"ValidationException: Invalid destination phone number {note}", retryable=False),
        )
        self._lock = threading.Lock()
        self._events = DelayedEvents("SMS")
        self._dir = Path(settings.data_dir) / "sandbox"
        self._sends = SendLog(self._dir / "sms-sends.jsonl")

    def send_text(self, to: str, body: str, *, origination: str, message_type: str,
                  configuration_set: str | None, message_id: str) -> str:
        params = text_message_request(to, body, origination=origination, message_type=message_type,
                                      configuration_set=configuration_set, message_id=message_id)
        _validate(params)
        failure = self._failures.at_send(to)
        info = segment_info(body)
        provider_id = str(uuid.uuid4())
        record = {
            "provider_message_id": provider_id, "to": to, "body": body, "origination": origination,
            "message_type": message_type, "configuration_set": configuration_set, "message_id": message_id,
            "encoding": info.encoding, "parts": info.segments, "sent_at": datetime.now(UTC).isoformat(),
        }
        with self._lock:
            self.sent.append(record)
            self._last_sent_to[_digits(to)] = provider_id
            self._sends.append(record)
        event_types = ["TEXT_UNREACHABLE"] if failure == "131047" else ["TEXT_SUCCESSFUL", "TEXT_DELIVERED"]
        self._schedule(params, provider_id, info.encoding, info.segments, event_types)
        return provider_id

    def sent_before(self, message_id: str) -> str | None:
        """The provider id of this message's send if the sandbox received it (from any process), else None."""
        return self._sends.find(message_id)

    # --- events ---------------------------------------------------------------------------------------

    def origination_number(self, origination: str | None = None) -> str:
        identity = origination or self.settings.sms_origination_identity
        return identity if _DESTINATION.match(identity) and identity.startswith("+") else SANDBOX_NUMBER

    def delivery_event(self, event_type: str, params: dict, provider_id: str, encoding: str, parts: int,
                       *, requested_at_ms: int, final: bool) -> str:
        """The SNS `Message` an event destination publishes for one delivery event of a text."""
        status, description = _EVENT_STATUS[event_type]
        to = params["DestinationPhoneNumber"]
        return json.dumps({
            "eventType": event_type,
            "eventVersion": "1.0",
            "eventTimestamp": _now_ms(),
            "isFinal": final,
            "originationPhoneNumber": self.origination_number(params.get("OriginationIdentity")),
            "destinationPhoneNumber": to,
            "isoCountryCode": _country_of(to),
            "isInternationalSend": False,
            "messageId": provider_id,
            "messageRequestTimestamp": requested_at_ms,
            "messageEncoding": "GSM" if encoding == "GSM-7" else "UCS2",
            "messageType": params["MessageType"],
            "messageStatus": status,
            "messageStatusDescription": description,
            "context": dict(params.get("Context") or {}),
            "totalMessageParts": parts,
            "totalMessagePrice": round(PRICE_PER_PART * parts, 5),
            "totalCarrierFee": 0.0,
        })

    def _schedule(self, params: dict, provider_id: str, encoding: str, parts: int, event_types: list[str]) -> None:
        requested_at_ms = _now_ms()
        builders = [
            functools.partial(self.delivery_event, event_type, params, provider_id, encoding, parts,
                              requested_at_ms=requested_at_ms, final=index == len(event_types) - 1)
            for index, event_type in enumerate(event_types)
        ]
        self._events.send(self.on_event, builders, self.settings.sandbox_latency_ms / 1000)

    def inbound_message(self, from_number: str, text: str) -> str:
        """The SNS `Message` two-way SMS publishes when a customer texts our number."""
        word = text.strip().upper()
        with self._lock:
            previous = self._last_sent_to.get(_digits(from_number))
        return json.dumps({
            "originationNumber": from_number,
            "destinationNumber": self.origination_number(),
            "messageKeyword": word if word in DEFAULT_KEYWORDS else f"KEYWORD_{SANDBOX_ACCOUNT_ID}",
            "messageBody": text,
            "inboundMessageId": str(uuid.uuid4()),
            "previousPublishedMessageId": previous,
        })

    def emit_inbound(self, from_number: str, text: str) -> str:
        """Deliver a customer's text now, as AWS would publish it; returns its inboundMessageId."""
        if self.on_event is None:
            raise RuntimeError("No sandbox event sink is set")
        message = self.inbound_message(from_number, text)
        self.on_event(message)
        return json.loads(message)["inboundMessageId"]

    # --- housekeeping ---------------------------------------------------------------------------------

    def clear(self) -> None:
        with self._lock:
            self.sent.clear()
            self._last_sent_to.clear()

    def close(self) -> None:
        """Cancel delivery events not yet published."""
        self._events.cancel_all()


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number)


def _validate(params: dict) -> None:
    """What SendTextMessage's own validation refuses, as the same permanent error."""
    problems = []
    if not _DESTINATION.match(str(params.get("DestinationPhoneNumber") or "")):
        problems.append("DestinationPhoneNumber")
    body = params.get("MessageBody")
    if not isinstance(body, str) or not body.strip() or len(body) > MAX_BODY:
        problems.append("MessageBody")
    if params.get("MessageType") not in MESSAGE_TYPES:
        problems.append("MessageType")
    if not params.get("OriginationIdentity"):
        problems.append("OriginationIdentity")
    if problems:
        raise ProviderError(INVALID_REQUEST, f"ValidationException: invalid {', '.join(problems)} (sandbox)",
                            retryable=False)


