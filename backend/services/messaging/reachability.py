"""Who a send on a channel would reach, and why not the others: the compose page's list before "Send".

Nothing here is a rule of its own. Each recipient goes through the functions the send services call before
they queue anything: the recipient resolver (`recipients.recipient_contact`: the contact is live and has the
channel's address) and the channel's rule check (`whatsapp_send.check_rules`, `sms_send.check_rules`,
`email_send.check_rules`, `voice_calls.check_rules`). A refusal is reported with the error's own message, so the
list says exactly what the send would say. WhatsApp rows also carry the 24-hour window: whether it is open and
when it closes (free-form messages need it open; templates need optInWhatsApp instead).
"""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from backend.errors import DomainError, NotFound, ValidationError
from backend.models.base import utcnow
from backend.models.contact import ContactModel
from backend.services.channels.email import send as email_send
from backend.services.channels.sms import send as sms_send
from backend.services.channels.voice import calls as voice_calls
from backend.services.channels.whatsapp import send as whatsapp_send
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.api_model import ApiView
from backend.services.contacts.recipients import recipient_contact

Channel = Literal["whatsapp", "sms", "email", "voice"]
CHANNELS: tuple[str, ...] = ("whatsapp", "sms", "email", "voice")
MAX_CONTACTS = 50  # the most recipients one compose send takes
_ADDRESS_KIND = {"whatsapp": "phone", "sms": "phone", "voice": "phone", "email": "email"}


class Reach(ApiView):
    contact_id: str
    name: str
    address: str | None = None
    ok: bool
    reason: str | None = None
    window_open: bool | None = None  # WhatsApp only
    window_closes_at: datetime | None = None  # WhatsApp only; None when the customer never wrote


def reachability(
    actor: Actor, contact_ids: list[str], channel: Channel | str, *, free_form: bool = True
) -> list[Reach]:
    """One row per contact (duplicates once, in the order given): reachable on `channel` or not, and why.
    For WhatsApp, `free_form` says what would be sent: text or media (needs the window) or a template."""
    require(actor, Operation.MESSAGES_READ)
    if channel not in CHANNELS:
        raise ValidationError(f"channel: one of {', '.join(CHANNELS)}", field="channel")
    ids = list(dict.fromkeys(contact_ids))
    if len(ids) > MAX_CONTACTS:
        raise ValidationError(f"contactIds: at most {MAX_CONTACTS} recipients", field="contactIds")
    now = utcnow()
    return [_reach(contact_id, channel, free_form, now) for contact_id in ids]


def _reach(contact_id: str, channel: str, free_form: bool, now: datetime) -> Reach:
    kind = _ADDRESS_KIND[channel]
    try:
        contact = recipient_contact(contact_id, None, kind)
    except DomainError as error:
        return Reach(contact_id=contact_id, name=_name_of(contact_id), ok=False, reason=_reason(error, kind))
    window: dict = {}
    if channel == "whatsapp":
        closes = whatsapp_send.window_closes_at(contact)
        window = {"window_open": bool(closes and closes > now), "window_closes_at": closes}
    address = contact.email if kind == "email" else contact.phone
    try:
        _check(channel, contact, free_form, now)
    except DomainError as error:
        return Reach(contact_id=contact_id, name=contact.name, address=address, ok=False,
                     reason=_reason(error, kind), **window)
    return Reach(contact_id=contact_id, name=contact.name, address=address, ok=True, **window)


def _check(channel: str, contact: ContactModel, free_form: bool, now: datetime) -> None:
    """The channel's own rule check, as its send service runs it."""
    if channel == "whatsapp":
        whatsapp_send.check_rules(contact, free_form=free_form, now=now)
    elif channel == "sms":
        sms_send.check_rules(contact)
    elif channel == "email":
        email_send.check_rules(contact)
    else:
        voice_calls.check_rules(contact)


def _reason(error: DomainError, kind: str) -> str:
    """The error's message without the "field: " prefix the services put in front; a missing address reads
    "no phone number" / "no email address" as the recipient resolver words it."""
    if isinstance(error, NotFound):
        return "the contact no longer exists"
    message = error.message
    if error.field and message.startswith(f"{error.field}: "):
        message = message[len(error.field) + 2:]
    missing = "no phone number" if kind == "phone" else "no email address"
    if isinstance(error, ValidationError) and message.endswith(f"has {missing}"):
        return missing
    return message


def _name_of(contact_id: str) -> str:
    """A name for a row whose contact cannot be resolved (deleted, or never existed)."""
    try:
        return ContactModel.get(contact_id).name if contact_id else "(no contact)"
    except ContactModel.DoesNotExist:
        return contact_id
