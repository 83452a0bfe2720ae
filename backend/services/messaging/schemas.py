"""Messages and conversations as they cross the service boundary (the status rules are in statuses.py)."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from backend.models.contact import ContactModel
from backend.models.messaging import MessageModel
from backend.services.messaging.statuses import EXPIRED, FAILURES
from backend.services.rules.channels import Channel
from backend.services.rules.consent import consent_state, window_closes_at
from backend.services.platform.api_model import ApiView


class StatusStep(ApiView):
    status: str
    at: datetime
    detail: str | None = None


class MediaInfo(ApiView):
    kind: str
    status: str
    file_id: str | None = None
    mime_type: str | None = None
    size_bytes: int | None = None
    filename: str | None = None
    caption: str | None = None
    error: str | None = None


class Message(ApiView):
    message_id: str
    contact_id: str | None = None
    channel: str
    direction: str
    kind: str
    status: str
    body: str | None = None
    subject: str | None = None
    segments: int | None = None
    media: MediaInfo | None = None
    address: str | None = None
    provider_message_id: str | None = None
    reply_to: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    attempts: int = 0
    status_history: list[StatusStep] = []
    created_by: str | None = None
    sent_by_ai: bool = False  # an AI auto-reply (services/ai/auto_reply.py): the thread marks it
    created_at: datetime
    updated_at: datetime
    retried_as: str | None = None
    can_retry: bool = False  # a failed outbound message that may be sent again as a new one (retry_refusal)
    retry_refusal: str | None = None  # why not, for a failed message that may not


RETRYABLE = ("FAILED", EXPIRED)


# Who an AI auto-reply is sent as (its Message rows' createdBy, its audit rows' actor).
AI_AUTO_REPLY_USER = "system:ai-auto-reply"


def retry_refusal(row: MessageModel) -> str | None:
    """Why a failed outbound message may not be sent again from the thread (None: it may). Only one that never
    went out (the provider refused it, or it expired unsent), and only once; a dead letter is replayed from
    the dead-letter queue, where its risk of having gone out is weighed."""
    if row.direction != "outbound" or row.status not in FAILURES:
        return "only a failed outbound message is sent again"
    if row.status == "DEAD":
        return "it is in the dead-letter queue: an Admin replays it there"
    if row.retriedAs:
        return "it was sent again already"
    if row.channel == Channel.WHATSAPP.value and row.kind != "text":
        return "send it again from the reply box or the composer (only a text is repeated as it was)"
    return None


def to_message(row: MessageModel) -> Message:
    refusal = retry_refusal(row)
    media = None
    if row.media is not None:
        media = MediaInfo(
            kind=row.media.kind,
            status=row.media.status,
            file_id=row.media.fileId,
            mime_type=row.media.mimeType,
            size_bytes=int(row.media.sizeBytes) if row.media.sizeBytes is not None else None,
            filename=row.media.filename,
            caption=row.media.caption,
            error=row.media.error,
        )
    return Message(
        message_id=row.messageId,
        contact_id=row.contactId,
        channel=row.channel,
        direction=row.direction,
        kind=row.kind,
        status=row.status,
        body=row.body,
        subject=row.subject,
        segments=int(row.segments) if row.segments is not None else None,
        media=media,
        address=row.address,
        provider_message_id=row.providerMessageId,
        reply_to=row.replyTo,
        error_code=row.errorCode,
        error_message=row.errorMessage,
        attempts=int(row.attempts or 0),
        status_history=[StatusStep(status=s.status, at=s.at, detail=s.detail) for s in row.statusHistory or []],
        created_by=row.createdBy,
        sent_by_ai=row.createdBy == AI_AUTO_REPLY_USER,
        created_at=row.createdAt,
        updated_at=row.updatedAt,
        retried_as=row.retriedAs,
        can_retry=refusal is None,
        retry_refusal=refusal if row.status in FAILURES else None,  # nothing to say of a message that did not fail
    )


class Conversation(ApiView):
    contact_id: str
    name: str
    phone: str | None = None
    email: str | None = None
    last_activity_at: datetime
    last_preview: str | None = None
    last_channel: str | None = None
    last_direction: str | None = None
    unread_count: int = 0
    last_inbound_at: datetime | None = None
    opted_out_whatsapp: bool = False
    window_closes_at: datetime | None = None  # WhatsApp's 24-hour window (None: the customer never wrote)
    status: str = "open"  # open | pending | snoozed | resolved
    assignee_id: str | None = None
    snoozed_until: datetime | None = None
    labels: list[str] = []
    failed_message_id: str | None = None  # an outbound message failed and nothing was sent since

    @property
    def failed(self) -> bool:
        return self.failed_message_id is not None


def to_conversation(row: ContactModel) -> Conversation:
    return Conversation(
        contact_id=row.contactId,
        name=row.name,
        phone=row.phone,
        email=row.email,
        last_activity_at=row.lastActivityAt,
        last_preview=row.lastPreview,
        last_channel=row.lastChannel,
        last_direction=row.lastDirection,
        unread_count=int(row.unreadCount or 0),
        last_inbound_at=row.lastInboundAt,
        opted_out_whatsapp=consent_state(row, Channel.WHATSAPP).opted_out,
        window_closes_at=window_closes_at(row.lastInboundAt),
        status=row.conversationStatus or "open",
        assignee_id=row.assigneeId,
        snoozed_until=row.snoozedUntil,
        labels=sorted(row.labels or ()),
        failed_message_id=row.failedMessageId,
    )


class TimelineEntry(ApiView):
    """A private note or a conversation event in the thread (never a message: never sent, never counted)."""

    entry_id: str
    contact_id: str
    kind: str  # note | event
    body: str
    action: str | None = None  # an event's: assigned | status | labels
    author: str | None = None  # who wrote the note or made the change (their email)
    details: dict = {}
    created_by: str | None = None
    created_at: datetime


def to_entry(row: MessageModel) -> TimelineEntry:
    """A timeline row read back through MessageModel (the same table and attributes; see TimelineEntryModel)."""
    payload = dict(row.payload or {})
    return TimelineEntry(
        entry_id=row.messageId,
        contact_id=row.contactId or "",
        kind=row.kind,
        body=row.body or "",
        action=payload.pop("action", None),
        author=payload.pop("author", None),
        details=payload,
        created_by=row.createdBy,
        created_at=row.createdAt,
    )


class Page(BaseModel):
    """One page of any listing, with the opaque cursor of the next."""

    items: list
    next_token: str | None = None

    def to_api(self) -> dict:
        return {"items": [item.to_api() for item in self.items], "nextToken": self.next_token}
