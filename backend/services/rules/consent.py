"""The send rules of every channel, written once: the customer's consent on a channel and WhatsApp's 24-hour
window. The send services, reachability (the composer's list) and the views the UI reads all call these, so
a page never works a rule out for itself and no door can skip one.

- Opted out (the customer's STOP, a bounce, a complaint, an unsubscribe): nothing goes out on the channel
  until the customer opts back in. A call also reads the number's SMS record: a number that said STOP is
  not called.
- Otherwise the channel's opt-in flag is needed (voice too: optInVoice), except for WhatsApp free-form
  replies, which need the 24-hour window open instead (a template needs optInWhatsApp).
- Consent belongs to the address: a new phone or email starts not opted in (a record whose source is
  ADDRESS_CHANGED, which is neither a yes nor an opt-out), and the customer's opt-outs are kept per address
  and applied to whichever contact holds it (`services/contacts/address_consent.py`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from backend.errors import ConsentRequired, DomainError, OptedOut, TemplateRequired
from backend.models.contact import ContactModel
from backend.services.rules.channels import Channel, channel_info

WINDOW = timedelta(hours=24)  # WhatsApp's customer-service window after the customer's last message
ADDRESS_CHANGED = "address_changed"  # the source of the reset when a contact's phone or email changes


# Who made a consent record: the customer's own word is written by the system as "<channel> keyword <WORD>"
# (a STOP or START) or "SES <bounce|complaint>"; the business's as its door ("console", "api", "import:<id>").
# Callers cannot name a source, so these cannot be forged. Only the customer lifts their own opt-out.


def customer_source(detail: str) -> str:
    """The source of a consent record the customer made: "SMS keyword STOP", "SES bounce"."""
    if not is_customers_word(detail):
        raise ValueError(f"not a customer's consent source: {detail!r}")
    return detail


def is_customers_word(source: str | None) -> bool:
    """Whether a consent record came from the customer rather than from the business."""
    text = source or ""
    return " keyword " in text or text.startswith("SES ")


@dataclass(frozen=True)
class ConsentState:
    """The customer's consent on one channel, as the rules read it."""

    opted_in: bool  # the contact's opt-in flag for the channel (True where the channel needs none)
    opted_out: bool  # a record says no: an opt-out, or consent withdrawn by the business
    at: datetime | None = None  # when the deciding consent record was made
    source: str | None = None  # how (stop_keyword, bounce, console, …)
    record: str | None = None  # which consent record decided (voice: its own, or the number's SMS record)


def _says_no(record) -> bool:
    """A record that withdraws consent; the reset of a new address is only "not opted in yet"."""
    return record is not None and not record.optedIn and record.source != ADDRESS_CHANGED


def _record(contact: ContactModel, name: str | None):
    return getattr(contact.consent, name, None) if name and contact.consent is not None else None


def consent_state(contact: ContactModel, channel: Channel | str) -> ConsentState:
    policy = channel_info(channel).consent
    opted_in = bool(getattr(contact, policy.opt_in_field)) if policy.opt_in_field else True
    names = [policy.record] + ([policy.also_stopped_by] if policy.also_stopped_by else [])
    refusing = [name for name in names if _says_no(_record(contact, name))]
    name = refusing[0] if refusing else policy.record
    record = _record(contact, name)
    return ConsentState(
        opted_in=opted_in,
        opted_out=bool(refusing),
        at=record.at if record is not None else None,
        source=record.source if record is not None else None,
        record=name,
    )


def check_business_opt_in(contact: ContactModel, channel: Channel | str) -> None:
    """The business (an operator's edit, the API, an import) may switch a channel's consent on, unless the
    customer opted out of that channel themselves: then only the customer can opt back in, and the refusal says
    when and how. (Another channel's opt-out that also stops this one, an SMS STOP for calls, still stops the
    sends: `check_send` reads it.)"""
    info = channel_info(channel)
    record = _record(contact, info.consent.record)
    if _says_no(record) and is_customers_word(record.source):
        field = info.consent.opt_in_field or "consent"
        raise OptedOut(
            f"{field}: {contact.name} opted out of {info.label} themselves on {record.at:%d %b %Y %H:%M} UTC "
            f"({record.source}); only they can opt back in ({info.consent.back_in})",
            field=field,
        )


def window_closes_at(last_inbound_at: datetime | None) -> datetime | None:
    """When the 24-hour window after the customer's last message closes (None: they never wrote)."""
    return last_inbound_at + WINDOW if last_inbound_at else None


def window_open(closes_at: datetime | None, now: datetime) -> bool:
    """Whether a window closing at `closes_at` (see `window_closes_at`) is still open at `now`: pages keep the
    closing time from the view and ask this on their clock tick."""
    return closes_at is not None and closes_at > now


def check_send(contact: ContactModel, channel: Channel | str, *, now: datetime, free_form: bool = True) -> None:
    """Raise the refusal a send on `channel` to `contact` meets, or return. `free_form`: text or media rather
    than a template (only WhatsApp distinguishes them)."""
    info = channel_info(channel)
    policy = info.consent
    state = consent_state(contact, channel)
    if state.opted_out:
        said_no = channel_info(state.record)
        note = f", {policy.opted_out_note}" if said_no.channel is not info.channel and policy.opted_out_note else ""
        raise OptedOut(
            f"contactId: {contact.name} opted out of {said_no.label} on {state.at:%d %b %Y %H:%M} UTC "
            f"({state.source}){note}; nothing can be sent until {said_no.consent.back_in}",
            field="contactId",
        )
    if info.window and free_form:
        closes = window_closes_at(contact.lastInboundAt)
        if not window_open(closes, now):
            since = f"closed at {closes:%d %b %H:%M} UTC" if closes else "never opened (no message from the customer)"
            raise TemplateRequired(f"type: the 24-hour window {since}; send an approved template instead", field="type")
        if not policy.opt_in_for_free_form:
            return
    if not state.opted_in:
        what = "; templates need " if info.window else " ("
        closing = policy.opt_in_field if info.window else f"{policy.opt_in_field})"
        raise ConsentRequired(f"contactId: {contact.name} has not opted in to {info.label}{what}{closing}", field="contactId")


def send_refusal(contact: ContactModel, channel: Channel | str, *, now: datetime, free_form: bool = True) -> DomainError | None:
    """The refusal `check_send` would raise, or None: for views that say whether and why not."""
    try:
        check_send(contact, channel, now=now, free_form=free_form)
    except DomainError as error:
        return error
    return None


def reason_of(error: DomainError) -> str:
    """A refusal's message without the "field: " prefix the services put in front, for a person to read."""
    message = error.message
    if error.field and message.startswith(f"{error.field}: "):
        message = message[len(error.field) + 2:]
    return message
