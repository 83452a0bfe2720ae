"""SES sending events (event publishing through the configuration set, via SNS): statuses and suppression.

Send → SENT, Delivery → DELIVERED, Bounce → FAILED, Reject → FAILED, Complaint → DELIVERED at most (the email
arrived; a delivered message never moves back). A Permanent bounce or a complaint also suppresses the address:
the contact owning it gets optInEmail off with a consent record ("SES bounce" / "SES complaint") and an audit
row, in one transaction with the versioned contact, retried on a conflict. Transient bounces suppress nothing.
A redelivered event changes nothing twice. Events are matched by our id (`mail.tags.wecareMessageId`), else
by the SES message id.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from backend.adapters.channels.event_json import ID_MAX, storage_problem
from backend.errors import BadRequest, NotFound, ValidationError
from backend.models.base import utcnow
from backend.services.platform.access import Actor
from backend.services.platform.audit import audit_row
from backend.services.platform.validation import normalise_email
from backend.services.rules.consent import consent_state, customer_source
from backend.services.contacts.address_consent import customer_consent
from backend.services.contacts.contacts import live_contact_row, owner_of
from backend.services.messaging.statuses import ProviderStatus, apply_status
from backend.services.storage.unit_of_work import UnitOfWork, WriteConflict

log = logging.getLogger(__name__)

CHANNEL = "email"
SES_EVENTS = Actor.system("ses-events")
MESSAGE_ID_TAG = "wecareMessageId"
STATUSES = {"Send": "SENT", "Delivery": "DELIVERED", "Bounce": "FAILED", "Reject": "FAILED", "Complaint": "DELIVERED"}
_DETAIL_KEYS = {"Send": "send", "Delivery": "delivery", "Bounce": "bounce", "Complaint": "complaint", "Reject": "reject"}
_RECIPIENT_LISTS = {"Bounce": "bouncedRecipients", "Complaint": "complainedRecipients"}
_OUR_ID = re.compile(r"^[0-9a-f]{32}$")
_ATTEMPTS = 5


class MalformedEmailEvent(BadRequest):
    code = "MALFORMED_EVENT"


@dataclass(frozen=True)
class EmailEvent:
    event_type: str  # Send | Delivery | Bounce | Complaint | Reject | … (others are ignored)
    provider_message_id: str  # SES's mail.messageId
    message_id: str | None  # ours, from mail.tags.wecareMessageId
    at: datetime
    recipients: tuple[str, ...]  # the addresses the event is about
    bounce_type: str | None = None  # Permanent | Transient | Undetermined
    bounce_subtype: str | None = None
    diagnostic: str | None = None


@dataclass
class EmailEventReport:
    event_type: str
    status_applied: bool = False
    suppressed: list[str] = field(default_factory=list)  # contact ids whose email consent was turned off


# ---------------------------------------------------------------- parsing


def parse_email_event(message: str | bytes | dict) -> EmailEvent:
    """One SES event record (the SNS `Message`); MalformedEmailEvent names the unusable field."""
    event = _object(_decoded(message), "Message")
    if problem := storage_problem(event):
        raise _malformed("Message", problem)
    event_type = event.get("eventType") or event.get("notificationType")  # the latter: identity notifications
    if not isinstance(event_type, str) or not event_type:
        raise _malformed("eventType", "missing")
    mail = _object(event.get("mail"), "mail")
    provider_id = mail.get("messageId")
    if not isinstance(provider_id, str) or not provider_id or len(provider_id) > ID_MAX:
        raise _malformed("mail.messageId", "missing" if not provider_id else f"not a string of at most {ID_MAX} characters")
    key = _DETAIL_KEYS.get(event_type)
    detail = _object(event.get(key), key) if key else {}
    at = _timestamp(detail.get("timestamp") or mail.get("timestamp"), f"{key or 'mail'}.timestamp")
    bounce = event_type == "Bounce"
    if bounce and not isinstance(detail.get("bounceType"), str):
        raise _malformed("bounce.bounceType", "missing")
    listed = _recipient_objects(detail, _RECIPIENT_LISTS[event_type], key) if event_type in _RECIPIENT_LISTS else []
    return EmailEvent(
        event_type=event_type,
        provider_message_id=provider_id,
        message_id=_our_id(mail.get("tags")),
        at=at,
        recipients=tuple(_recipients(event_type, detail, mail, listed)),
        bounce_type=detail.get("bounceType") if bounce else None,
        bounce_subtype=detail.get("bounceSubType") if bounce else None,
        diagnostic=next((r["diagnosticCode"] for r in listed if isinstance(r.get("diagnosticCode"), str)), None),
    )


def _decoded(message: str | bytes | dict) -> object:
    if isinstance(message, (str, bytes, bytearray)):
        try:
            return json.loads(message)
        except (ValueError, RecursionError):
            raise _malformed("Message", "not valid JSON") from None
    return message


def _object(value: object, name: str) -> dict:
    if not isinstance(value, dict):
        raise _malformed(name, "missing" if value is None else "not a JSON object")
    return value


def _recipient_objects(detail: dict, name: str, key: str) -> list[dict]:
    items = detail.get(name)
    if not isinstance(items, list) or not items:
        raise _malformed(f"{key}.{name}", "missing" if items is None else "not a non-empty list")
    return [item for item in items if isinstance(item, dict)]


def _recipients(event_type: str, detail: dict, mail: dict, objects: list[dict]) -> list[str]:
    if objects:
        values = [item.get("emailAddress") for item in objects]
    elif event_type == "Delivery":
        values = detail.get("recipients") or []
    else:
        values = mail.get("destination") or []
    return [value for value in values if isinstance(value, str)] if isinstance(values, list) else []


def _our_id(tags: object) -> str | None:
    values = tags.get(MESSAGE_ID_TAG) if isinstance(tags, dict) else None
    value = values[0] if isinstance(values, list) and values else None
    return value if isinstance(value, str) and _OUR_ID.match(value) else None


def _timestamp(value: object, name: str) -> datetime:
    if not isinstance(value, str):
        raise _malformed(name, "missing")
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise _malformed(name, f"not an ISO 8601 time ({value[:40]!r})") from None
    try:  # a table stores UTC, and 9999-12-31T23:59-14:00 is past year 9999 there
        return (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    except OverflowError:
        raise _malformed(name, f"out of range ({value[:40]!r})") from None


def _malformed(name: str, problem: str) -> MalformedEmailEvent:
    return MalformedEmailEvent(f"{name}: {problem}", field=name)


# ---------------------------------------------------------------- ingesting


def ingest_email_event(message: str | bytes | dict) -> EmailEventReport:
    """Apply one SES event: the message's status (forward only) and, for hard bounces and complaints, suppression."""
    event = parse_email_event(message)
    report = EmailEventReport(event_type=event.event_type)
    status = STATUSES.get(event.event_type)
    if status is not None:
        code, detail = _failure(event) if status == "FAILED" else (None, None)
        report.status_applied = apply_status(ProviderStatus(
            channel=CHANNEL, provider_message_id=event.provider_message_id, status=status, at=event.at,
            error_code=code, error_detail=detail, message_id=event.message_id,
        ))
    reason = "complaint" if event.event_type == "Complaint" else "bounce" if event.bounce_type == "Permanent" else None
    if reason is not None:
        report.suppressed = [cid for address in event.recipients if (cid := _suppress(address, reason, event))]
    return report


