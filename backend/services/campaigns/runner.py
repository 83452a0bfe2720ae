"""The campaign runner: expands jobs into recipient rows, starts them when due, hands their messages to the
outbox at the channel's rate, finishes and cancels them. Locally a thread of the app runs `run_once` in a
loop (backend/runtime/campaigns.py); in AWS the bulk-job-control function runs it on its schedule.

Nothing is lost or sent twice across a crash:
- a job is worked by one runner at a time (a lease on the job row, taken with a conditional write);
- the expansion writes a page of recipient rows (the same rows again if it is repeated) and then moves its
  cursor and adds the page's skip reasons in one conditional write, so a page is counted once;
- a recipient's message has the recipient's own id (campaign_recipients.campaign_message_id), so a send
  repeated after a crash finds it queued; a runner that has just taken a job over checks which of a batch's
  messages exist before it sends, so a contact who opted out meanwhile is not marked skipped for a message
  that is already queued;
- the outbox claims each message before the provider call (at most once) and re-queues what a crash left;
- a recipient whose message moved on without it (the process died between the two writes, and the provider's
  events were lost with it) is brought up to its message once every recipient is handed over (`_catch_up`),
  so a job never waits forever on a recipient whose message has long gone out.
"""
from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from pynamodb.exceptions import UpdateError

from backend.errors import DomainError
from backend.models.base import utcnow
from backend.models.campaigns import BulkAudienceChunk, BulkJobModel, BulkRecipientModel
from backend.models.contact import ContactModel
from backend.models.messaging import MessageModel
from backend.services.campaigns import jobs
from backend.services.channels.registry import entry
from backend.services.contacts.tags import tagged_page
from backend.services.messaging.campaign_recipients import CampaignSend, campaign_message_id, catch_up, sending_for
from backend.services.messaging.reachability import reach_row
from backend.services.messaging.statuses import CANCELLED
from backend.services.rules.channels import Channel
from backend.services.rules.consent import reason_of
from backend.services.channels.rate_limits import bucket_sender
from backend.services.platform import rate_limit, system_config
from backend.services.platform.access import Actor, Role
from backend.services.platform.audit import audit_row
from backend.services.storage.batch_reads import rows_by_key

log = logging.getLogger(__name__)

RUNNER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
LEASE = timedelta(seconds=30)
EXPAND_PAGE = 500
CANCEL_PAGE = 500
DISPATCH_MOST = 200  # recipients one step hands to the outbox
PACE_AHEAD_SECONDS = 0.5  # a job may get this much of its rate ahead of the clock
UNLIMITED_KEY = "bulk.unlimited"  # SystemConfig true: campaigns are not paced (benchmarks); the outbox still limits

_leases: dict[str, datetime] = {}  # job → until when this runner holds it
_taken_over: set[str] = set()  # jobs this runner took from another (or from before a restart): check before sending
_pace: dict[str, tuple[float, float]] = {}  # job → (monotonic time of the last step, sends allowed but not used)
SEND_THREADS = 8  # a batch's sends overlap (each waits on the tables and the queue)
CATCH_UP_SECONDS = 10.0  # how often a job whose recipients are all handed over looks for ones left behind
CATCH_UP_PAGE = 100
_caught_up: dict[str, float] = {}  # job → monotonic time of its last catch-up
_pool: ThreadPoolExecutor | None = None


def _senders() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(SEND_THREADS, thread_name_prefix="campaign-send")
    return _pool


def run_once() -> bool:
    """One pass over the active jobs; True when there was work (the loop then comes back at once)."""
    worked = False
    for status in jobs.ACTIVE:
        for job in BulkJobModel.by_status.query(status):
            if not _lease(job):
                continue
            try:
                worked |= _step(job)
            except Exception:  # noqa: BLE001 - one job's trouble never stops the others
                log.exception("bulk job %s: step failed; trying again", job.jobId)
    return worked


def _step(job: BulkJobModel) -> bool:
    if job.status == jobs.EXPANDING:
        return _expand(job)
    if job.status == jobs.SCHEDULED:
        if job.scheduledAt is None or job.scheduledAt <= utcnow():
            return _move(job, jobs.SCHEDULED, jobs.SENDING, [BulkJobModel.startedAt.set(utcnow())])
        return False
    if job.status == jobs.SENDING:
        return _dispatch(job)
    if job.status == jobs.CANCELLING:
        return _cancel_rest(job)
    return False


# ---------------------------------------------------------------- lease


