"""How messages and conversations read on screen: plain strings and flags the inbox pages render."""
from __future__ import annotations

from datetime import datetime, timezone

from backend.services.rules.consent import window_open
from backend.services.messaging.schemas import Conversation, Message
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
STATUS_LABELS = {
    "PENDING": "Queued",
    "SENDING": "Sending",
    "ACCEPTED": "Accepted by WhatsApp",
    "SENT": "Sent",
    "DELIVERED": "Delivered",
    "READ": "Read",
    "FAILED": "Failed",
    "DEAD": "Failed after retries (dead-letter queue)",
    "EXPIRED": "Not sent: too late to be useful",
    "RECEIVED": "Received",
}


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    if moment is None:
        return ""
    seconds = int(((now or datetime.now(timezone.utc)) - moment).total_seconds())
    return within_a_day(seconds) or moment.strftime("%d %b")


def conversation_row(item: Conversation, now: datetime | None = None) -> dict:
    closes = item.window_closes_at
    now = now or datetime.now(timezone.utc)
    return {
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
        "failed": message.status in ("FAILED", "DEAD", "EXPIRED"),
        "error": " ".join(filter(None, (message.error_code, message.error_message))),
        "media_kind": media.kind if media else "",
        "media_status": media.status if media else "",
        "media_url": media_url,
        "media_name": (media.filename or media.caption or media.kind) if media else "",
        "can_reply": bool(message.provider_message_id) and message.kind != "reaction",
        "channel": CHANNEL_LABELS.get(message.channel, message.channel),
    }
