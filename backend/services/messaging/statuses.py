"""The outbound status vocabulary, and provider status events (sent, delivered, read, failed) applied to
outbound messages, never backwards."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import UpdateError

from backend.models.base import utcnow
from backend.models.messaging import MessageModel, StatusChange
from backend.services.messaging import campaign_recipients
from backend.services.messaging.rows import flag_failure

log = logging.getLogger(__name__)

# Outbound statuses only move forward along this order. FAILED (a permanent error) ends a message, and so does
# EXPIRED (never sent: still queued at its send-by time, when a late reminder is worse than none); DEAD (retries
# exhausted, or the outcome of a send is unknown) can still move forward if the provider reports it went out.
EXPIRED = "EXPIRED"
CANCELLED = "CANCELLED"  # a campaign's message, still queued when the campaign was cancelled: never sent
STATUS_RANK = {"PENDING": 0, "SENDING": 1, "DEAD": 1, "ACCEPTED": 2, "SENT": 3, "DELIVERED": 4, "READ": 5}
WENT_OUT = {"ACCEPTED", "SENT", "DELIVERED", "READ"}
FINAL = {"FAILED", EXPIRED, CANCELLED, "RECEIVED"}  # nothing moves a message on from these
TERMINAL = {"READ", *FINAL}
FAILURES = frozenset({"FAILED", "DEAD", EXPIRED})  # did not reach the recipient (DEAD: so far; a replay may)
STATUSES = (*STATUS_RANK, "FAILED", EXPIRED, CANCELLED, "RECEIVED")  # every status a message row can have
# Each status in words, for every page and view that shows one (the thread's ticks, the composer's Last send).
STATUS_LABELS = {
    "PENDING": "Queued",
    "SENDING": "Sending",
    "DEAD": "Failed after retries (dead-letter queue)",
    "ACCEPTED": "Accepted by the provider",
    "SENT": "Sent",
    "DELIVERED": "Delivered",
    "READ": "Read",
    "FAILED": "Failed",
    EXPIRED: "Not sent: too late to be useful",
    CANCELLED: "Not sent: the campaign was cancelled",
    "RECEIVED": "Received",
}
assert set(STATUS_LABELS) == set(STATUSES), "every status needs its words"
PROVIDER_STATUSES = {"sent": "SENT", "delivered": "DELIVERED", "read": "READ", "failed": "FAILED"}


def may_move(current: str, new: str) -> bool:
    """True if an outbound message may go from `current` to `new` (statuses arrive out of order)."""
    if current in FINAL:
        return False
    if new == "FAILED":
        return STATUS_RANK.get(current, 0) <= STATUS_RANK["SENT"]
    return STATUS_RANK.get(new, -1) > STATUS_RANK.get(current, 0)


def previous_statuses(new: str) -> list[str]:
    """The statuses a message may be in for `new` to apply (the condition of the status update)."""
    return [status for status in STATUS_RANK if may_move(status, new)]


@dataclass(frozen=True)
class ProviderStatus:
    channel: str
    provider_message_id: str
    status: str  # SENT | DELIVERED | READ | FAILED
    at: datetime
    error_code: str | None = None
    error_detail: str | None = None
    message_id: str | None = None  # our id, when the provider echoes it back (e.g. biz_opaque_callback_data)


def message_id_for_provider_id(provider_message_id: str) -> str | None:
    for row in MessageModel.by_provider_id.query(provider_message_id, limit=1):
        return row.messageId
    return None


def apply_status(event: ProviderStatus) -> bool:
    """Move the message to `event.status` if that is forward; False for unknown messages and stale events."""
    message_id = event.message_id or message_id_for_provider_id(event.provider_message_id)
    if not message_id:
        log.info("status %s for unknown %s message %s", event.status, event.channel, event.provider_message_id)
        return False
    detail = " ".join(filter(None, (event.error_code, event.error_detail))) or None
    now = utcnow()
    actions = [
        MessageModel.status.set(event.status),
        MessageModel.updatedAt.set(now),
        MessageModel.statusHistory.set(
            MessageModel.statusHistory.append([StatusChange(status=event.status, at=event.at, detail=detail)])
        ),
        MessageModel.providerMessageId.set(event.provider_message_id),
        MessageModel.pendingWork.remove(),
    ]
    if event.status == "FAILED":
        actions += [
            MessageModel.errorCode.set(event.error_code or "FAILED"),
            MessageModel.errorMessage.set(event.error_detail or "The provider reported the message as failed."),
        ]
    condition = (MessageModel.direction == "outbound") & MessageModel.status.is_in(*previous_statuses(event.status))
    row = MessageModel(messageId=message_id)
    try:
        row.update(actions=actions, condition=condition)  # the row as it is now (ALL_NEW)
    except UpdateError as error:
        if _condition_failed(error):
            if event.status != "SENT":  # as below: a SENT event never moves a recipient (its acceptance did)
                campaign_recipients.catch_up([message_id])  # a repeated event: a recipient left behind follows
            return False
        raise
    if row.jobId and event.status != "SENT":  # the outbox moved its recipient to SENT when the provider took it
        campaign_recipients.follow(row, event.status, code=event.error_code, error=event.error_detail)
    elif event.status == "FAILED":
        flag_failure(row.contactId, message_id)
    return True


def _condition_failed(error: UpdateError) -> bool:
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"