def _lease(job: BulkJobModel) -> bool:
    now = utcnow()
    held = _leases.get(job.jobId)
    if held is not None and job.leaseOwner == RUNNER_ID and held - now > LEASE / 2:
        return True
    free = BulkJobModel.leaseOwner.does_not_exist() | (BulkJobModel.leaseOwner == RUNNER_ID) | (BulkJobModel.leaseUntil < now)
    try:
        job.update(actions=[BulkJobModel.leaseOwner.set(RUNNER_ID), BulkJobModel.leaseUntil.set(now + LEASE)], condition=free)
    except UpdateError as error:
        if _condition_failed(error):
            return False
        raise
    if held is None:
        _taken_over.add(job.jobId)
    _leases[job.jobId] = now + LEASE
    return True


def _condition_failed(error: Exception) -> bool:
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def _move(job: BulkJobModel, frm: str, to: str, actions: list | None = None) -> bool:
    """The job from `frm` to `to` (nothing if someone changed it meanwhile: a pause, a cancel)."""
    try:
        job.update(actions=[BulkJobModel.status.set(to), BulkJobModel.updatedAt.set(utcnow()), *(actions or [])],
                   condition=BulkJobModel.status == frm)
    except UpdateError as error:
        if _condition_failed(error):
            return False
        raise
    return True


# ---------------------------------------------------------------- expansion


def _free_form(job: BulkJobModel) -> bool:
    return job.channel != "whatsapp" or (job.message or {}).get("type") != "template"


def _expand(job: BulkJobModel) -> bool:
    cursor = dict(job.expandCursor or {})
    if cursor.get("retry"):
        return _requeue_failed(job)
    audience = job.audience or {}
    if "tags" in audience:
        rows, start = tagged_page(list(audience["tags"]), cursor.get("start"), EXPAND_PAGE)
        next_cursor = {"start": start} if start else None
    else:
        number = int(cursor.get("chunk", 0))
        try:
            ids = BulkAudienceChunk.get(BulkAudienceChunk.key(job.jobId, number)).contactIds
        except BulkAudienceChunk.DoesNotExist:
            ids = []
        found = rows_by_key(ContactModel, list(ids))
        rows = [row if row is not None else ContactModel(contactId=contact_id, name=contact_id, deletedAt=utcnow())
                for contact_id, row in zip(ids, found)]
        next_cursor = {"chunk": number + 1} if number + 1 < int(audience.get("chunks", 0)) else None
    now = utcnow()
    skipped = dict(job.skipped or {})
    written = 0
    with BulkRecipientModel.batch_write() as batch:
        for contact in rows:
            reach = reach_row(contact, job.channel, free_form=_free_form(job), now=now)
            status = "PENDING" if reach.ok else "SKIPPED"
            if not reach.ok:
                skipped[reach.code or "UNREACHABLE"] = skipped.get(reach.code or "UNREACHABLE", 0) + 1
            batch.save(BulkRecipientModel(
                jobId=job.jobId, contactId=contact.contactId, status=status, jobStatus=BulkRecipientModel.job_status(job.jobId, status),
                name=reach.name, address=reach.address, attempt=0, reason=None if reach.ok else reach.code,
                error=None if reach.ok else reach.reason, updatedAt=now,
            ))
            written += 1
    total = int(cursor.get("written", 0)) + written
    actions = [BulkJobModel.skipped.set(skipped), BulkJobModel.updatedAt.set(now)]
    if next_cursor is not None:
        actions.append(BulkJobModel.expandCursor.set({**next_cursor, "written": total}))
    else:
        due = job.scheduledAt is not None and job.scheduledAt > now
        actions += [BulkJobModel.expandCursor.remove(), BulkJobModel.totalRecipients.set(total),
                    BulkJobModel.status.set(jobs.SCHEDULED if due else jobs.SENDING)]
        if not due:
            actions.append(BulkJobModel.startedAt.set(now))
    same = BulkJobModel.expandCursor.does_not_exist() if not job.expandCursor else BulkJobModel.expandCursor == job.expandCursor
    try:
        job.update(actions=actions, condition=same & (BulkJobModel.status == jobs.EXPANDING))
    except UpdateError as error:
        if not _condition_failed(error):
            raise
    return True


def _requeue_failed(job: BulkJobModel) -> bool:
    """retry_failed: each FAILED recipient waits again, for a new message of its own (the next round's id)."""
    now = utcnow()
    keys = list(BulkRecipientModel.by_job_status.query(BulkRecipientModel.job_status(job.jobId, "FAILED"), limit=EXPAND_PAGE))
    for key in keys:
        recipient = BulkRecipientModel(jobId=job.jobId, contactId=key.contactId)
        try:
            recipient.update(actions=[
                BulkRecipientModel.status.set("PENDING"), BulkRecipientModel.jobStatus.set(BulkRecipientModel.job_status(job.jobId, "PENDING")),
                BulkRecipientModel.attempt.add(1), BulkRecipientModel.messageId.remove(), BulkRecipientModel.reason.remove(),
                BulkRecipientModel.error.remove(), BulkRecipientModel.updatedAt.set(now)],
                condition=BulkRecipientModel.status == "FAILED")
        except UpdateError as error:
            if not _condition_failed(error):
                raise
    if len(keys) < EXPAND_PAGE:
        _move(job, jobs.EXPANDING, jobs.SENDING, [BulkJobModel.expandCursor.remove(), BulkJobModel.dispatchCursor.remove()])
    return True


