"""Bulk campaigns: create, list, read, pause/resume/cancel/retry, delete. The work itself (the audience
expanded into recipient rows, the sends paced through the outbox) is the runner's (runner.py), never the
request's.

A job's life: `expanding` (its recipients are being written, the unreachable ones SKIPPED with the reason) →
`scheduled` (until its time) → `sending` → `finished`; `paused` interrupts any of the first three and resume
goes back; cancel (`cancelling` while the rest is marked CANCELLED, then `cancelled`) is final; retry_failed
sends a new message to each FAILED recipient (the job is `expanding` again while they are re-queued).
The rules of what may happen next live in `ACTIONS` and nowhere else: the views carry them (`canPause` …).
"""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field, field_validator

from backend.errors import Conflict, DomainError, NotFound, ValidationError
from backend.models.base import utcnow
from backend.models.campaigns import BulkAudienceChunk, BulkJobModel, BulkRecipientModel
from backend.services.channels.registry import entry
from backend.services.channels.whatsapp.templates import approved_template
from backend.services.contacts.fields import normalise_tags
from backend.services.messaging.campaign_recipients import campaign_message_id, forget_job
from backend.services.messaging import quiet_hours
from backend.services.messaging.outbox import enqueue
from backend.services.contacts.tags import contacts_with_tags
from backend.services.platform import system_config
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.api_model import ApiModel, ApiView
from backend.services.platform.audit import audit_row
from backend.services.platform.validation import check_choice, check_row_ids, parse_input
from backend.services.rules.channels import CHANNEL_NAMES
from backend.services.rules.consent import reason_of
from backend.services.storage import page_tokens
from backend.services.storage.expiring_map import ExpiringMap
from backend.services.storage.unit_of_work import UnitOfWork, WriteConflict

CONFIRM_KEY = "bulk.confirmThreshold"  # SystemConfig: {"recipients": n}; more than n need `confirmed: true`
DEFAULT_CONFIRM_THRESHOLD = 20
MAX_CONTACT_IDS = 10_000  # contact ids one request may list (more: an audience by tags)
CHUNK_IDS = 1_000  # contact ids per audience chunk row
SCHEDULE_MAX = timedelta(days=90)

EXPANDING, SCHEDULED, SENDING, PAUSED, FINISHED, CANCELLING, CANCELLED = (
    "expanding", "scheduled", "sending", "paused", "finished", "cancelling", "cancelled")
JOB_STATUSES = (EXPANDING, SCHEDULED, SENDING, PAUSED, FINISHED, CANCELLING, CANCELLED)
ACTIVE = (EXPANDING, SCHEDULED, SENDING, CANCELLING)  # the runner's work
JOB_STATUS_LABELS = {EXPANDING: "Preparing recipients", SCHEDULED: "Scheduled", SENDING: "Sending", PAUSED: "Paused",
                     FINISHED: "Finished", CANCELLING: "Cancelling", CANCELLED: "Cancelled"}
# What each action may start from; retry_failed also needs failed recipients, delete is its own rule.
ACTIONS = {"pause": (EXPANDING, SCHEDULED, SENDING), "resume": (PAUSED,),
           "cancel": (EXPANDING, SCHEDULED, SENDING, PAUSED), "retry_failed": (FINISHED, PAUSED, SENDING),
           "reschedule": (EXPANDING, SCHEDULED)}
DELETABLE = (FINISHED, CANCELLED)

RECIPIENT_STATUSES = ("PENDING", "QUEUED", "SENT", "DELIVERED", "READ", "FAILED", "SKIPPED", "CANCELLED")
STORED_STATUSES = tuple(s for s in RECIPIENT_STATUSES if s != "QUEUED")  # QUEUED: PENDING and handed to the outbox
RECIPIENT_LABELS = {"PENDING": "Waiting", "QUEUED": "Queued", "SENT": "Sent", "DELIVERED": "Delivered", "READ": "Read",
                    "FAILED": "Failed", "SKIPPED": "Skipped", "CANCELLED": "Cancelled"}
