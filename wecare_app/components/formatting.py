"""How values read on screen, shared by the pages that show messages, conversations and dead letters: channel
names, icons and colours, times (relative and in UTC) and shortened text. Plain Python, no components."""
from __future__ import annotations

from datetime import datetime, timezone

CHANNEL_LABELS = {"whatsapp": "WhatsApp", "sms": "SMS", "email": "Email", "voice": "Voice"}
CHANNEL_ICONS = {"whatsapp": "message-circle", "sms": "message-square", "email": "mail", "voice": "phone"}
CHANNEL_COLORS = {"whatsapp": "green", "sms": "blue", "email": "violet", "voice": "orange"}


def as_utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive datetime is taken to be UTC already."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def utc_stamp(moment: datetime | None) -> str:
    """'07 Mar 2025, 14:03:09 UTC', or "" without a moment."""
    return as_utc(moment).strftime("%d %b %Y, %H:%M:%S UTC") if moment else ""


def within_a_day(seconds: int) -> str:
    """How long ago `seconds` is, when it is under a day: "just now", "5 min ago", "3 h ago". From a day on it
    is "": each page words older moments its own way (a date, a number of days)."""
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return ""


def shorten(text: str, limit: int) -> str:
    """`text` on one line (runs of white space folded), cut with an ellipsis to at most `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def duration(seconds: float) -> str:
    """'42 min', '1 h 05 min'."""
    minutes = max(0, int(seconds // 60))
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def initials(name: str) -> str:
    """Up to two letters (any alphabet) for an avatar: 'Ann Lee' → 'AL', 'M<ario' → 'M', 'Émile Zola' → 'ÉZ',
    '' or '42' → '?'. Letters only, so punctuation typed into a name never shows up as an avatar."""
    words = ["".join(ch for ch in word if ch.isalpha()) for word in name.split()]
    return "".join(word[0] for word in words if word)[:2].upper() or "?"