# ---------------------------------------------------------------- sending


def _allowance(job: BulkJobModel) -> int:
    """How many messages this step may hand to the outbox: the channel's rate since the last step (the
    outbox's token bucket is what enforces it; this keeps the queue short, so a pause is felt at once)."""
    if system_config.cached(UNLIMITED_KEY) is True:
        return DISPATCH_MOST
    sender, _ = bucket_sender(Channel(job.channel))  # the bucket the outbox takes from
    per_second = rate_limit.bucket_config(job.channel, sender).per_second
    now = time.monotonic()
    last, carry = _pace.get(job.jobId, (now - 0.1, 0.0))
    budget = min(carry + (now - last) * per_second, max(1.0, per_second * PACE_AHEAD_SECONDS))
    allowed = int(min(budget, DISPATCH_MOST))
    _pace[job.jobId] = (now, budget - allowed)
    return allowed


def _actor(job: BulkJobModel) -> Actor:
    """The campaign's sends are its creator's (an Operator's at least: creating the job needed bulk:write)."""
    return Actor(user_id=job.createdBy, role=Role.OPERATOR)


def _dispatch(job: BulkJobModel) -> bool:
    allowed = _allowance(job)
    if allowed <= 0:
        return False
    pending = BulkRecipientModel.job_status(job.jobId, "PENDING")
    after = BulkRecipientModel.contactId > job.dispatchCursor if job.dispatchCursor else None
    keys = [key.contactId for key in BulkRecipientModel.by_job_status.query(pending, after, limit=allowed, page_size=allowed)]
    if not keys:
        return _finish_if_done(job)
    rows = {row.contactId: row for row in BulkRecipientModel.batch_get([(job.jobId, contact_id) for contact_id in keys])}
    ids = {contact_id: campaign_message_id(job.jobId, contact_id, int(rows[contact_id].attempt or 0)) for contact_id in keys if contact_id in rows}
    queued_before: set[str] = set()
    if job.jobId in _taken_over:
        queued_before = {row.messageId for row in MessageModel.batch_get(list(ids.values()), attributes_to_get=["messageId"])}
    send = entry(job.channel).send
    actor = _actor(job)

    def send_one(contact_id: str) -> bool:
        """Queue one recipient's message; False when something unexpected stopped it (tried again later)."""
        try:
            with sending_for(CampaignSend(job.jobId, contact_id, ids[contact_id])):
                send(actor, {**(job.message or {}), "contactId": contact_id}, via="bulk")
        except DomainError as error:
            _skip(job, contact_id, error)
        except Exception:  # noqa: BLE001 - left waiting: the next pass tries it again
            log.exception("bulk job %s: could not queue the message to %s", job.jobId, contact_id)
            return False
        return True

    todo = [c for c in keys if (row := rows.get(c)) is not None and row.status == "PENDING" and ids[c] not in queued_before]
    if not all(_senders().map(send_one, todo)):
        return True  # the cursor stays: the batch is tried again (what was queued is found queued)
    _taken_over.discard(job.jobId)
    job.update(actions=[BulkJobModel.dispatchCursor.set(keys[-1]), BulkJobModel.updatedAt.set(utcnow())])
    return True


def _skip(job: BulkJobModel, contact_id: str, error: DomainError) -> None:
    """The send refused this recipient (an opt-out since the job was prepared, a closed window, ...)."""
    reason = reason_of(error)
    try:
        BulkRecipientModel(jobId=job.jobId, contactId=contact_id).update(actions=[
            BulkRecipientModel.status.set("SKIPPED"), BulkRecipientModel.jobStatus.set(BulkRecipientModel.job_status(job.jobId, "SKIPPED")),
            BulkRecipientModel.reason.set(error.code), BulkRecipientModel.error.set(reason), BulkRecipientModel.updatedAt.set(utcnow())],
            condition=BulkRecipientModel.status == "PENDING")
    except UpdateError as failure:
        if not _condition_failed(failure):
            raise


