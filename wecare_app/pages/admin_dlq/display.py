"""How dead letters read on screen: the filter choices, one table row per entry (with its recipient), the
payload, the summary of a replay or discard and what became of each entry. Plain Python over the service's
views: whom an entry was for, what may be done with it (and why not) and whether a replay of it failed again
come from the view (`DeadLetter.recipient_name`, `can_replay`, `failed_again`, ...), never from the page."""
from __future__ import annotations

import json
from collections import Counter
from datetime import datetime

import reflex as rx

from backend.services.messaging.dlq import MAX_REPLAYS, QUEUES, DeadLetter, DlqResult
from wecare_app.components.formatting import CHANNEL_COLORS, as_utc, shorten, utc_stamp, within_a_day

ALL = "all"
LIST_LIMIT = 200
BULK_LIMIT = 500  # the most ids one replay or discard request takes
ERROR_PREVIEW = 120  # characters of the error shown in the table (the dialog shows all of it)
QUEUE_CHOICES = [ALL, *QUEUES]
STATE_CHOICES = ["waiting", "replayed", "delivered", "discarded", ALL]
AGE_CHOICES = {"any": ("Any age", None), "5m": ("Older than 5 min", 5), "1h": ("Older than 1 hour", 60), "1d": ("Older than 1 day", 1440)}
DEFAULT_FILTERS = (ALL, "", "any", "waiting")  # queue, error code, age, state

_STATE_COLORS = {"waiting": "amber", "replayed": "blue", "delivered": "green", "discarded": "gray"}
_OUTCOME_LABELS = (
    ("replayed", "replayed"),
    ("already_delivered", "already delivered"),
    ("discarded", "discarded"),
    ("refused", "refused"),
    ("skipped", "skipped"),
)
_NOT_DONE = ("refused", "skipped")  # outcomes whose reason the summary spells out
# What became of one entry, as its line in the outcome panel says it (the reason follows refusals and skips).
_OUTCOME_WORDS = {
    "replayed": ("queued again", "blue"),
    "already_delivered": ("already delivered: closed without sending it again", "green"),
    "discarded": ("discarded", "gray"),
    "refused": ("refused", "red"),
    "skipped": ("skipped, not sent", "amber"),
}


def relative(moment: datetime, now: datetime) -> str:
    seconds = max(0, int((as_utc(now) - as_utc(moment)).total_seconds()))
    days = seconds // 86400
    return within_a_day(seconds) or f"{days} day{'s' if days != 1 else ''} ago"


def sentence(reason: str | None) -> str:
    """A service's reason ('already discarded') as a tooltip reads it ('Already discarded')."""
    return reason[:1].upper() + reason[1:] if reason else ""


def recipient_label(entry: DeadLetter) -> str:
    """Whom the entry was for, in a sentence: the contact's name, or "Deleted contact (+44…)"."""
    if entry.recipient_deleted and entry.recipient_address:
        return f"{entry.recipient_name} ({entry.recipient_address})"
    return entry.recipient_name or entry.recipient_address or entry.dlq_id


def failed_again_text(recipient: str, error: str) -> str:
    return f"Replay of {recipient} failed again: {error}"


def _outcome_words(result: DlqResult) -> tuple[str, str]:
    """('refused (replayed 5 times already; discard it)', 'red'): what became of one entry, and its colour."""
    words, color = _OUTCOME_WORDS.get(result.outcome, (result.outcome, "gray"))
    reason = f" ({result.reason})" if result.outcome in _NOT_DONE and result.reason else ""
    return words + reason, color


def outcome_line(result: DlqResult, recipient: str) -> dict[str, str]:
    """One entry's line in the outcome panel: '<recipient>: refused (replayed 5 times already; discard it)'."""
    text, color = _outcome_words(result)
    return {"dlq_id": result.dlq_id, "text": f"{recipient}: {text}", "color": color}


def outcome_note(result: DlqResult) -> dict[str, str] | None:
    """The notice a refused or skipped entry's row carries ('Refused (already replayed)'); None otherwise."""
    if result.outcome not in _NOT_DONE:
        return None
    text, color = _outcome_words(result)
    return {"text": sentence(text), "color": color}


