"""The outbox: an outbound message is a PENDING row first, then a queued id; delivery is at most once.

`deliver` claims the row (PENDING → SENDING, a conditional write) before it calls the provider, so a
redelivered queue message or a second worker never sends twice. Retryable provider errors put the row back
to PENDING and re-enqueue it with exponential backoff and jitter; permanent errors fail it at once; the last
retry dead-letters it. `sweep_stale` re-enqueues rows a crash left behind; `recover_after_restart` does so at
once when the local runtime starts. A send a crash interrupted (SENDING, its claim lapsed) is settled by asking
the provider whether it received it (`SendLookup`, the channel registry's `find_send`): yes → ACCEPTED with the
provider's id, no → sent again; where nobody can answer (a live provider) it is dead-lettered as outcome unknown.
A message still unsent at its send-by time (`send_by`: its creation plus the `outbox.sendBy` system setting,
24 hours by default) is never sent: it is EXPIRED, because a reminder that goes out days late is worse than none.
"""
from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Protocol

from pynamodb.exceptions import UpdateError

from backend.adapters.channels.errors import OUTCOME_UNKNOWN, ProviderError, classify_exception
from backend.adapters.send_queue import SEND_SECONDS_MAX, send_queue
from backend.models.base import utcnow
from backend.models.contact import ContactModel
from backend.models.messaging import PENDING_SEND, DLQMessageModel, MessageModel, StatusChange
from backend.services.messaging import campaign_recipients, quiet_hours
from backend.services.messaging.statuses import EXPIRED
from backend.services.platform import rate_limit, system_config
from backend.services.platform.access import Actor
from backend.services.platform.audit import audit_row
from backend.services.messaging.rows import activity_actions, flag_failure
from backend.services.storage.unit_of_work import UnitOfWork, WriteConflict
from backend.settings import get_settings

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 300.0
SEND_BY_KEY = "outbox.sendBy"  # SystemConfig: {"hours": n} (or minutes, seconds) a message may wait to be sent
DEFAULT_SEND_BY = timedelta(hours=24)
SEND_BY_PASSED = "SEND_BY_PASSED"
# A SENDING claim older than the longest send and this margin (the row's own reads and writes) has lapsed: the
# worker died holding it.
CLAIM_MARGIN_SECONDS = 10
CLAIM_LAPSES_AFTER = timedelta(seconds=SEND_SECONDS_MAX + CLAIM_MARGIN_SECONDS)


# ---------------------------------------------------------------- enqueue


def queue_outbound(row: MessageModel, work: UnitOfWork) -> None:
    """Commit the PENDING row (with whatever else `work` holds, e.g. its audit row), then enqueue its id."""
    row.pendingWork = PENDING_SEND
    work.save(row, MessageModel.messageId.does_not_exist())
    work.commit()
    enqueue(row.channel, row.messageId)


def queue_for_contact(
    actor: Actor,
    contact: ContactModel,
    row: MessageModel,
    *,
    preview: str,
    via: str,
    details: dict | None = None,
    work: UnitOfWork | None = None,
    audit: tuple[str, str, str] | None = None,
) -> None:
    """The send every channel shares: the PENDING row, the contact's conversation moved to the top and the
    audit row, committed together (with whatever `work` already holds), then the id queued.
    `audit` is (action, resource type, resource id); by default a "message.send" of the row.
    A campaign recipient's send (campaign_recipients.sending_for) writes its own message id and no more."""
    work = work or UnitOfWork()
    campaign = campaign_recipients.current()
    if campaign is not None:
        row.messageId, row.jobId = campaign.message_id, campaign.job_id
        try:
            queue_outbound(row, work)
        except WriteConflict:  # queued before (a runner that died and tried again): never a second message
            enqueue(row.channel, row.messageId)
        return
    row.responseSeconds = response_seconds(contact, row.createdAt)
    work.update(contact, activity_actions(at=row.createdAt, preview=preview, channel=row.channel, direction="outbound"))
    action, resource_type, resource_id = audit or ("message.send", "message", row.messageId)
    facts = {"channel": row.channel, "kind": row.kind, "contactId": contact.contactId, "via": via, **(details or {})}
    work.save(audit_row(actor, action, resource_type, resource_id, ["status"], facts, at=row.createdAt))
    queue_outbound(row, work)


