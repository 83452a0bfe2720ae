"""Who a send on a channel would reach, and why not the others: the compose page's list before "Send".

Nothing here is a rule of its own. Each recipient goes through the functions the send services call before
they queue anything: the recipient resolver (`recipients.recipient_contact`: the contact is live and has the
channel's address) and the channels' one rule check (`channels.rules.check_send`). A refusal is reported with
the error's own message, so the list says exactly what the send would say. WhatsApp rows also carry the 24-hour window: whether it is open and
when it closes (free-form messages need it open; templates need optInWhatsApp instead).
"""
from __future__ import annotations

from datetime import datetime
from backend.errors import DomainError, NotFound, ValidationError
from backend.models.base import utcnow
from backend.models.contact import ContactModel
from backend.services.rules.channels import CHANNEL_NAMES, channel_info
from backend.services.rules.consent import check_send, reason_of, window_closes_at, window_open
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.api_model import ApiView
from backend.services.contacts.recipients import recipient_contact

MAX_CONTACTS = 50  # the most recipients one compose send takes


class Reach(ApiView):
    contact_id: str
    name: str
    address: str | None = None
    ok: bool
    reason: str | None = None
    code: str | None = None  # the refusal's error code (OPTED_OUT, CONSENT_REQUIRED, ...) when not ok
    window_open: bool | None = None  # WhatsApp only
    window_closes_at: datetime | None = None  # WhatsApp only; None when the customer never wrote


def reachability(
    actor: Actor, contact_ids: list[str], channel: str, *, free_form: bool = True
) -> list[Reach]:
    """One row per contact (duplicates once, in the order given): reachable on `channel` or not, and why.
    For WhatsApp, `free_form` says what would be sent: text or media (needs the window) or a template."""
    require(actor, Operation.MESSAGES_READ)
    if channel not in CHANNEL_NAMES:
        raise ValidationError(f"channel: one of {', '.join(CHANNEL_NAMES)}", field="channel")
    ids = list(dict.fromkeys(contact_ids))
    if len(ids) > MAX_CONTACTS:
        raise ValidationError(f"contactIds: at most {MAX_CONTACTS} recipients", field="contactIds")
    now = utcnow()
    return [_reach(contact_id, channel, free_form, now) for contact_id in ids]


def _reach(contact_id: str, channel: str, free_form: bool, now: datetime) -> Reach:
    kind = channel_info(channel).address
    try:
        contact = recipient_contact(contact_id, None, kind)
    except DomainError as error:
        return Reach(contact_id=contact_id, name=_name_of(contact_id), ok=False, reason=_reason(error, kind), code=error.code)
    return reach_row(contact, channel, free_form=free_form, now=now)


def reach_row(contact: ContactModel, channel: str, *, free_form: bool, now: datetime) -> Reach:
    """The same verdict for a contact row already read (a campaign reads its audience a page at a time): the
    address the channel needs, then the channel's rule check."""
    info = channel_info(channel)
    kind = info.address
    if contact.deletedAt is not None:
        return Reach(contact_id=contact.contactId, name=contact.name, ok=False, reason="the contact no longer exists", code=NotFound.code)
    address = contact.email if kind == "email" else contact.phone
    if not address:
        return Reach(contact_id=contact.contactId, name=contact.name, ok=False, code=ValidationError.code,
                     reason="no phone number" if kind == "phone" else "no email address")
    window: dict = {}
    if info.window:
        closes = window_closes_at(contact.lastInboundAt)
        window = {"window_open": window_open(closes, now), "window_closes_at": closes}
    try:
        check_send(contact, channel, now=now, free_form=free_form)
    except DomainError as error:
        return Reach(contact_id=contact.contactId, name=contact.name, address=address, ok=False,
                     reason=_reason(error, kind), code=error.code, **window)
    return Reach(contact_id=contact.contactId, name=contact.name, address=address, ok=True, **window)


def _reason(error: DomainError, kind: str) -> str:
    """The error's message without the "field: " prefix the services put in front; a missing address reads
    "no phone number" / "no email address" as the recipient resolver words it."""
    if isinstance(error, NotFound):
        return "the contact no longer exists"
    message = reason_of(error)
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
