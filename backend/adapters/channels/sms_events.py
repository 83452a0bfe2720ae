"""Parsing what AWS End User Messaging SMS publishes to SNS: a customer's text (two-way SMS) or a delivery
event of one of our sends (a configuration set's event destination). Pure functions, no I/O.

The two share nothing but the topic, so the shape decides: `inboundMessageId` is a customer's text,
`eventType` a delivery event. An unusable message raises `MalformedEvent` naming the field; so does one
a table cannot store (the message is stored as received; see `event_json`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from backend.adapters.channels.sms import CONTEXT_KEY
from backend.adapters.channels.event_json import ID_MAX, MalformedEvent, json_object, malformed, storage_problem

SENT_EVENTS = frozenset({"TEXT_SUCCESSFUL", "TEXT_QUEUED"})
DELIVERED_EVENTS = frozenset({"TEXT_DELIVERED"})
FAILED_EVENTS = frozenset({
    "TEXT_BLOCKED", "TEXT_CARRIER_BLOCKED", "TEXT_CARRIER_UNREACHABLE", "TEXT_INVALID", "TEXT_INVALID_MESSAGE",
    "TEXT_OPTED_OUT", "TEXT_PROTECT_BLOCKED", "TEXT_SPAM", "TEXT_TTL_EXPIRED", "TEXT_UNKNOWN", "TEXT_UNREACHABLE",
})

MAX_PARTS = 255  # a concatenated SMS's sequence number is one byte

_PHONE = re.compile(r"^\+?([1-9][0-9]{5,14})$")  # ASCII digits: `\d` takes any script's
_OUR_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class InboundSms:
    inbound_message_id: str  # AWS's id: the idempotency key
    from_phone: str  # the customer, E.164 with "+"
    to_phone: str | None  # our number
    body: str
    keyword: str | None  # the registered keyword AWS matched (informational: consent uses the body)
    received_at: datetime  # UTC; the payload has no time of its own, so the SNS publish time
    previous_message_id: str | None  # provider id of our text the customer answered, if AWS knows it
    raw: dict = field(repr=False)


@dataclass(frozen=True)
class SmsDeliveryEvent:
    provider_message_id: str
    status: str | None  # SENT | DELIVERED | FAILED; None for events that move nothing (TEXT_PENDING, voice …)
    at: datetime  # UTC
    event_type: str
    error_code: str | None  # the event type, for failures
    error_detail: str | None  # AWS's messageStatusDescription, for failures
    message_id: str | None  # ours, from the context we sent
    parts: int | None
    raw: dict = field(repr=False)


def parse_sms_sns_message(message: str | bytes | dict, *,
                          received_at: datetime | None = None) -> InboundSms | SmsDeliveryEvent:
    """`received_at` (the SNS publish time) dates an inbound text, which carries no time of its own."""
    body = json_object(message, "Message")
    if problem := storage_problem(body):
        raise malformed("Message", problem)
    if "inboundMessageId" in body:
        return _inbound(body, received_at or datetime.now(timezone.utc))
    if "eventType" in body:
        return _delivery(body)
    raise MalformedEvent("Message: neither an inbound text (inboundMessageId) nor a delivery event (eventType)",
                         field="eventType")


def status_for(event_type: str) -> str | None:
    if event_type in SENT_EVENTS:
        return "SENT"
    if event_type in DELIVERED_EVENTS:
        return "DELIVERED"
    if event_type in FAILED_EVENTS:
        return "FAILED"
    return None


def _inbound(body: dict, received_at: datetime) -> InboundSms:
    return InboundSms(
        inbound_message_id=_id(body, "inboundMessageId"),
        from_phone=_phone(body, "originationNumber"),
        to_phone=_optional_text(body, "destinationNumber"),
        body=_text(body, "messageBody", allow_empty=True),
        keyword=_optional_text(body, "messageKeyword"),
        received_at=received_at,
        previous_message_id=_optional_text(body, "previousPublishedMessageId"),
        raw=body,
    )


def _delivery(body: dict) -> SmsDeliveryEvent:
    event_type = _text(body, "eventType")
    status = status_for(event_type)
    context = body.get("context")
    our_id = context.get(CONTEXT_KEY) if isinstance(context, dict) else None
    parts = body.get("totalMessageParts")
    return SmsDeliveryEvent(
        provider_message_id=_id(body, "messageId"),
        status=status,
        at=_epoch_ms(body, "eventTimestamp"),
        event_type=event_type,
        error_code=event_type if status == "FAILED" else None,
        error_detail=_optional_text(body, "messageStatusDescription") if status == "FAILED" else None,
        message_id=our_id if isinstance(our_id, str) and _OUR_ID.match(our_id) else None,
        parts=parts if isinstance(parts, int) and not isinstance(parts, bool) and 0 < parts <= MAX_PARTS else None,
        raw=body,
    )


# --- fields ------------------------------------------------------------------------------------------------


def _text(body: dict, name: str, *, allow_empty: bool = False) -> str:
    value = body.get(name)
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise MalformedEvent(f"{name}: {'missing' if value is None else 'expected a non-empty string'}", field=name)
    return value


def _id(body: dict, name: str) -> str:
    """An id, short enough to be a table key."""
    value = _text(body, name)
    if len(value) > ID_MAX:
        raise malformed(name, f"longer than {ID_MAX} characters")
    return value


def _optional_text(body: dict, name: str) -> str | None:
    value = body.get(name)
    return value if isinstance(value, str) and value else None


def _phone(body: dict, name: str) -> str:
    match = _PHONE.match(_text(body, name).strip())
    if match is None:
        raise MalformedEvent(f"{name}: not a phone number", field=name)
    return "+" + match.group(1)


def _epoch_ms(body: dict, name: str) -> datetime:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise MalformedEvent(f"{name}: expected Unix time in milliseconds", field=name)
    try:
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise MalformedEvent(f"{name}: out of range", field=name) from None
