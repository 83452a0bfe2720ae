"""How a contact reads on screen: plain strings the pages render."""
from __future__ import annotations

from datetime import datetime

from backend.services.contacts.import_writes import CREATED, IMPORT_ACTION
from backend.services.contacts.schemas import Contact, ConsentState
from backend.services.platform.audit import AuditEntry
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


def history_line(entry: AuditEntry) -> dict[str, str]:
    """One row of a contact's history: when, what happened, who did it, which fields."""
    return {
        "at": when(entry.at),
        "action": _import_action(entry.details or {}) if entry.action == IMPORT_ACTION else _plain_action(entry.action),
        "who": entry.actor_email or entry.actor_id,
        "fields": ", ".join(entry.changed_fields),
    }


def _plain_action(action: str) -> str:
    return action.replace("contact.", "").replace("_", " ")


def _import_action(details: dict) -> str:
    """'Imported from contacts.csv (line 12)' or 'Updated by import of contacts.csv (line 12)'."""
    file_name = details.get("file") or "a CSV file"
    line = f" (line {details['line']})" if details.get("line") else ""
    if details.get("outcome") == CREATED:
        return f"Imported from {file_name}{line}"
    return f"Updated by import of {file_name}{line}"
