"""One message to several contacts on one channel (the compose page's Send): who can be reached, then one send
per reachable recipient through the channel's own send service, and what became of each.

Nothing here is a rule of its own. Reachability is `reachability.reachability` (the recipient resolver and the
channel's rule check, as the send services run them); the sends are the channel's send service, which checks
everything again. Each recipient gets an outcome with the reason in the services' own words, and one
recipient's refusal never stops the others. What is wrong for everyone is refused before anything is queued:
a role that may not send, an unknown channel, no recipients or too many, and content the channel refuses (the
first send that would go out says so, and nothing has been queued at that point).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from backend.errors import BadRequest, DomainError, NotFound, ValidationError
from backend.services.rules.channels import CHANNEL_NAMES
from backend.services.channels.registry import entry
from backend.services.contacts.contacts import get_contact
from backend.services.contacts.schemas import Contact
from backend.services.messaging.reachability import MAX_CONTACTS, reachability
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.api_model import ApiView

log = logging.getLogger(__name__)

# An error naming one of these fields is about the recipient; any other refusal of the content is everyone's.
_RECIPIENT_FIELDS = frozenset({"contactId", "to", "phone", "email"})
# Per recipient, the message names no recipient: `contactId` is added for each one.
_ADDRESS_KEYS = ("contactId", "contact_id", "to")
# What WhatsApp can send to several contacts at once (a reaction or a read receipt belongs to one conversation).
_WHATSAPP_TYPES = ("text", "media", "template")


class SendOutcome(ApiView):
    contact_id: str
    name: str
    ok: bool
    code: str  # QUEUED, or the refusing error's code (OPTED_OUT, CONSENT_REQUIRED, VALIDATION_ERROR, ...)
    reason: str  # "Queued", or why not in the services' words (without the "field: " prefix)
    link: str | None = None  # where to follow it: /inbox/<contact_id>, or /voice/<call_id> for a call
    message_id: str | None = None
    call_id: str | None = None


def send_to_contacts(
    actor: Actor, channel: str, contact_ids: list[str], message: dict, *, via: str = "ui"
) -> list[SendOutcome]:
    """Send `message` (the channel's send request without its recipient) to every reachable contact in
    `contact_ids`; one outcome per contact, duplicates once, in the order given."""
    require(actor, Operation.MESSAGES_SEND)  # one refusal for a Viewer, not one per recipient
    send, ids = _checked(channel, contact_ids, message)
    reach = reachability(actor, ids, channel, free_form=_free_form(channel, message))
    outcomes: list[SendOutcome] = []
    queued = 0
    for row in reach:
        if not row.ok:
            outcomes.append(SendOutcome(contact_id=row.contact_id, name=row.name, ok=False, code=row.code or "UNREACHABLE",
                                        reason=row.reason or "cannot be reached on this channel"))
            continue
        try:
            sent = send(actor, {**message, "contactId": row.contact_id}, via=via)
        except DomainError as error:
            if queued == 0 and _about_the_content(error):
                raise  # it would be refused for everyone, and nothing has been queued yet
            outcomes.append(SendOutcome(contact_id=row.contact_id, name=row.name, ok=False, code=error.code,
                                        reason=_reason(error)))
            continue
        except Exception:  # noqa: BLE001 - one recipient's failure never stops the others
            log.exception("send to %s on %s failed", row.contact_id, channel)
            outcomes.append(SendOutcome(contact_id=row.contact_id, name=row.name, ok=False, code="ERROR",
                                        reason="could not be queued (an internal error); try again"))
            continue
        queued += 1
        outcomes.append(_queued(row.contact_id, row.name, sent))
    return outcomes


def recipients(actor: Actor, contact_ids: list[str]) -> list[Contact]:
    """The contacts a send to `contact_ids` would address (duplicates once, in the order given, at most
    MAX_CONTACTS); ids of unknown or deleted contacts are left out. For pages preparing a send."""
    require(actor, Operation.CONTACTS_READ)
    found = []
    for contact_id in list(dict.fromkeys(contact_ids))[:MAX_CONTACTS]:
        try:
            found.append(get_contact(actor, contact_id))
        except DomainError:
            continue
    return found


# ---------------------------------------------------------------- the request


def _refuse(field: str, reason: str) -> ValidationError:
    return ValidationError(f"{field}: {reason}", field=field, details=[{"field": field, "reason": reason}])


def _checked(channel: str, contact_ids: list[str], message: dict) -> tuple[Callable[..., Any], list[str]]:
    """The channel's send service and the recipients, or ValidationError for what no recipient could get."""
    if not isinstance(channel, str) or channel not in CHANNEL_NAMES:
        raise _refuse("channel", f"one of {', '.join(CHANNEL_NAMES)}")
    send = entry(channel).send
    if not isinstance(contact_ids, (list, tuple)) or not all(isinstance(c, str) and c for c in contact_ids):
        raise _refuse("contactIds", "a list of contact ids")
    ids = list(dict.fromkeys(contact_ids))
    if not ids:
        raise _refuse("contactIds", "at least one recipient")
    if len(ids) > MAX_CONTACTS:
        raise _refuse("contactIds", f"at most {MAX_CONTACTS} recipients; for more, use a bulk campaign")
    if not isinstance(message, dict):
        raise _refuse("message", "the channel's send request (an object)")
    for key in _ADDRESS_KEYS:
        if key in message:
            raise _refuse(f"message.{key}", "the recipients are contactIds; the message names none")
    if channel == "whatsapp" and message.get("type") not in _WHATSAPP_TYPES:
        raise _refuse("message.type", f"one of {', '.join(_WHATSAPP_TYPES)} for a send to several contacts")
    return send, ids


def _free_form(channel: str, message: dict) -> bool:
    """WhatsApp: text and media need the 24-hour window, templates need consent instead."""
    return channel != "whatsapp" or message.get("type") != "template"


# ---------------------------------------------------------------- outcomes


def _about_the_content(error: DomainError) -> bool:
    """A refusal of the message itself (its text, its template, its file), not of the recipient."""
    return isinstance(error, (ValidationError, BadRequest, NotFound)) and error.field not in _RECIPIENT_FIELDS


def _reason(error: DomainError) -> str:
    if error.field and error.message.startswith(f"{error.field}: "):
        return error.message[len(error.field) + 2:]
    return error.message


def _queued(contact_id: str, name: str, sent: Any) -> SendOutcome:
    call_id = getattr(sent, "call_id", None)
    return SendOutcome(
        contact_id=contact_id,
        name=name,
        ok=True,
        code="QUEUED",
        reason="Queued",
        link=f"/voice/{call_id}" if call_id else f"/inbox/{contact_id}",
        message_id=getattr(sent, "message_id", None),
        call_id=call_id,
    )