def dead_letter_row(entry: DeadLetter, now: datetime, note: dict[str, str] | None = None) -> dict[str, str]:
    """The row of `entry`; its notice says a replay failed again (from the view) or else `note`, the page's
    last word on it (a refusal or a skip, with the reason)."""
    if entry.failed_again:
        note = {"text": failed_again_text(recipient_label(entry), entry.error), "color": "red"}
    note = note or {}
    return {
        "dlq_id": entry.dlq_id,
        "recipient_name": entry.recipient_name,
        "recipient_address": entry.recipient_address or "",
        "recipient_href": f"/inbox/{entry.contact_id}" if entry.contact_id and not entry.recipient_deleted else "",
        "notice": note.get("text", ""),
        "notice_color": note.get("color", "gray"),
        "queue": entry.queue,
        "queue_color": CHANNEL_COLORS.get(entry.queue, "gray"),
        "message_id": entry.message_id or "",
        "contact_id": entry.contact_id or "",
        "error": shorten(entry.error, ERROR_PREVIEW),
        "error_full": entry.error,
        "error_code": entry.error_code or "",
        "attempts": str(entry.attempts),
        "replays": f"{entry.replay_count}/{MAX_REPLAYS}",
        "can_replay": "yes" if entry.can_replay else "",
        "replay_blocked": sentence(entry.replay_blocked_reason),
        "needs_send_anyway": "yes" if entry.needs_send_anyway else "",
        "replay_risk": entry.replay_risk or "",
        "can_discard": "yes" if entry.can_discard else "",
        "discard_blocked": sentence(entry.discard_blocked_reason),
        "selectable": "yes" if entry.can_replay or entry.can_discard else "",
        "state": entry.state,
        "state_color": _STATE_COLORS.get(entry.state, "gray"),
        "failed_rel": relative(entry.failed_at, now),
        "failed_abs": utc_stamp(entry.failed_at),
        "last_replay": f"{utc_stamp(entry.last_replay_at)} by {entry.last_replay_by or 'system'}" if entry.last_replay_at else "never",
    }


def payload_json(entry: DeadLetter) -> str:
    return json.dumps(entry.payload, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def refusals(entries: list[DeadLetter]) -> str:
    """Why some of `entries` would be refused a replay: 'replayed 5 times already; discard it'."""
    return "; ".join(dict.fromkeys(e.replay_blocked_reason for e in entries if e.replay_blocked_reason))


def bulk_preview(entries: list[DeadLetter]) -> tuple[int, str, int, str]:
    """What a replay of `entries` together will do, by their views: (refused, why, skipped, why). Skipped are
    those that may already have been delivered: only a "Send anyway" of each one sends them."""
    skipped = [e for e in entries if e.needs_send_anyway]
    refused = [e for e in entries if not e.can_replay and not e.needs_send_anyway]
    return len(refused), refusals(refused), len(skipped), refusals(skipped)


def outcome_summary(results: list[DlqResult]) -> str:
    """'3 replayed, 1 refused, 2 skipped: replayed 5 times already; may already have been delivered; ...'."""
    if not results:
        return "Nothing to do: no entry was chosen or none is waiting."
    counts = Counter(r.outcome for r in results)
    parts = [f"{counts[key]} {label}" for key, label in _OUTCOME_LABELS if counts.get(key)]
    text = ", ".join(parts)
    reasons = list(dict.fromkeys(r.reason for r in results if r.outcome in _NOT_DONE and r.reason))
    return text + (": " + "; ".join(reasons) if reasons else "")


def summary_toast(results: list[DlqResult]):
    text = outcome_summary(results)
    if not results or all(r.outcome in _NOT_DONE for r in results):
        return rx.toast.error(text, close_button=True)
    if any(r.outcome in _NOT_DONE for r in results):
        return rx.toast.warning(text, close_button=True)
    return rx.toast.success(text)
