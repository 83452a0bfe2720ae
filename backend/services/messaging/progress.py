"""How far a few messages have got, by id: what the composer's "Last send" shows for each recipient as the
provider reports Sent, Delivered, Read or Failed.

The change feed names a message the moment it is written; its row is read by key (one consistent
BatchGetItem for all of them), because the indexes lag the table. Each answer carries the status in words
from the status vocabulary's own words (statuses.STATUS_LABELS), so no page words a status its own way.
"""
from __future__ import annotations

from datetime import datetime

from backend.models.base import utcnow
from backend.models.messaging import MessageModel
from backend.services.messaging.statuses import FAILURES, STATUS_LABELS, TERMINAL
from backend.services.platform.validation import check_row_ids
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.api_model import ApiView
from backend.services.storage.batch_reads import rows_by_key

PROGRESS_MAX = 100  # ids one read takes (the composer sends to at most 50 contacts)



class Progress(ApiView):
    """One message's status as a person reads it: `label` in words, `reason` when it failed, `settled` once
    nothing will move it on (so a follower can stop asking), and `updated_at` to tell a newer read from an
    older one that arrives late."""

    message_id: str
    status: str
    label: str
    failed: bool
    settled: bool
    reason: str | None = None
    updated_at: datetime


def message_progress(actor: Actor, message_ids: list[str]) -> list[Progress]:
    """The progress of each outbound message that still exists, in the order asked (a deleted or expired one
    is left out: there is nothing more to follow; so is anything that is not an outbound message)."""
    require(actor, Operation.MESSAGES_READ)
    ids = check_row_ids(message_ids, "messageIds", PROGRESS_MAX)
    now = utcnow()
    rows = rows_by_key(MessageModel, ids, consistent=True)
    return [_progress(row) for row in rows if row is not None and row.is_live(now) and row.direction == "outbound"]


def _progress(row: MessageModel) -> Progress:
    failed = row.status in FAILURES
    reason = " ".join(filter(None, (row.errorMessage or None, f"({row.errorCode})" if row.errorCode else None)))
    return Progress(
        message_id=row.messageId,
        status=row.status,
        label=STATUS_LABELS.get(row.status, row.status),
        failed=failed,
        settled=row.status in TERMINAL,
        reason=(reason or None) if failed else None,
        updated_at=row.updatedAt,
    )
