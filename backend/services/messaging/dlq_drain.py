"""The send queues' SQS dead-letter queues drained into the dead-letter table, so that a queue record that
failed every receive is seen, replayed or discarded from /admin/dlq like any other dead letter.

A record in a send queue's SQS dead-letter queue says only that delivering its message id crashed
`MAX_RECEIVES` times (infra/components/queues.py); the Message row says where the message is. Each pass of the
schedule (dlq-replay, every minute) receives a bounded number of records, channel by channel in turn, and for
each one:

- its message has left the outbox's hands (any status but PENDING or SENDING: it went out, failed, expired,
  or is DEAD and so already in the dead-letter table), or it already has an open dead letter, or one filed
  since the record was sent: the record is deleted, nothing else;
- its message is PENDING: it is dead-lettered by the outbox's own `dead_letter` (DEAD, and a waiting
  DLQMessage, in one transaction), and the record is deleted only once that write is read back;
- its message is SENDING: a worker holds it, or its claim lapsed and the outbox sweep settles it (asking
  the provider): the record is left for a later pass, which finds the message settled;
- it carries no message id (malformed), or its message no longer exists: deleted, and logged.

Nothing is lost and nothing is filed twice: a crash between the write and the delete leaves the record,
and the next pass finds the message DEAD (or its dead letter filed after the record was sent) and only deletes.
Locally there are no SQS dead-letter queues (`send_dead_letters` is None): the drain does nothing.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime

from backend.adapters.send_queue import DeadRecord, SqsDeadLetters, send_dead_letters
from backend.models.messaging import DLQMessageModel, MessageModel
from backend.services.messaging import outbox

log = logging.getLogger(__name__)

DRAIN_LIMIT = 40  # records one pass receives, all queues together: ~5 reads and writes each, well inside a run
DRAIN_BATCH = 10  # records one receive asks for (the SQS maximum)
# How long a received record stays hidden: longer than a pass can run (the schedule's function stops at 30 s),
# so a record a pass leaves is not received again by it, and short enough that the next passes see it.
DRAIN_VISIBILITY_SECONDS = 60
QUEUE_EXHAUSTED = "QUEUE_EXHAUSTED"  # not transient: the schedule never replays it, a person decides
QUEUE_EXHAUSTED_REASON = "queue: delivery attempts exhausted"
IN_OUTBOX = frozenset({"PENDING", "SENDING"})  # a message the outbox still has; any other status has left it


@dataclass
class DrainReport:
    recorded: int = 0  # dead-lettered: a new (or reopened) waiting entry in the dead-letter table
    cleared: int = 0  # the message was already settled or dead-lettered: the record only deleted
    malformed: int = 0  # no message id, or no such message: deleted, and logged
    left: int = 0  # kept for a later pass: a message being sent, or an error (logged)


def drain_send_dead_letters(limit: int | None = None, *, queues: SqsDeadLetters | None = None) -> DrainReport:
    """One pass: at most `limit` records (`DRAIN_LIMIT`), taken a batch at a time from each queue in turn so
    that one queue's flood cannot hold the others back. None configured (local): an empty report."""
    limit = DRAIN_LIMIT if limit is None else limit
    queues = queues or send_dead_letters()
    report = DrainReport()
    if queues is None:
        return report
    active = [channel for channel in queues.channels if _has_records(queues, channel)]
    received, seen = 0, set()
    while active and received < limit:
        for channel in list(active):
            if received >= limit:
                break
            try:
                batch = queues.receive(channel, min(DRAIN_BATCH, limit - received), DRAIN_VISIBILITY_SECONDS)
            except Exception:  # noqa: BLE001 - one queue's trouble does not stop the others
                log.exception("could not receive from the %s send dead-letter queue; the next pass tries again", channel)
                batch = []
            received += len(batch)
            # A record this pass left, back already (a pass slower than the visibility timeout): the next pass's.
            batch = [record for record in batch if (record.channel, record.record_id) not in seen]
            if not batch:
                active.remove(channel)
            seen.update((record.channel, record.record_id) for record in batch)
            for record in batch:
                outcome = _drain_record(queues, record)
                setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def drain_summary(limit: int | None = None) -> dict[str, int]:
    """One pass, as the schedule reports it (`queueRecorded`, `queueCleared`, `queueMalformed`, `queueLeft`,
    logged when anything happened); nothing where no SQS dead-letter queue is configured (local)."""
    queues = send_dead_letters()
    if queues is None:
        return {}
    report = drain_send_dead_letters(limit, queues=queues)
    summary = {f"queue{name.capitalize()}": count for name, count in asdict(report).items()}
    if any(summary.values()):
        log.info("send dead-letter queues drained: %s", summary)
    return summary


def _has_records(queues: SqsDeadLetters, channel: str) -> bool:
    try:
        return queues.waiting(channel) > 0
    except Exception:  # noqa: BLE001
        log.exception("could not count the %s send dead-letter queue; the next pass tries again", channel)
        return False


def _drain_record(queues: SqsDeadLetters, record: DeadRecord) -> str:
    """What became of one record: the DrainReport field to count it in."""
    if record.message_id is None:
        log.error("deleting malformed %s send dead-letter record %s (it carries no message id)", record.channel, record.record_id)
        return _deleted(queues, record, "malformed")
    try:
        message = _message(record.message_id)
        if message is None:
            log.warning("deleting %s send dead-letter record %s: message %s no longer exists", record.channel,
                        record.record_id, record.message_id)
            return _deleted(queues, record, "malformed")
        if _accounted_for(message, record.sent_at):
            return _deleted(queues, record, "cleared")
        if message.status == "SENDING":
            return "left"  # a worker holds it, or the sweep settles its lapsed claim; a later pass sees the result
        outbox.dead_letter(message, QUEUE_EXHAUSTED, QUEUE_EXHAUSTED_REASON, from_status=message.status)
        written = _message(record.message_id)  # read back: dead_letter leaves a message that moved on meanwhile
        if written is None or not _accounted_for(written, record.sent_at):
            return "left"
    except Exception:  # noqa: BLE001 - the record stays; the next pass decides again
        log.exception("could not drain %s send dead-letter record %s (message %s); left for the next pass",
                      record.channel, record.record_id, record.message_id)
        return "left"
    log.info("%s message %s dead-lettered from its send dead-letter queue", record.channel, record.message_id)
    return _deleted(queues, record, "recorded")


def _message(message_id: str) -> MessageModel | None:
    try:
        return MessageModel.get(message_id, consistent_read=True)
    except MessageModel.DoesNotExist:
        return None


def _accounted_for(message: MessageModel, sent_at: datetime | None) -> bool:
    """Whether a dead record of `message`, first sent at `sent_at`, is already accounted for: the outbox is done
    with the message (DEAD included: its dead letter was filed with it), or its dead letter is open, or was
    filed after the record was sent (a pass that crashed before its delete, and a replay since)."""
    if message.status not in IN_OUTBOX:
        return True
    try:
        entry = DLQMessageModel.get(outbox.dlq_id(message.channel, message.messageId), consistent_read=True)
    except DLQMessageModel.DoesNotExist:
        return False
    if not entry.is_live():
        return False
    return entry.state == "waiting" or (sent_at is not None and entry.failedAt >= sent_at)


def _deleted(queues: SqsDeadLetters, record: DeadRecord, outcome: str) -> str:
    try:
        queues.delete(record)
    except Exception:  # noqa: BLE001 - it comes back; the next pass finds it accounted for and deletes it
        log.exception("could not delete %s send dead-letter record %s; the next pass will", record.channel, record.record_id)
        return "left"
    return outcome