def _finish_if_done(job: BulkJobModel) -> bool:
    """Every recipient handed over: the job is finished once none is still waiting for its message."""
    counts = jobs.recipient_counts(job, fresh=True)
    if counts["PENDING"]:
        return False
    if counts["QUEUED"]:
        return _catch_up(job)
    now = utcnow()
    _caught_up.pop(job.jobId, None)
    if _move(job, jobs.SENDING, jobs.FINISHED, [BulkJobModel.counts.set(counts), BulkJobModel.finishedAt.set(now)]):
        _summary(job, "bulk.finish", counts, now)
    return True


def _catch_up(job: BulkJobModel) -> bool:
    """Recipients handed over whose message is already past the outbox (sent, delivered, failed) follow it now;
    at most every CATCH_UP_SECONDS per job, a page at a time. True when it moved any."""
    now = time.monotonic()
    last = _caught_up.setdefault(job.jobId, now)  # the first look waits too: most are simply in flight
    if now - last < CATCH_UP_SECONDS:
        return False
    _caught_up[job.jobId] = now
    waiting = BulkRecipientModel.by_job_status.query(BulkRecipientModel.job_status(job.jobId, "PENDING"),
                                                     BulkRecipientModel.contactId <= job.dispatchCursor, limit=CATCH_UP_PAGE)
    keys = [(job.jobId, key.contactId) for key in waiting]
    rows = BulkRecipientModel.batch_get(keys) if keys else []
    moved = catch_up([campaign_message_id(job.jobId, row.contactId, int(row.attempt or 0)) for row in rows if row.status == "PENDING"])
    if moved:
        log.info("bulk job %s: %d recipient(s) caught up with their messages", job.jobId, moved)
    return moved > 0


def _summary(job: BulkJobModel, action: str, counts: dict, at: datetime) -> None:
    actor = Actor.system("bulk-runner")
    audit_row(actor, action, "bulk_job", job.jobId, ["status"], {"name": job.name, "counts": counts}, at=at).save()
    log.info("bulk job %s (%s) %s: %s", job.jobId, job.name, action.split(".")[-1], counts)


# ---------------------------------------------------------------- cancel


def _cancel_rest(job: BulkJobModel) -> bool:
    """Every recipient still waiting is CANCELLED (its queued message too, unless the outbox has taken it:
    then it follows its message); the job is cancelled once none is left waiting."""
    now = utcnow()
    keys = list(BulkRecipientModel.by_job_status.query(BulkRecipientModel.job_status(job.jobId, "PENDING"), limit=CANCEL_PAGE))
    rows = BulkRecipientModel.batch_get([(job.jobId, key.contactId) for key in keys]) if keys else []
    in_flight = 0
    for row in rows:
        if job.dispatchCursor and row.contactId <= job.dispatchCursor and not _cancel_message(campaign_message_id(job.jobId, row.contactId, int(row.attempt or 0))):
            in_flight += 1
            continue
        try:
            row.update(actions=[BulkRecipientModel.status.set("CANCELLED"), BulkRecipientModel.jobStatus.set(BulkRecipientModel.job_status(job.jobId, "CANCELLED")),
                                BulkRecipientModel.updatedAt.set(now)], condition=BulkRecipientModel.status == "PENDING")
        except UpdateError as error:
            if not _condition_failed(error):
                raise
    if len(keys) - in_flight > 0:
        return True
    counts = jobs.recipient_counts(job, fresh=True)
    if counts["PENDING"] or counts["QUEUED"]:
        return False  # messages the outbox had taken: their recipients follow them within seconds
    if _move(job, jobs.CANCELLING, jobs.CANCELLED, [BulkJobModel.counts.set(counts), BulkJobModel.finishedAt.set(now)]):
        _summary(job, "bulk.cancelled", counts, now)
    return True


def _cancel_message(message_id: str) -> bool:
    """A queued campaign message that has not gone out is never sent: CANCELLED (True); False when the outbox
    has it (SENDING or beyond)."""
    now = utcnow()
    try:
        MessageModel(messageId=message_id).update(
            actions=[MessageModel.status.set(CANCELLED), MessageModel.pendingWork.remove(), MessageModel.updatedAt.set(now)],
            condition=MessageModel.status == "PENDING")
    except UpdateError as error:
        if not _condition_failed(error):
            raise
        try:
            return MessageModel.get(message_id, attributes_to_get=["status"]).status == CANCELLED
        except MessageModel.DoesNotExist:
            return True  # never queued
    return True


def run_for(seconds: float, *, margin: float = 5.0) -> dict:
    """Passes until `seconds` (less `margin`) have gone: a scheduled function's run (bulk-job-control)."""
    deadline = time.monotonic() + max(0.0, seconds - margin)
    passes = 0
    while time.monotonic() < deadline:
        passes += 1
        if not run_once():
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
    return {"passes": passes}
