"""How a contact reads on screen: plain strings the pages render."""
from __future__ import annotations

from datetime import datetime

from backend.services.contacts.schemas import Contact, ConsentState
from backend.services.rules.consent import ADDRESS_CHANGED

_CHANNEL_LABELS = {"whatsapp": "WhatsApp", "sms": "SMS", "email": "Email", "voice": "Voice calls"}


def when(moment: datetime | None) -> str:
    return moment.strftime("%d %b %Y, %H:%M UTC") if moment else ""


def consent_summary(contact: Contact) -> str:
    channels = [label for key, label in _CHANNEL_LABELS.items() if getattr(contact, f"opt_in_{key}")]
    return ", ".join(channels) if channels else "none"


def contact_summary(contact: Contact) -> dict[str, str]:
    return {
        "contact_id": contact.contact_id,
        "name": contact.name,
        "phone": contact.phone or "—",
        "email": contact.email or "—",
        "consent": consent_summary(contact),
        "tags": ", ".join(contact.tags),
        "created": contact.created_at.strftime("%d %b %Y"),
    }


def consent_lines(contact: Contact) -> list[dict[str, str]]:
    lines = []
    for key, label in _CHANNEL_LABELS.items():
        record = contact.consent.get(key)
        state = "opted in" if getattr(contact, f"opt_in_{key}") else "not opted in"
        detail = _record_detail(record) if record else "never recorded"
        lines.append({"channel": label, "state": state, "detail": detail})
    return lines


def _record_detail(record: ConsentState) -> str:
    if record.source == ADDRESS_CHANGED:
        return f"reset {when(record.at)}: the address changed, so consent given for the old one lapsed"
    return f"{'given' if record.opted_in else 'withdrawn'} {when(record.at)} via {record.source}"
