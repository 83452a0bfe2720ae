"""How the composer reads on screen: the reachability rows, the window, the SMS counter and the send outcomes
(plain strings and flags the page renders)."""
from __future__ import annotations

from datetime import datetime

from backend.services.rules.channels import CHANNEL_NAMES
from backend.errors import DomainError
from backend.services.channels.sms.send import segment_info
from backend.services.messaging.reachability import Reach
from backend.services.channels.send_many import SendOutcome
from backend.services.messaging.progress import Progress
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
    """One recipient's outcome of a send, as the "Last send" list shows it. A queued message (`message_id`) is
    followed live until it settles; a call is followed on its own page (`follow`)."""
    return {
        "contact_id": outcome.contact_id,
        "name": outcome.name,
        "thread": f"/inbox/{outcome.contact_id}",
        "queued": outcome.ok,
        "failed": False,
        "detail": outcome.reason,
        "follow": outcome.link or "",
        "message_id": outcome.message_id or "",
        "settled": not outcome.message_id,
        "updated": "",  # when the status shown was written (ISO), so a late, older read is not shown over it
    }


def with_progress(row: dict, progress: Progress | None) -> dict:
    """The row once its message has moved on: the status in the service's words, and why when it failed. A
    read older than the one shown (two reads can finish out of order) changes nothing."""
    if progress is None or row["message_id"] != progress.message_id:
        return row
    updated = progress.updated_at.isoformat()
    if row["updated"] and datetime.fromisoformat(row["updated"]) >= progress.updated_at:
        return row
    detail = f"{progress.label}: {progress.reason}" if progress.failed and progress.reason else progress.label
    return {**row, "detail": detail, "failed": progress.failed, "settled": progress.settled, "updated": updated}


def followed_ids(rows: list[dict]) -> set[str]:
    """The messages of the last send whose status may still change."""
    return {row["message_id"] for row in rows if row["message_id"] and not row["settled"]}


def refusal(row: dict) -> str:
    """A refusal for the summary toast, naming the recipient once."""
    return row["detail"] if row["detail"].startswith(row["name"]) else f"{row['name']}: {row['detail']}"


def without_field(error: DomainError) -> str:
    return error.message.removeprefix(f"{error.field}: ") if error.field else error.message
