"""A campaign's message and its recipient: the send path stays the channel's own, and the recipient follows.

The campaign runner (services/campaigns/) sends each recipient's message through the channel registry's send
service, as a single send does, inside `sending_for(CampaignSend(...))`. There the outbox (`queue_for_contact`)
does three things differently, and only these:
- the message id is the recipient's own (`campaign_message_id`: the job, the contact and the retry round), so a
  runner that dies after queueing and tries again finds the message there and never queues a second one;
- no audit row per message (a campaign's actions are audited once per job) and the contact's conversation is
  not moved (a campaign does not open thousands of conversations; the thread still shows the message);
- the message row carries `jobId`, so its recipient row follows what happens to it: `follow` below, called by
  the outbox when the provider takes the message or it fails, and by the status events after that.

A recipient only moves forward (PENDING → SENT → DELIVERED → READ), or to FAILED from PENDING or SENT; a
message that went out after all (a replay from the dead-letter queue) moves a FAILED recipient on again.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from pynamodb.exceptions import UpdateError

from backend.models.base import utcnow
from backend.models.campaigns import BulkJobModel, BulkRecipientModel
from backend.services.storage.expiring_map import ExpiringMap
from backend.models.messaging import MessageModel

log = logging.getLogger(__name__)

RECIPIENT_RANK = {"PENDING": 0, "FAILED": 1, "SENT": 2, "DELIVERED": 3, "READ": 4}
# A message status (the outbox's, or a provider's event) → its recipient's.
RECIPIENT_STATUS_OF = {"ACCEPTED": "SENT", "SENT": "SENT", "DELIVERED": "DELIVERED", "READ": "READ",
                       "FAILED": "FAILED", "DEAD": "FAILED", "EXPIRED": "FAILED"}


@dataclass(frozen=True)
class CampaignSend:
    job_id: str
    contact_id: str
    message_id: str


_current: ContextVar[CampaignSend | None] = ContextVar("campaign_send", default=None)


def campaign_message_id(job_id: str, contact_id: str, attempt: int) -> str:
    """The id of a recipient's message in one round (32 hex characters, like every message id)."""
    return hashlib.sha256(f"{job_id}\0{contact_id}\0{attempt}".encode()).hexdigest()[:32]


@contextlib.contextmanager
def sending_for(campaign: CampaignSend) -> Iterator[None]:
    token = _current.set(campaign)
    try:
        yield
    finally:
        _current.reset(token)


def current() -> CampaignSend | None:
    """The campaign recipient the send under way is for (None for every other send)."""
    return _current.get()


HELD = ("paused", "cancelling", "cancelled")  # a job in these sends nothing more, even what it has queued
_job_status: ExpiringMap[str] = ExpiringMap(capacity=1_000, ttl_seconds=0.5)


def held(job_id: str) -> bool:
    """Whether a campaign's queued messages must wait (paused) or never go (cancelled): read at most every half
    second per job, so a pause holds the queue within a second."""
    status = _job_status.get(job_id)
    if status is None:
        try:
            status = BulkJobModel.get(job_id, attributes_to_get=["status"]).status
        except BulkJobModel.DoesNotExist:
            status = "cancelled"  # deleted: nothing of it goes out any more
        _job_status.put(job_id, status)
    return status in HELD


def forget_job(job_id: str) -> None:
    _job_status.forget(job_id)


def follow(row: MessageModel, message_status: str, *, code: str | None = None, error: str | None = None) -> bool:
    """Move a campaign message's recipient to what `message_status` means for it, if that is forward; False
    when the message is no campaign's, or the recipient is already there or beyond (or has another message)."""
    status = RECIPIENT_STATUS_OF.get(message_status)
    if not row.jobId or not row.contactId or status is None:
        return False
    if status == "FAILED":
        earlier = ["PENDING", "SENT"]  # refused at once, or accepted and then not delivered
    else:
        earlier = [name for name, rank in RECIPIENT_RANK.items() if rank < RECIPIENT_RANK[status]] + ["FAILED"]  # it went out after all
    actions = [
        BulkRecipientModel.status.set(status),
        BulkRecipientModel.jobStatus.set(BulkRecipientModel.job_status(row.jobId, status)),
        BulkRecipientModel.messageId.set(row.messageId),
        BulkRecipientModel.updatedAt.set(utcnow()),
    ]
    if status == "FAILED":
        actions += [BulkRecipientModel.reason.set(code or "FAILED"), BulkRecipientModel.error.set(error or "The message was not delivered.")]
    else:
        actions += [BulkRecipientModel.reason.remove(), BulkRecipientModel.error.remove()]
    condition = BulkRecipientModel.status.is_in(*earlier) & (
        BulkRecipientModel.messageId.does_not_exist() | (BulkRecipientModel.messageId == row.messageId)
    )
    try:
        BulkRecipientModel(jobId=row.jobId, contactId=row.contactId).update_only(actions=actions, condition=condition)
    except UpdateError as failure:
        if getattr(failure, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def catch_up(message_ids: list[str]) -> int:
    """The recipients of these messages follow them as they are now (a recipient left behind when a process died
    between its message's write and its own); messages of no campaign are left alone. How many moved."""
    moved = 0
    for start in range(0, len(message_ids), 100):
        part = message_ids[start:start + 100]
        for row in MessageModel.batch_get(part, attributes_to_get=["messageId", "jobId", "contactId", "status", "errorCode", "errorMessage"]):
            moved += follow(row, row.status, code=row.errorCode, error=row.errorMessage)
    return moved
