"""Messages and conversations as they cross the service boundary (the status rules are in statuses.py)."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from backend.models.contact import ContactModel
from backend.models.messaging import MessageModel
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
    created_at: datetime
    updated_at: datetime


def to_message(row: MessageModel) -> Message:
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
        created_at=row.createdAt,
        updated_at=row.updatedAt,
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
    )


class Page(BaseModel):
    """One page of any listing, with the opaque cursor of the next."""

    items: list
    next_token: str | None = None

    def to_api(self) -> dict:
        return {"items": [item.to_api() for item in self.items], "nextToken": self.next_token}