def response_seconds(contact: ContactModel, at: datetime) -> int | None:
    """How long the customer had been waiting when a person's message went to them (the first response the
    analytics count), or None when nothing of theirs was waiting."""
    if contact.awaitingSince is None or at < contact.awaitingSince:
        return None
    return int((at - contact.awaitingSince).total_seconds())


def enqueue(channel: str, message_id: str, delay_seconds: float = 0.0) -> None:
    try:
        send_queue().enqueue(channel, message_id, delay_seconds)
    except Exception:  # the row is PENDING and durable: the sweep re-enqueues it
        log.exception("could not enqueue %s message %s; the outbox sweep will retry", channel, message_id)


# ---------------------------------------------------------------- delivery


@dataclass(frozen=True)
class Outcome:
    result: str  # accepted | retry | failed | dead | expired | skipped | waiting | missing | held
    detail: str = ""


class ChannelDelivery(Protocol):
    """How one channel hands a claimed row to its provider (the registry's `delivery` of the row's channel)."""

    def sender_id(self, row: MessageModel) -> str: ...

    def deliver(self, row: MessageModel) -> str: ...


def deliver(channel: str, message_id: str, delivery_for: Callable[[str], ChannelDelivery]) -> Outcome:
    """Deliver one queued message through `delivery_for(row.channel)` (the channel registry's, passed in by the
    queue door so the outbox never imports the channels that import it)."""
    try:
        row = MessageModel.get(message_id, consistent_read=True)
    except MessageModel.DoesNotExist:
        log.warning("queued %s message %s does not exist; dropped", channel, message_id)
        return Outcome("missing")
    if row.status != "PENDING":
        return Outcome("skipped", f"already {row.status}")
    if row.jobId and campaign_recipients.held(row.jobId):  # its campaign is paused: resume queues it again
        return Outcome("held", "campaign paused or cancelled")
    if row.jobId and (until := quiet_hours.held_until(row.address, utcnow())) is not None:
        return _wait_for_quiet_hours(row, until)
    if utcnow() > send_by(row):  # a late queue record (a retry, a redelivery, a sweep's) must not send it
        return Outcome("expired", SEND_BY_PASSED) if expire(row) else Outcome("skipped", "no longer PENDING")
    delivery = delivery_for(row.channel)
    wait = rate_limit.take(row.channel, delivery.sender_id(row))
    if wait > 0:
        enqueue(row.channel, message_id, wait)
        return Outcome("waiting", f"rate limited for {wait:.2f}s")
    if not _claim(row):
        return Outcome("skipped", "claimed by another worker")
    try:
        provider_id = delivery.deliver(row)
    except Exception as exc:  # noqa: BLE001 - every failure is classified, none is lost
        error = exc if isinstance(exc, ProviderError) else classify_exception(exc)
        return _after_failure(row, error)
    _accepted(row, provider_id)
    return Outcome("accepted", provider_id)


def _wait_for_quiet_hours(row: MessageModel, until: datetime) -> Outcome:
    """A campaign message due in quiet hours where its recipient is: back in the queue until they end (the row
    says until when, so the sweep does not take it for a message a crash left behind)."""
    if row.heldUntil != until:
        row.update_only(actions=[MessageModel.heldUntil.set(until)], condition=MessageModel.status == "PENDING")
    enqueue(row.channel, row.messageId, max(1.0, (until - utcnow()).total_seconds()))
    return Outcome("waiting", f"quiet hours until {until:%H:%M} UTC")