DONE = ("SENT", "DELIVERED", "READ", "FAILED", "SKIPPED", "CANCELLED")
# WhatsApp types a campaign may send (a reaction or a read receipt belongs to one conversation).
WHATSAPP_TYPES = ("text", "media", "template")
_PLACEHOLDER_CONTACT = "0" * 32  # validates a message without its recipient
# Why recipients are skipped, by the refusing rule's error code, in words for a count ("6 × No consent …").
SKIP_LABELS = {"OPTED_OUT": "Opted out", "CONSENT_REQUIRED": "No consent for this channel",
               "TEMPLATE_REQUIRED": "24-hour window closed", "VALIDATION_ERROR": "No address for this channel",
               "NOT_FOUND": "Contact deleted"}


def skip_label(code: str | None) -> str:
    return SKIP_LABELS.get(code or "", (code or "Cannot be reached").replace("_", " ").capitalize())


# ---------------------------------------------------------------- requests and views


class Audience(ApiModel):
    tags: list[str] = Field(min_length=1, max_length=20)


class JobCreate(ApiModel):
    name: str = Field(min_length=1, max_length=120)
    channel: str
    contact_ids: list[str] | None = Field(default=None, max_length=MAX_CONTACT_IDS)
    audience: Audience | None = None
    message: dict[str, Any]
    scheduled_at: datetime | None = None
    confirmed: bool = False

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class JobChange(ApiModel):
    action: Literal["pause", "resume", "cancel", "retry_failed", "reschedule"]
    scheduled_at: datetime | None = None  # reschedule: the new time


class SkipCount(ApiView):
    code: str  # the refusing rule's error code
    label: str  # in words
    count: int


class BulkJob(ApiView):
    job_id: str
    name: str
    channel: str
    status: str
    status_label: str
    scheduled_at: datetime | None = None
    total_recipients: int = 0
    counts: dict[str, int] = {}
    skipped_reasons: dict[str, int] = {}
    skipped: list[SkipCount] = []  # the same, in words, most first
    progress: float = 0.0  # share of the recipients done (sent, failed, skipped or cancelled), 0-100
    rate: float | None = None  # messages a second lately (while sending)
    eta_seconds: int | None = None
    message: dict[str, Any] = {}
    audience: dict[str, Any] = {}
    error: str | None = None
    created_by: str
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    can_pause: bool = False
    can_resume: bool = False
    can_cancel: bool = False
    can_retry_failed: bool = False
    can_delete: bool = False
    can_reschedule: bool = False
    quiet_note: str | None = None  # while quiet hours hold its messages (in the account's time zone)


class BulkJobPage(ApiView):
    items: list[BulkJob]
    next_token: str | None = None


class Recipient(ApiView):
    contact_id: str
    name: str | None = None
    address: str | None = None
    status: str
    status_label: str
    attempt: int = 0
    message_id: str | None = None
    reason: str | None = None
    error: str | None = None
    updated_at: datetime


class RecipientPage(ApiView):
    items: list[Recipient]
    next_token: str | None = None


# ---------------------------------------------------------------- create


def confirm_threshold() -> int:
    value = system_config.cached(CONFIRM_KEY)
    if isinstance(value, dict) and isinstance(value.get("recipients"), int) and value["recipients"] >= 0:
        return value["recipients"]
    return DEFAULT_CONFIRM_THRESHOLD


class ConfirmationRequired(Conflict):
    code = "CONFIRMATION_REQUIRED"


def check_message(channel: str, message: dict) -> dict:
    """The message as the channel's send route takes it, without its recipient; ValidationError (field
    `message.<name>`) for what the channel would refuse for everyone."""
    for key in ("contactId", "contact_id", "to"):
        if key in message:
            raise ValidationError(f"message.{key}: the recipients are the job's; the message names none", field=f"message.{key}")
    if channel == "whatsapp":
        check_choice("message.type", message.get("type"), WHATSAPP_TYPES)
    try:
        request = parse_input(entry(channel).request, {**message, "contactId": _PLACEHOLDER_CONTACT})
    except ValidationError as error:
        raise _in_message(error) from None
    if channel == "whatsapp" and message.get("type") == "template":
        template = request.template
        try:
            approved_template(template.name, template.language)
        except DomainError as error:
            raise _in_message(error) from None
    return message


