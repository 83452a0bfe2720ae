"""How the composer reads on screen: the reachability rows, the window, the SMS counter and the send outcomes
(plain strings and flags the page renders)."""
from __future__ import annotations

from datetime import datetime

from backend.services.rules.channels import CHANNEL_NAMES
from backend.errors import DomainError
from backend.services.channels.sms.send import segment_info
from backend.services.messaging.reachability import Reach
from backend.services.channels.send_many import SendOutcome
from wecare_app.components.formatting import duration

CHANNELS = CHANNEL_NAMES  # the channel catalog, in its order
WHATSAPP_TEXT_MAX = 4096


def window_text(reach: Reach, now: datetime) -> str:
    if reach.window_open is None:
        return ""
    if reach.window_open:
        return f"Window open · {duration((reach.window_closes_at - now).total_seconds())} left"
    if reach.window_closes_at:
        return f"Window closed {reach.window_closes_at:%d %b %H:%M} UTC"
    return "No message from them yet"


def reach_row(reach: Reach, now: datetime) -> dict:
    return {
        "contact_id": reach.contact_id,
        "name": reach.name,
        "address": reach.address or "",
        "ok": reach.ok,
        "reason": reach.reason or "",
        "window": window_text(reach, now),
        "window_open": bool(reach.window_open),
    }


def sms_counter(text: str) -> dict[str, str]:
    """The live segment counter: encoding, characters and parts, and how much a part holds."""
    info = segment_info(text)
    parts = f"{info.segments} part{'s' if info.segments != 1 else ''}"
    note = f"{info.per_segment} units a part" if info.segments > 1 else f"up to {info.per_segment} in one part"
    if info.units != info.characters:
        note = f"{info.units} units · " + note
    return {
        "encoding": info.encoding,
        "summary": f"{info.encoding} · {info.characters} character{'s' if info.characters != 1 else ''} · {parts}",
        "note": note,
        "ucs2": "yes" if info.encoding == "UCS-2" and info.characters else "",
    }




def outcome_row(outcome: SendOutcome) -> dict:
    """One recipient's outcome of a send, as the "Last send" list shows it."""
    return {
        "contact_id": outcome.contact_id,
        "name": outcome.name,
        "thread": f"/inbox/{outcome.contact_id}",
        "queued": outcome.ok,
        "detail": outcome.reason,
        "follow": outcome.link or "",
    }


def refusal(row: dict) -> str:
    """A refusal for the summary toast, naming the recipient once."""
    return row["detail"] if row["detail"].startswith(row["name"]) else f"{row['name']}: {row['detail']}"


def without_field(error: DomainError) -> str:
    return error.message.removeprefix(f"{error.field}: ") if error.field else error.message