def _claim(row: MessageModel) -> bool:
    now = utcnow()
    try:
        row.update_only(
            actions=[
                MessageModel.status.set("SENDING"),
                MessageModel.attempts.add(1),
                MessageModel.updatedAt.set(now),
            ],
            condition=MessageModel.status == "PENDING",
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    row.status, row.attempts, row.updatedAt = "SENDING", int(row.attempts or 0) + 1, now  # as written
    return True


def _accepted(row: MessageModel, provider_id: str) -> None:
    now = utcnow()
    step = StatusChange(status="ACCEPTED", at=now, detail=f"attempt {int(row.attempts)}")
    try:
        row.update_only(
            actions=[
                MessageModel.status.set("ACCEPTED"),
                MessageModel.providerMessageId.set(provider_id),
                MessageModel.statusHistory.set(MessageModel.statusHistory.append([step])),
                MessageModel.errorCode.remove(),
                MessageModel.errorMessage.remove(),
                MessageModel.pendingWork.remove(),
                MessageModel.updatedAt.set(now),
            ],
            condition=MessageModel.status == "SENDING",
        )
        row.status, row.providerMessageId, row.updatedAt = "ACCEPTED", provider_id, now  # as written
        campaign_recipients.follow(row, "ACCEPTED")
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        # A status event already moved it on (it carries our id); keep that status, record the provider id.
        # Or the message was deleted while it was sending: then nothing is written (no partial row comes back).
        try:
            row.update(
                actions=[MessageModel.providerMessageId.set(provider_id), MessageModel.pendingWork.remove()],
                condition=MessageModel.messageId.exists(),
            )
        except UpdateError as gone:
            if gone.cause_response_code != "ConditionalCheckFailedException":
                raise


def backoff_seconds(attempt: int, base: float | None = None) -> float:
    """Exponential backoff with equal jitter: half the step fixed, half random."""
    base = get_settings().retry_base_seconds if base is None else base
    step = min(MAX_BACKOFF_SECONDS, base * 2 ** max(0, attempt - 1))
    return step / 2 + random.uniform(0, step / 2)


def _after_failure(row: MessageModel, error: ProviderError) -> Outcome:
    attempts = int(row.attempts)
    if error.code == OUTCOME_UNKNOWN:  # the provider may have it: never resent blindly, a replay checks first
        dead_letter(row, OUTCOME_UNKNOWN, error.message)
        return Outcome("dead", OUTCOME_UNKNOWN)
    if not error.retryable:
        _finish(row, "FAILED", error.code, error.message, f"permanent error: {error.code}")
        return Outcome("failed", error.code)
    if attempts >= get_settings().send_attempts:
        dead_letter(row, error.code, f"{error.message} (after {attempts} attempts)")
        return Outcome("dead", error.code)
    delay = backoff_seconds(attempts)
    now = utcnow()
    step = StatusChange(status="PENDING", at=now, detail=f"{error.code}: retry {attempts + 1} in {delay:.1f}s")
    row.update(
        actions=[
            MessageModel.status.set("PENDING"),
            MessageModel.errorCode.set(error.code),
            MessageModel.errorMessage.set(error.message),
            MessageModel.statusHistory.set(MessageModel.statusHistory.append([step])),
            MessageModel.updatedAt.set(now),
        ],
        condition=MessageModel.status == "SENDING",
    )
    enqueue(row.channel, row.messageId, delay)
    return Outcome("retry", f"{error.code} in {delay:.1f}s")


def _finish_actions(status: str, code: str, message: str, detail: str, now: datetime) -> list:
    return [
        MessageModel.status.set(status),
        MessageModel.errorCode.set(code),
        MessageModel.errorMessage.set(message),
        MessageModel.statusHistory.set(MessageModel.statusHistory.append([StatusChange(status=status, at=now, detail=detail)])),
        MessageModel.pendingWork.remove(),
        MessageModel.updatedAt.set(now),
    ]


def _finish(row: MessageModel, status: str, code: str, message: str, detail: str, condition=None) -> None:
    row.update(
        actions=_finish_actions(status, code, message, detail, utcnow()),
        condition=condition if condition is not None else MessageModel.status == "SENDING",
    )
    if row.jobId:
        campaign_recipients.follow(row, status, code=code, error=message)
    else:
        flag_failure(row.contactId, row.messageId)  # every status _finish sets is a failure the inbox shows


# ---------------------------------------------------------------- send-by


def send_by_window() -> timedelta:
    """How long a queued message may wait to be sent (`outbox.sendBy` in SystemConfig, else 24 hours)."""
    return system_config.duration(SEND_BY_KEY, DEFAULT_SEND_BY)


def send_by(row: MessageModel) -> datetime:
    """The time after which `row` is never sent: when it was queued (created, or replayed by a person), plus
    the send-by window."""
    return (row.queuedAt or row.createdAt) + send_by_window()


def expire(row: MessageModel) -> bool:
    """Mark a PENDING row EXPIRED (it leaves the sweep's index); False if it is no longer PENDING."""
    reason = f"not sent within {_spoken(send_by_window())} of being queued; a late reminder is worse than none"
    try:
        _finish(row, EXPIRED, SEND_BY_PASSED, reason, "not sent by its send-by time", condition=MessageModel.status == "PENDING")
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    log.info("%s message %s expired unsent (queued %s)", row.channel, row.messageId, row.createdAt.isoformat())
    return True


def _spoken(window: timedelta) -> str:
    """ "24 h", "90 min", "45 s": the window in the largest unit that states it exactly."""
    seconds = window.total_seconds()
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{int(seconds // size)} {unit}"
    return f"{seconds:g} s"


def dlq_id(channel: str, message_id: str) -> str:
    return f"{channel}#{message_id}"


def dead_letter(row: MessageModel, code: str, message: str, *, from_status: str = "SENDING") -> None:
    """Mark the message DEAD and (re)file it in the DLQ, in one transaction (a crash between the two would
    leave a DEAD message nobody can replay); a message keeps one DLQ row, so replays add up. Nothing happens
    when the row has moved on from `from_status` meanwhile (a status came: it is not dead)."""
    now = utcnow()
    work = UnitOfWork()
    work.update(row, _finish_actions("DEAD", code, message, "moved to the dead-letter queue", now),
                condition=MessageModel.status == from_status, label="message")
    work.update(
        DLQMessageModel(dlqId=dlq_id(row.channel, row.messageId)),
        [
            DLQMessageModel.queue.set(row.channel),
            DLQMessageModel.messageId.set(row.messageId),
            DLQMessageModel.contactId.set(row.contactId) if row.contactId else DLQMessageModel.contactId.remove(),
            DLQMessageModel.payload.set({"messageId": row.messageId, "channel": row.channel, "address": row.address, "request": row.payload}),
            DLQMessageModel.error.set(message),
            DLQMessageModel.errorCode.set(code),
            DLQMessageModel.attempts.set(int(row.attempts or 0)),
            DLQMessageModel.replayCount.set(DLQMessageModel.replayCount | 0),
            DLQMessageModel.state.set("waiting"),
            DLQMessageModel.failedAt.set(now),
            DLQMessageModel.expiresAt.set(now + DLQMessageModel.retention),
        ],
    )
    try:
        work.commit()
    except WriteConflict:
        log.info("%s message %s moved on from %s before it was dead-lettered; left as it is", row.channel, row.messageId, from_status)
        return
    if row.jobId:
        campaign_recipients.follow(row, "DEAD", code=code, error=message)
    else:
        flag_failure(row.contactId, row.messageId)


# ---------------------------------------------------------------- crash recovery


@dataclass
class SweepReport:
    requeued: int = 0
    dead_lettered: int = 0
    expired: int = 0
    settled: int = 0  # interrupted sends the provider turned out to have: ACCEPTED with its id


@dataclass(frozen=True)
class SendLookup:
    """What the provider says of one message's send: `answered` False when it cannot be asked (a live provider);
    else `provider_id` is the id it gave the send, or None when it never received it."""

    answered: bool
    provider_id: str | None = None


UNANSWERED = SendLookup(False)
FindSend = Callable[[MessageModel], SendLookup]


def sweep_stale(now: datetime | None = None, *, pending_after: timedelta | None = None,
                find_send: FindSend | None = None) -> SweepReport:
    """Re-enqueue PENDING rows untouched for `pending_after` (default `pending_stale_seconds`), and expire those
    past their send-by time. A SENDING row whose claim has lapsed is settled by `find_send` (the registry's: the
    provider is asked whether it has the send): ACCEPTED if it has, sent again if it has not; where the provider
    cannot say, dead-lettered as outcome unknown (it may have it: a person decides, and a replay checks first)."""
    now = now or utcnow()
    if pending_after is None:
        pending_after = timedelta(seconds=get_settings().pending_stale_seconds)
    pending_before, claimed_before = now - pending_after, now - CLAIM_LAPSES_AFTER
    report = SweepReport()
    for key in MessageModel.by_pending_work.query(PENDING_SEND, MessageModel.createdAt <= max(pending_before, claimed_before)):
        try:
            row = MessageModel.get(key.messageId, consistent_read=True)
            done = _sweep_row(row, now, pending_before, claimed_before, find_send or (lambda _row: UNANSWERED))
        except MessageModel.DoesNotExist:
            continue
        except UpdateError as error:  # the row moved on while we looked (claimed, or a status came): leave it
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            continue
        if done:
            setattr(report, done, getattr(report, done) + 1)
    return report


def _sweep_row(row: MessageModel, now: datetime, pending_before: datetime, claimed_before: datetime,
               find_send: FindSend) -> str | None:
    """What the sweep did with one row: the SweepReport field to count it in, or None."""
    if row.status == "PENDING" and now > send_by(row):
        return "expired" if expire(row) else None
    if row.status == "PENDING" and row.heldUntil is not None and row.heldUntil > now:
        return None  # waiting out quiet hours: its queue record comes back when they end
    if row.status == "PENDING" and row.updatedAt <= pending_before:
        row.update(actions=[MessageModel.updatedAt.set(now)], condition=MessageModel.status == "PENDING")
        enqueue(row.channel, row.messageId)
        return "requeued"
    if row.status == "SENDING" and row.updatedAt <= claimed_before:
        return _settle_interrupted(row, now, find_send(row))
    return None


def _settle_interrupted(row: MessageModel, now: datetime, found: SendLookup) -> str:
    if not found.answered:
        dead_letter(row, OUTCOME_UNKNOWN, "The send was interrupted; the provider may or may not have it.")
        return "dead_lettered"
    if found.provider_id:
        _accepted(row, found.provider_id)
        return "settled"
    # The provider never received it and the worker that claimed it is gone: the claim is released (the same
    # claim only: a worker that claimed it since keeps it) and the message goes out as a new attempt.
    row.update(actions=[MessageModel.status.set("PENDING"), MessageModel.updatedAt.set(utcnow())],
               condition=(MessageModel.status == "SENDING") & (MessageModel.updatedAt == row.updatedAt))
    enqueue(row.channel, row.messageId)
    return "requeued"


def recover_after_restart(now: datetime | None = None, *, find_send: FindSend | None = None) -> SweepReport:
    """The sweep the local runtime runs as it starts: the in-memory queue died with the last process, so every
    PENDING row is re-enqueued at once (a second queue record for a row still queued elsewhere is harmless: the
    claim is conditional), not after `pending_stale_seconds`."""
    return sweep_stale(now, pending_after=timedelta(0), find_send=find_send)