def _in_message(error: DomainError) -> ValidationError:
    """The channel's refusal, its field named inside the job's `message`."""
    field = f"message.{error.field}" if error.field else "message"
    reason = reason_of(error)
    details = [{**d, "field": f"message.{d['field']}"} if d.get("field") else d for d in (error.details or [])] or None
    return ValidationError(f"{field}: {reason}", field=field, details=details)


def _checked_schedule(when: datetime | None, now: datetime, *, required: bool = False) -> datetime | None:
    if when is None:
        if required:
            raise ValidationError("scheduledAt: the new time is required", field="scheduledAt")
        return None
    if when.tzinfo is None:
        raise ValidationError("scheduledAt: include the time zone (e.g. 2026-12-01T09:00:00Z)", field="scheduledAt")
    if when > now + SCHEDULE_MAX:
        raise ValidationError(f"scheduledAt: at most {SCHEDULE_MAX.days} days ahead", field="scheduledAt")
    return when


def create_job(actor: Actor, data: JobCreate | dict) -> BulkJob:
    """A new job: validated, counted, confirmed when large, stored with its audience; the runner expands it."""
    require(actor, Operation.BULK_WRITE)
    request = parse_input(JobCreate, data)
    check_choice("channel", request.channel, CHANNEL_NAMES)
    if (request.contact_ids is None) == (request.audience is None):
        raise ValidationError("contactIds: give contactIds or audience (tags), not both", field="contactIds")
    message = check_message(request.channel, request.message)
    now = utcnow()
    _checked_schedule(request.scheduled_at, now)
    if request.contact_ids is not None:
        ids = list(dict.fromkeys(check_row_ids(request.contact_ids, "contactIds", MAX_CONTACT_IDS)))
        if not ids:
            raise ValidationError("contactIds: at least one recipient", field="contactIds")
        count, audience = len(ids), {"contactIds": len(ids), "chunks": -(-len(ids) // CHUNK_IDS)}
    else:
        tags = sorted(normalise_tags(request.audience.tags, "audience.tags"))
        if not tags:
            raise ValidationError("audience.tags: at least one tag", field="audience.tags")
        ids, audience = None, {"tags": tags}
        count = len(contacts_with_tags(tags))
        if count == 0:
            raise ValidationError(f"audience.tags: no contact has the tag{'s' if len(tags) > 1 else ''} {', '.join(tags)}", field="audience.tags")
    threshold = confirm_threshold()
    if count > threshold and not request.confirmed:
        raise ConfirmationRequired(
            f"confirmed: this job would reach {count} contacts (more than {threshold}); send it again with confirmed: true",
            field="confirmed", details=[{"field": "confirmed", "reason": "confirmation required", "recipients": count}])
    job_id = uuid.uuid4().hex
    row = BulkJobModel(
        jobId=job_id, name=request.name, channel=request.channel, status=EXPANDING, scheduledAt=request.scheduled_at,
        totalRecipients=count, message=message, audience=audience, createdBy=actor.user_id, createdAt=now, updatedAt=now,
    )
    work = UnitOfWork()
    work.save(row, BulkJobModel.jobId.does_not_exist())
    work.save(audit_row(actor, "bulk.create", "bulk_job", job_id, ["status"],
                        {"name": request.name, "channel": request.channel, "recipients": count, **audience}, at=now))
    chunks = [BulkAudienceChunk(jobId=BulkAudienceChunk.key(job_id, n), contactIds=ids[start:start + CHUNK_IDS])
              for n, start in enumerate(range(0, len(ids or []), CHUNK_IDS))]
    for chunk in chunks[:20]:  # a transaction holds 100 items; larger audiences write the rest first
        work.save(chunk)
    for chunk in chunks[20:]:
        chunk.save()
    work.commit()
    return to_job(row)


# ---------------------------------------------------------------- read


def _job_row(job_id: str, consistent: bool = True) -> BulkJobModel:
    if not isinstance(job_id, str) or not job_id or "#" in job_id:
        raise NotFound("jobId: no such bulk job", field="jobId")
    try:
        return BulkJobModel.get(job_id, consistent_read=consistent)
    except BulkJobModel.DoesNotExist:
        raise NotFound("jobId: no such bulk job", field="jobId") from None


def get_job(actor: Actor, job_id: str) -> BulkJob:
    require(actor, Operation.BULK_READ)
    return to_job(_job_row(job_id), live_counts=True)


def list_jobs(actor: Actor, *, status: str | None = None, limit: int = 25, next_token: str | None = None) -> BulkJobPage:
    """Jobs newest first, all or in one status (the `byStatus` index; without a status, each status's newest
    are merged: at most `limit` of each)."""
    require(actor, Operation.BULK_READ)
    check_choice("status", status, JOB_STATUSES)
    if not isinstance(limit, int) or not 1 <= limit <= 100:
        raise ValidationError("limit: between 1 and 100", field="limit")
    if status is not None:
        query = f"bulk-jobs:{status}"
        start = page_tokens.decode(next_token, query, ("jobId", "status", "createdAt")) if next_token else None
        rows = list(BulkJobModel.by_status.query(status, scan_index_forward=False, limit=limit + 1, page_size=limit + 1,
                                                 last_evaluated_key=start))
        token = None
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1].serialize(null_check=False)
            token = page_tokens.encode({k: last[k] for k in ("jobId", "status", "createdAt")}, query)
        return BulkJobPage(items=[to_job(row, live_counts=row.status in ACTIVE or row.status == PAUSED) for row in rows], next_token=token)
    if next_token:
        raise ValidationError("nextToken: page by one status (status=…)", field="nextToken")
    rows = [row for s in JOB_STATUSES for row in BulkJobModel.by_status.query(s, scan_index_forward=False, limit=limit)]
    rows.sort(key=lambda row: row.createdAt, reverse=True)
    return BulkJobPage(items=[to_job(row, live_counts=row.status in ACTIVE or row.status == PAUSED) for row in rows[:limit]])


_counts_cache: ExpiringMap[dict[str, int]] = ExpiringMap(capacity=1_000, ttl_seconds=0.5)
_sent_samples: dict[str, list[tuple[float, int]]] = {}


def recipient_counts(job: BulkJobModel, *, fresh: bool = False, snapshot: bool = False) -> dict[str, int]:
    """How many recipients are in each status, counted from the rows (the `byJobStatus` index; at most one
    count per job per half second for the live pages). QUEUED: waiting and already handed to the outbox.
    `snapshot`: a job that has ended may answer with the counts it ended with (the list's rows), which its
    delivery and read statuses arriving later leave behind."""
    if snapshot and job.status in (FINISHED, CANCELLED) and job.counts:
        return dict(job.counts)
    cached = None if fresh else _counts_cache.get(job.jobId)
    if cached is not None:
        return dict(cached)
    counts = {status: BulkRecipientModel.by_job_status.count(BulkRecipientModel.job_status(job.jobId, status))
              for status in STORED_STATUSES}
    queued = 0
    if job.dispatchCursor and counts["PENDING"]:
        queued = BulkRecipientModel.by_job_status.count(BulkRecipientModel.job_status(job.jobId, "PENDING"),
                                                        BulkRecipientModel.contactId <= job.dispatchCursor)
    counts["QUEUED"], counts["PENDING"] = queued, counts["PENDING"] - queued
    _counts_cache.put(job.jobId, counts)
    return {status: counts[status] for status in RECIPIENT_STATUSES}


def _rate(job_id: str, sent: int) -> float | None:
    """Messages a second over the last few seconds of this process's readings."""
    now = time.monotonic()
    samples = [(at, n) for at, n in _sent_samples.get(job_id, []) if now - at <= 10] + [(now, sent)]
    _sent_samples[job_id] = samples[-50:]
    first = samples[0]
    return (sent - first[1]) / (now - first[0]) if now - first[0] >= 1 else None


def to_job(row: BulkJobModel, *, live_counts: bool = False) -> BulkJob:
    counts = recipient_counts(row, snapshot=not live_counts) if live_counts or row.counts else {}
    total = int(row.totalRecipients or 0)
    written = sum(counts.values()) if counts else 0
    done = sum(counts.get(status, 0) for status in DONE)
    rate = eta = None
    if row.status == SENDING and counts:
        rate = _rate(row.jobId, done)
        remaining = counts.get("PENDING", 0) + counts.get("QUEUED", 0)
        eta = int(remaining / rate) if rate and rate > 0 else None
    failed = counts.get("FAILED", 0)
    return BulkJob(
        job_id=row.jobId, name=row.name, channel=row.channel, status=row.status, status_label=JOB_STATUS_LABELS.get(row.status, row.status),
        scheduled_at=row.scheduledAt, total_recipients=max(total, written), counts=counts, skipped_reasons=dict(row.skipped or {}),
        skipped=[SkipCount(code=code, label=skip_label(code), count=n) for code, n in sorted((row.skipped or {}).items(), key=lambda i: -i[1])],
        progress=round(100.0 * done / max(total, written, 1), 1), rate=round(rate, 1) if rate is not None else None, eta_seconds=eta,
        message=dict(row.message or {}), audience=dict(row.audience or {}), error=row.error, created_by=row.createdBy,
        created_at=row.createdAt, updated_at=row.updatedAt, started_at=row.startedAt, finished_at=row.finishedAt,
        can_pause=row.status in ACTIONS["pause"], can_resume=row.status in ACTIONS["resume"],
        can_cancel=row.status in ACTIONS["cancel"], can_retry_failed=row.status in ACTIONS["retry_failed"] and failed > 0,
        can_delete=row.status in DELETABLE, can_reschedule=row.status in ACTIONS["reschedule"] and row.scheduledAt is not None,
        quiet_note=quiet_hours.note(utcnow()) if row.status == SENDING else None,
    )


def list_recipients(actor: Actor, job_id: str, *, status: str | None = None, limit: int = 50,
                    next_token: str | None = None) -> RecipientPage:
    """A job's recipients by contact id, all or in one status."""
    require(actor, Operation.BULK_READ)
    job = _job_row(job_id, consistent=False)
    check_choice("status", status, RECIPIENT_STATUSES)
    if not isinstance(limit, int) or not 1 <= limit <= 200:
        raise ValidationError("limit: between 1 and 200", field="limit")
    query = f"bulk-recipients:{job_id}:{status}"
    if status is None:
        keys = ("jobId", "contactId")
        start = page_tokens.decode(next_token, query, keys) if next_token else None
        found = list(BulkRecipientModel.query(job_id, limit=limit + 1, page_size=limit + 1, last_evaluated_key=start))
    else:
        condition = None
        if status in ("QUEUED", "PENDING") and job.dispatchCursor:
            condition = (BulkRecipientModel.contactId <= job.dispatchCursor) if status == "QUEUED" else (BulkRecipientModel.contactId > job.dispatchCursor)
        elif status == "QUEUED":
            return RecipientPage(items=[])
        keys = ("jobId", "contactId", "jobStatus")
        start = page_tokens.decode(next_token, query, keys) if next_token else None
        stored = "PENDING" if status == "QUEUED" else status
        found = list(BulkRecipientModel.by_job_status.query(BulkRecipientModel.job_status(job_id, stored), condition,
                                                            limit=limit + 1, page_size=limit + 1, last_evaluated_key=start))
    page, more = found[:limit], len(found) > limit
    if status is not None:  # the index holds keys only: the page's rows are read by key
        page = sorted(BulkRecipientModel.batch_get([(job_id, key.contactId) for key in page]), key=lambda row: row.contactId)
    token = None
    if more:
        last = found[limit - 1].serialize(null_check=False)
        token = page_tokens.encode({k: last[k] for k in keys}, query)
    return RecipientPage(items=[_recipient(row, job) for row in page], next_token=token)


def _recipient(row: BulkRecipientModel, job: BulkJobModel) -> Recipient:
    status = row.status
    if status == "PENDING" and job.dispatchCursor and row.contactId <= job.dispatchCursor:
        status = "QUEUED"
    return Recipient(contact_id=row.contactId, name=row.name, address=row.address, status=status,
                     status_label=RECIPIENT_LABELS.get(status, status), attempt=int(row.attempt or 0),
                     message_id=row.messageId, reason=row.reason, error=row.error, updated_at=row.updatedAt)


# ---------------------------------------------------------------- change


def change_job(actor: Actor, job_id: str, data: JobChange | dict) -> BulkJob:
    """pause | resume | cancel | retry_failed, from the states `ACTIONS` allows (409 otherwise); audited."""
    require(actor, Operation.BULK_WRITE)
    request = parse_input(JobChange, data)
    row = _job_row(job_id)
    action = request.action
    if row.status not in ACTIONS[action]:
        raise Conflict(f"action: cannot {action.replace('_', ' ')} a job that is {JOB_STATUS_LABELS.get(row.status, row.status).lower()}",
                       field="action")
    now = utcnow()
    actions: list = [BulkJobModel.updatedAt.set(now)]
    if action == "pause":
        actions += [BulkJobModel.status.set(PAUSED), BulkJobModel.pausedFrom.set(row.status)]
    elif action == "resume":
        back = row.pausedFrom if row.pausedFrom in (EXPANDING, SCHEDULED, SENDING) else SENDING
        actions += [BulkJobModel.status.set(back), BulkJobModel.pausedFrom.remove()]
    elif action == "cancel":
        actions += [BulkJobModel.status.set(CANCELLING), BulkJobModel.pausedFrom.remove()]
    elif action == "reschedule":
        when = _checked_schedule(request.scheduled_at, now, required=True)
        if row.scheduledAt is None:
            raise Conflict("action: this job was not scheduled; it starts as soon as it is ready", field="action")
        actions.append(BulkJobModel.scheduledAt.set(when))
    else:
        if recipient_counts(row, fresh=True).get("FAILED", 0) == 0:
            raise Conflict("action: no recipient has failed; there is nothing to retry", field="action")
        actions += [BulkJobModel.status.set(EXPANDING), BulkJobModel.expandCursor.set({"retry": True}),
                    BulkJobModel.pausedFrom.remove(), BulkJobModel.finishedAt.remove(), BulkJobModel.counts.remove()]
    work = UnitOfWork()
    work.update(row, actions, condition=BulkJobModel.status == row.status)
    facts = {"from": row.status, **({"scheduledAt": request.scheduled_at.isoformat()} if action == "reschedule" else {})}
    work.save(audit_row(actor, f"bulk.{action}", "bulk_job", job_id, ["scheduledAt" if action == "reschedule" else "status"], facts, at=now))
    try:
        work.commit()
    except WriteConflict:
        raise Conflict("action: the job changed meanwhile; look again", field="action") from None
    _counts_cache.forget(job_id)
    forget_job(job_id)
    if action == "resume":
        _queue_held_again(row)
    return to_job(_job_row(job_id), live_counts=True)


def _queue_held_again(job: BulkJobModel) -> None:
    """The messages a pause held in the outbox (queued, not sent) are queued again."""
    if not job.dispatchCursor:
        return
    keys = [key.contactId for key in BulkRecipientModel.by_job_status.query(
        BulkRecipientModel.job_status(job.jobId, "PENDING"), BulkRecipientModel.contactId <= job.dispatchCursor)]
    for start in range(0, len(keys), 100):
        for row in BulkRecipientModel.batch_get([(job.jobId, contact_id) for contact_id in keys[start:start + 100]]):
            enqueue(job.channel, campaign_message_id(job.jobId, row.contactId, int(row.attempt or 0)))


def delete_job(actor: Actor, job_id: str) -> None:
    """A finished or cancelled job, with its recipients (their messages stay, as any sent message does)."""
    require(actor, Operation.BULK_WRITE)
    row = _job_row(job_id)
    if row.status not in DELETABLE:
        raise Conflict(f"jobId: only a finished or cancelled job can be deleted; this one is {JOB_STATUS_LABELS.get(row.status, row.status).lower()}",
                       field="jobId")
    work = UnitOfWork()
    work.delete(row, condition=BulkJobModel.status == row.status)
    work.save(audit_row(actor, "bulk.delete", "bulk_job", job_id, [], {"name": row.name, "counts": row.counts}))
    try:
        work.commit()
    except WriteConflict:
        raise Conflict("jobId: the job changed meanwhile; look again", field="jobId") from None
    with BulkRecipientModel.batch_write() as batch:
        for recipient in BulkRecipientModel.query(job_id, attributes_to_get=["jobId", "contactId"]):
            batch.delete(recipient)
    with BulkAudienceChunk.batch_write() as batch:
        for n in range(int((row.audience or {}).get("chunks", 0))):
            batch.delete(BulkAudienceChunk(jobId=BulkAudienceChunk.key(job_id, n)))


# ---------------------------------------------------------------- the wizard's preview, the export


class AudiencePreview(ApiView):
    total: int
    reachable: int
    excluded: dict[str, int] = {}  # why not (SKIP_LABELS) → how many
    examined_all: bool = True  # False: only the first PREVIEW_MAX were checked


PREVIEW_MAX = 5_000


def preview_audience(actor: Actor, channel: str, *, contact_ids: list[str] | None = None, tags: list[str] | None = None,
                     template: bool = False) -> AudiencePreview:
    """Who a campaign would reach and why not the others, by the rule the expansion applies (for the wizard's
    live count); at most PREVIEW_MAX contacts are checked."""
    from backend.models.contact import ContactModel
    from backend.services.messaging.reachability import reach_row
    from backend.services.storage.batch_reads import rows_by_key

    require(actor, Operation.BULK_READ)
    check_choice("channel", channel, CHANNEL_NAMES)
    if tags is not None:
        ids = contacts_with_tags(sorted(normalise_tags(tags, "audience.tags")))
    else:
        ids = list(dict.fromkeys(check_row_ids(contact_ids or [], "contactIds", MAX_CONTACT_IDS)))
    now = utcnow()
    reachable, excluded = 0, {}
    checked = ids[:PREVIEW_MAX]
    for start in range(0, len(checked), 100):
        part = checked[start:start + 100]
        for contact_id, row in zip(part, rows_by_key(ContactModel, part)):
            reach = reach_row(row, channel, free_form=not (channel == "whatsapp" and template), now=now) if row else None
            if reach is not None and reach.ok:
                reachable += 1
                continue
            label = skip_label(reach.code if reach else "NOT_FOUND")
            excluded[label] = excluded.get(label, 0) + 1
    return AudiencePreview(total=len(ids), reachable=reachable, excluded=excluded, examined_all=len(ids) <= PREVIEW_MAX)


EXPORT_COLUMNS = ("contactId", "name", "address", "status", "attempt", "messageId", "reason", "error", "updatedAt")


def export_recipients_csv(actor: Actor, job_id: str) -> str:
    """Every recipient of a job as CSV (cells a spreadsheet would run as formulas are defused); audited."""
    import csv
    import io

    from backend.services.storage.csv_cells import safe_cell

    require(actor, Operation.BULK_READ)
    job = _job_row(job_id, consistent=False)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for row in BulkRecipientModel.query(job_id):
        view = _recipient(row, job).to_api()
        writer.writerow([safe_cell(view.get(column)) for column in EXPORT_COLUMNS])
        count += 1
    audit_row(actor, "bulk.export", "bulk_job", job_id, [], {"rows": count}).save()
    return out.getvalue()
