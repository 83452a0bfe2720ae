"""Building Message rows and the conversation-summary updates that go with them (one place for all channels)."""
from __future__ import annotations

import uuid
from datetime import datetime

from backend.models.contact import INBOX_PARTITION, ContactModel
from backend.models.messaging import MessageModel, StatusChange

PREVIEW_CHARS = 140
_INBOUND_NAMESPACE = uuid.UUID("6f1c7d3e-2b4a-4e8f-9a51-0c2d3e4f5a6b")


def inbound_message_id(channel: str, provider_message_id: str) -> str:
    """Deterministic id of an inbound message, so a redelivery lands on the same key (exactly once)."""
    return uuid.uuid5(_INBOUND_NAMESPACE, f"{channel}:{provider_message_id}").hex


def new_message_id() -> str:
    return uuid.uuid4().hex


def new_message_row(
    *,
    message_id: str,
    channel: str,
    direction: str,
    status: str,
    now: datetime,
    detail: str | None = None,
    **attributes,
) -> MessageModel:
    row = MessageModel(
        messageId=message_id,
        channel=channel,
        direction=direction,
        status=status,
        createdAt=now,
        updatedAt=now,
        day=now.strftime("%Y-%m-%d"),
        statusHistory=[StatusChange(status=status, at=now, detail=detail)],
        **attributes,
    )
    row.stamp_expiry()  # retention counts from when we stored it, whatever time the provider reports
    return row


def outbound_row(actor_id: str | None, contact: ContactModel, *, channel: str, kind: str, body: str, now: datetime,
                 address: str | None, sender: str, payload: dict, message_id: str | None = None, **attributes) -> MessageModel:
    """A PENDING outbound message to a contact (what every channel's send writes before queueing)."""
    return new_message_row(
        message_id=message_id or new_message_id(),
        channel=channel,
        direction="outbound",
        status="PENDING",
        now=now,
        contactId=contact.contactId,
        kind=kind,
        body=body,
        payload=payload,
        address=address,
        sender=sender,
        createdBy=actor_id,
        **attributes,
    )


def preview_of(text: str | None) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + "…"


def activity_actions(*, at: datetime, preview: str | None, channel: str, direction: str, latest: bool = True) -> list:
    """Update actions that put a message at the top of its contact's conversation in the inbox. `latest`
    False: an inbound message older than the contact's last one, which must not move lastInboundAt back."""
    actions = [
        ContactModel.inboxPartition.set(INBOX_PARTITION),
        ContactModel.lastActivityAt.set(at),
        ContactModel.lastPreview.set(preview_of(preview)),
        ContactModel.lastChannel.set(channel),
        ContactModel.lastDirection.set(direction),
    ]
    if direction == "inbound":
        actions += [ContactModel.unreadCount.add(1)] + ([ContactModel.lastInboundAt.set(at)] if latest else [])
    return actions


def apply_activity(row: ContactModel, *, at: datetime, preview: str | None, channel: str, direction: str) -> None:
    """The same summary change on a loaded row (when the row is saved whole, e.g. with a consent change)."""
    row.inboxPartition = INBOX_PARTITION
    row.lastActivityAt = at
    row.lastPreview = preview_of(preview)
    row.lastChannel = channel
    row.lastDirection = direction
    if direction == "inbound":
        row.unreadCount = int(row.unreadCount or 0) + 1
        row.lastInboundAt = max(row.lastInboundAt or at, at)  # only forward: a late message leaves it be