def _failure(event: EmailEvent) -> tuple[str, str]:
    if event.event_type == "Reject":
        return "REJECTED", "SES rejected the email (e.g. it contained a virus)."
    kind = event.bounce_type or "Undetermined"
    detail = f"{kind} bounce ({event.bounce_subtype or 'General'})"
    return f"BOUNCE_{kind.upper()}", f"{detail}: {event.diagnostic}" if event.diagnostic else detail


def _suppress(address: str, reason: str, event: EmailEvent) -> str | None:
    """Turn email consent off for the live contact owning `address`; its id, or None if nothing changed."""
    try:
        email = normalise_email(address)
    except ValidationError:
        log.warning("SES %s for an address we could not read; ignored", reason)
        return None
    details = {"channel": CHANNEL, "optedIn": False, "reason": reason, "messageId": event.message_id,
               "providerMessageId": event.provider_message_id}
    if event.bounce_type:
        details.update(bounceType=event.bounce_type, bounceSubType=event.bounce_subtype)
    for _ in range(_ATTEMPTS):
        owner = owner_of("email", email)
        try:
            contact = live_contact_row(owner, consistent=True) if owner else None
        except NotFound:
            contact = None
        if contact is None or contact.email != email:
            return None
        state = consent_state(contact, "email")
        if state.opted_out and not state.opted_in:
            return None  # already suppressed: a redelivered event changes nothing
        now = utcnow()
        work = UnitOfWork()  # the contact's record and the opt-out kept for the address, together
        customer_consent(work, contact, CHANNEL, False, customer_source(f"SES {reason}"), event.at)
        contact.updatedAt = now
        work.save(contact)  # versioned: a concurrent edit makes this retry on a fresh row
        work.save(audit_row(SES_EVENTS, "contact.consent", "contact", contact.contactId, ["optInEmail"], details, at=now))
        try:
            work.commit()
        except WriteConflict:
            continue
        return contact.contactId
    raise RuntimeError(f"could not record the SES {reason} on the contact after {_ATTEMPTS} attempts")
