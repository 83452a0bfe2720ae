"""How messages and conversations read on screen: plain strings and flags the inbox pages render."""
from __future__ import annotations

from datetime import datetime, timezone

from backend.services.rules.consent import window_open
from backend.services.messaging.conversations import STATUS_LABELS as CONVERSATION_STATUS
from backend.services.messaging.statuses import FAILURES, STATUS_LABELS
from backend.services.messaging.schemas import Conversation, Message, TimelineEntry
from wecare_app.components.formatting import CHANNEL_ICONS, CHANNEL_LABELS, initials, within_a_day

STATUS_TICKS = {
    "PENDING": "clock",
    "SENDING": "clock",
    "ACCEPTED": "check",
    "SENT": "check",
    "DELIVERED": "check-check",
    "READ": "check-check",
    "FAILED": "circle-alert",
    "DEAD": "circle-alert",
    "EXPIRED": "clock-alert",
}


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    if moment is None:
        return ""
    seconds = int(((now or datetime.now(timezone.utc)) - moment).total_seconds())
    return within_a_day(seconds) or moment.strftime("%d %b")


STATUS_COLORS = {"open": "green", "pending": "amber", "snoozed": "purple", "resolved": "gray"}


def conversation_row(item: Conversation, now: datetime | None = None, names: dict[str, str] | None = None,
                     colors: dict[str, str] | None = None) -> dict:
    """`names`: the team's names by user id (for the assignee); `colors`: the label catalog's colours."""
    closes = item.window_closes_at
    now = now or datetime.now(timezone.utc)
    assignee = (names or {}).get(item.assignee_id or "", "Someone") if item.assignee_id else ""
    return {
        "status": CONVERSATION_STATUS.get(item.status, item.status),
        "status_color": STATUS_COLORS.get(item.status, "gray"),
        "assignee": assignee,
        "assignee_initials": initials(assignee) if assignee else "",
        "labels": [{"name": name, "color": (colors or {}).get(name, "gray")} for name in item.labels],
        "failed": item.failed,
        "contact_id": item.contact_id,
        "name": item.name,
        "initials": initials(item.name),
        "address": item.phone or item.email or "",
        "preview": item.last_preview or "",
        "outbound": item.last_direction == "outbound",
        "channel": CHANNEL_LABELS.get(item.last_channel or "", item.last_channel or ""),
        "channel_icon": CHANNEL_ICONS.get(item.last_channel or "", "message-circle"),
        "when": ago(item.last_activity_at, now),
        "unread": item.unread_count,
        "window_open": window_open(closes, now),
        "opted_out": item.opted_out_whatsapp,
    }


def message_bubble(message: Message, media_url: str = "") -> dict:
    media = message.media
    return {
        "message_id": message.message_id,
        "outbound": message.direction == "outbound",
        "kind": message.kind,
        "body": message.body or "",
        "time": message.created_at.strftime("%d %b %H:%M"),
        "status": message.status,
        "status_label": STATUS_LABELS.get(message.status, message.status),
        "tick": STATUS_TICKS.get(message.status, ""),
        "read": message.status == "READ",
        "failed": message.status in FAILURES,
        "error": " ".join(filter(None, (message.error_code, message.error_message))),
        "media_kind": media.kind if media else "",
        "media_status": media.status if media else "",
        "media_url": media_url,
        "media_name": (media.filename or media.caption or media.kind) if media else "",
        "can_reply": bool(message.provider_message_id) and message.kind != "reaction" and message.channel == "whatsapp",
        "channel": CHANNEL_LABELS.get(message.channel, message.channel),
        "channel_icon": CHANNEL_ICONS.get(message.channel, "message-circle"),
        "subject": message.subject or "",
        "entry": "message",
        "can_retry": message.can_retry,
        "retry_refusal": message.retry_refusal or "",
        "author": "",
    }


def timeline_row(entry: TimelineEntry) -> dict:
    """A note or an event, in the same shape as a bubble (the thread renders one list)."""
    return {
        "message_id": entry.entry_id,
        "entry": entry.kind,
        "body": entry.body,
        "author": entry.author or "",
        "time": entry.created_at.strftime("%d %b %H:%M"),
        "outbound": False, "kind": entry.kind, "status": "", "status_label": "", "tick": "", "read": False,
        "failed": False, "error": "", "media_kind": "", "media_status": "", "media_url": "", "media_name": "",
        "can_reply": False, "channel": "", "channel_icon": "", "subject": "", "can_retry": False, "retry_refusal": "",
    }
