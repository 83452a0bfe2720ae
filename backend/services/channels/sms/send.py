"""Sending SMS: the request, the rules (opt-out, consent) and the hand-over to the outbox.

The rules live here once; the REST route, the Reflex pages and the inbound keyword replies all come through
`send_sms` or `queue_system_sms`. SMS has no conversation window: every text to a customer needs
`optInSms`, and a STOP stops everything until START.
"""
from __future__ import annotations

from datetime import datetime

from pydantic import Field, field_validator

from backend.models.base import utcnow
from backend.services.rules.channels import Channel
from backend.services.rules.consent import check_send
from backend.models.contact import ContactModel
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.api_model import ApiModel
from backend.services.messaging.rows import outbound_row
from backend.services.messaging.schemas import Message, to_message
from backend.services.messaging.outbox import queue_for_contact
from backend.services.contacts.recipients import recipient_contact
from backend.adapters.channels.sms_segments import segment_info  # how AWS bills a text; pages count with it too
from backend.services.platform.validation import parse_input
from backend.settings import get_settings

CHANNEL = "sms"
MAX_BODY = 1600  # SendTextMessage's limit, in characters


class SmsSend(ApiModel):
    contact_id: str | None = Field(default=None, max_length=64)
    to: str | None = Field(default=None, max_length=64)
    body: str = Field(min_length=1, max_length=MAX_BODY)

    @field_validator("body")
    @classmethod
    def _not_blank(cls, body: str) -> str:
        if not body.strip():
            raise ValueError("must not be blank")
        return body


def send_sms(actor: Actor, data: SmsSend | dict, *, via: str = "api") -> Message:
    """Check the rules, write the message PENDING (with its segment count) and queue it."""
    require(actor, Operation.MESSAGES_SEND)
    request = parse_input(SmsSend, data)
    contact = recipient_contact(request.contact_id, request.to, "phone")
    now = utcnow()
    check_send(contact, Channel.SMS, now=now)
    return _queue(actor, contact, request.body, via=via, now=now)


def queue_system_sms(actor: Actor, contact: ContactModel, text: str, *, reason: str) -> Message:
    """A text the system owes the customer (a STOP/START confirmation, a HELP answer): no consent check."""
    return _queue(actor, contact, text, via=reason, now=utcnow())


def _queue(actor: Actor, contact: ContactModel, body: str, *, via: str, now: datetime) -> Message:
    settings = get_settings()
    info = segment_info(body)
    row = outbound_row(
        actor.user_id, contact, channel=CHANNEL, kind="text", body=body, now=now, address=contact.phone,
        sender=settings.sms_origination_identity, payload={"body": body, "messageType": settings.sms_message_type},
        segments=info.segments,
    )
    queue_for_contact(actor, contact, row, preview=body, via=via, details={"segments": info.segments, "encoding": info.encoding})
    return to_message(row)
