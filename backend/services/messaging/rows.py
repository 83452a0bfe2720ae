"""Building Message rows and the conversation-summary updates that go with them (one place for all channels)."""
from __future__ import annotations

import uuid
from datetime import datetime

from pynamodb.exceptions import UpdateError

from backend.models.contact import ContactModel
from backend.models.messaging import MessageModel, StatusChange
from backend.services.rules.channels import channel_info

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


OPEN = "open"


def opens_window(channel: str) -> bool:
    """Whether a customer's message on `channel` opens a reply window (WhatsApp's 24 hours): only such a
    message moves `lastInboundAt`; a text or an email does not let us write on WhatsApp freely."""
    return channel_info(channel).window


def activity_actions(*, at: datetime, preview: str | None, channel: str, direction: str, latest: bool = True) -> list:
    """Update actions that put a message at the top of its contact's conversation in the inbox. `latest`
    False: an inbound message older than the contact's last one, which must not move lastInboundAt back.

    The conversation's state: the customer's message re-opens it (a resolved or pending one, and wakes a
    snoozed one) and, if nothing of theirs was waiting yet, starts the wait a first response is measured from
    (`awaitingSince`); our message starts a conversation open but leaves an existing one as it is, clears the
    failure marker (it is now the newest outbound message) and ends the wait."""
    actions = [
        ContactModel.lastActivityAt.set(at),
        ContactModel.lastPreview.set(preview_of(preview)),
        ContactModel.lastChannel.set(channel),
        ContactModel.lastDirection.set(direction),
    ]
    if direction == "inbound":
        actions += [ContactModel.unreadCount.add(1)] + ([ContactModel.lastInboundAt.set(at)] if latest and opens_window(channel) else [])
        actions += [ContactModel.conversationStatus.set(OPEN), ContactModel.snoozedUntil.remove()]
        actions += [ContactModel.awaitingSince.set(ContactModel.awaitingSince | at)]  # the first unanswered one
    else:
        actions += [ContactModel.conversationStatus.set(ContactModel.conversationStatus | OPEN), ContactModel.failedMessageId.remove(),
                    ContactModel.awaitingSince.remove()]
    return actions


def apply_activity(row: ContactModel, *, at: datetime, preview: str | None, channel: str, direction: str) -> None:
    """The same summary change on a loaded row (when the row is saved whole, e.g. with a consent change)."""
    row.lastActivityAt = at
    row.lastPreview = preview_of(preview)
    row.lastChannel = channel
    row.lastDirection = direction
    if direction == "inbound":
        row.unreadCount = int(row.unreadCount or 0) + 1
        if opens_window(channel):
            row.lastInboundAt = max(row.lastInboundAt or at, at)  # only forward: a late message leaves it be
        row.conversationStatus, row.snoozedUntil = OPEN, None
        row.awaitingSince = row.awaitingSince or at
    else:
        row.conversationStatus, row.failedMessageId, row.awaitingSince = row.conversationStatus or OPEN, None, None


def flag_failure(contact_id: str | None, message_id: str) -> None:
    """Mark the contact's conversation: an outbound message failed (the inbox list shows it until the next
    send, or a retry, clears it)."""
    if not contact_id:
        return
    try:
        ContactModel(contactId=contact_id, version=0).update(
            actions=[ContactModel.failedMessageId.set(message_id)],
            condition=ContactModel.deletedAt.does_not_exist() & ContactModel.lastActivityAt.exists(),
            add_version_condition=False,
        )
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
