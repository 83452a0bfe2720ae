"""Where a media file is used: the messages and campaigns that carry it, and whether any of them still needs it.

A file is *in use* while something may still send it or show it:

- a message that carries it and still exists (its row is there and not past its 30-day expiry), whatever its
  status: a PENDING or SENDING one would go out without its file, a sent one is shown in its conversation
  (the inbox previews it);
- the message a customer sent it with, while that message exists;
- a campaign that may still send it (preparing, scheduled, sending or paused), or whose messages still exist.

Messages expire after 30 days, so every use ends unless a campaign is left paused.

The send path records each use on the file's row *before* it queues the message (`record_use`), as one
UpdateItem conditional on the row still existing, and bumps `useCount`; a delete is conditional on `useCount`
being what it read. So a send and a delete of the same file cannot both win: the send finds the file gone
(NotFound, nothing queued), or the delete finds it used meanwhile (Conflict, nothing deleted). A message
row is the truth: a recorded use whose message was deleted or has expired no longer counts.

Bounded: a campaign is one entry (refreshed at most once a day of sending, not per message); single sends are
one entry each, expired ones pruned as new ones arrive, and past MAX_LISTED_USES the oldest are only counted
(`moreUses`, covered until `moreUsesUntil`), so the row never nears DynamoDB's item size limit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import UpdateError

from backend.errors import NotFound
from backend.models.base import utcnow
from backend.models.campaigns import BulkJobModel
from backend.models.messaging import MediaFileModel, MessageModel
from backend.services.rules.channels import CHANNEL_NAMES, channel_info
from backend.services.storage.batch_reads import rows_by_key

MAX_LISTED_USES = 100  # entries kept on the row; older ones are counted in `moreUses`
REMOVALS_PER_WRITE = 25  # expired entries pruned by one write (keeps the update expression small)
# A message replayed from the dead-letter queue (kept 7 days) may outlive its first expiry: its use is kept
# that much longer (the message row, read back, still decides).
USE_SLACK = timedelta(days=7)
CAMPAIGN_LEASE = timedelta(days=1)  # a campaign's entry covers a day ahead: one write a day, not one per message
JOB_PREFIX = "job:"
# Campaign statuses that may still send (services/campaigns/jobs.py: ACTIVE and PAUSED, without CANCELLING,
# which sends nothing more); tests/unit/test_media_library.py holds the two lists together.
CAMPAIGN_STATUSES_THAT_SEND = ("expanding", "scheduled", "sending", "paused")
CAMPAIGNS_READ_MAX = 200  # campaigns read per status when looking for those that carry a file


# ---------------------------------------------------------------- recording (the send path)


def record_use(file_row: MediaFileModel, message: MessageModel, *, job_id: str | None = None,
               now: datetime | None = None) -> None:
    """Remember on the file's row that `message` carries it (a campaign's message: that the campaign does),
    before the message is queued. NotFound (field media.fileId) when the file was deleted meanwhile."""
    now = now or utcnow()
    expires = message.expiresAt or (message.createdAt + MessageModel.retention)
    until = expires + USE_SLACK
    entries = recorded(file_row)
    if job_id:
        key = f"{JOB_PREFIX}{job_id}"
        known = entries.get(key)
        if known and _until(known) >= until:
            return  # the campaign's entry already covers this message
        entry = {"kind": "campaign", "jobId": job_id, "at": (known or {}).get("at") or now.isoformat(),
                 "until": (until + CAMPAIGN_LEASE).isoformat()}
    else:
        key = message.messageId
        entry = {"kind": "message", "contactId": message.contactId or "", "channel": message.channel,
                 "at": now.isoformat(), "until": until.isoformat()}
    _write_use(file_row, key, entry, entries, now)


def _write_use(file_row: MediaFileModel, key: str, entry: dict, entries: dict[str, dict], now: datetime) -> None:
    condition = MediaFileModel.fileId.exists()
    if file_row.uses is None:  # a row stored before uses were recorded: the map is created with its first entry
        actions = [MediaFileModel.uses.set({key: entry}), MediaFileModel.useCount.add(1)]
        condition &= MediaFileModel.uses.does_not_exist()
    else:
        actions = [MediaFileModel.uses[key].set(entry), MediaFileModel.useCount.add(1)]
        others = {k: v for k, v in entries.items() if k != key}
        expired = [k for k, v in others.items() if _until(v) <= now][:REMOVALS_PER_WRITE]
        live = sorted((v.get("at", ""), k) for k, v in others.items() if k not in expired)
        dropped = [k for _, k in live[: max(0, len(live) - MAX_LISTED_USES + 1)]][:REMOVALS_PER_WRITE]
        actions += [MediaFileModel.uses[k].remove() for k in (*expired, *dropped)]
        if dropped:
            latest = max([_until(others[k]) for k in dropped] + ([file_row.moreUsesUntil] if file_row.moreUsesUntil else []))
            actions += [MediaFileModel.moreUses.add(len(dropped)), MediaFileModel.moreUsesUntil.set(latest)]
    try:
        file_row.update(actions=actions, condition=condition)
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        try:
            fresh = MediaFileModel.get(file_row.fileId, consistent_read=True)
        except MediaFileModel.DoesNotExist:
            raise NotFound(f"media.fileId: the file {file_row.fileId!r} was deleted", field="media.fileId") from None
        if file_row.uses is not None or fresh.uses is None:
            raise
        _write_use(fresh, key, entry, recorded(fresh), now)  # another send created the map a moment ago


# ---------------------------------------------------------------- reading


def recorded(row: MediaFileModel) -> dict[str, dict]:
    """The uses recorded on the row, by key (message id, or "job:<jobId>")."""
    uses = row.uses
    if uses is None:
        return {}
    raw = uses.as_dict() if hasattr(uses, "as_dict") else dict(uses)
    return {key: dict(value) for key, value in raw.items() if isinstance(value, dict)}


def _until(entry: dict) -> datetime:
    try:
        return datetime.fromisoformat(entry.get("until", ""))
    except (TypeError, ValueError):
        return datetime.max.replace(tzinfo=utcnow().tzinfo)  # unreadable: kept (never lets a file go early)


def _received_until(row: MediaFileModel) -> datetime:
    return row.createdAt + MessageModel.retention + USE_SLACK


def recorded_use_count(row: MediaFileModel, now: datetime, sending: list[BulkJobModel] = ()) -> int:
    """How many uses the row itself says are current (no message is read): the library's cards. The file's
    own page and a delete read the messages (`current_uses`)."""
    entries = recorded(row)
    jobs = {v.get("jobId") for v in entries.values() if v.get("kind") == "campaign" and _until(v) > now}
    count = sum(1 for v in entries.values() if v.get("kind") == "message" and _until(v) > now)
    count += len(jobs | {job.jobId for job in sending})
    if row.messageId and _received_until(row) > now:
        count += 1
    if row.moreUses and row.moreUsesUntil and row.moreUsesUntil > now:
        count += int(row.moreUses)
    return count


@dataclass(frozen=True)
class Use:
    """One current use, as read: a message (or the received one), a campaign, or the uses counted beyond the
    listed ones."""

    kind: str  # message | received | campaign | more
    at: datetime | None = None
    message: MessageModel | None = None
    job: BulkJobModel | None = None
    count: int = 1  # "more": how many
    until: datetime | None = None  # "more": covered until then


def current_uses(row: MediaFileModel, now: datetime | None = None) -> list[Use]:
    """The uses that still hold the file, newest first: its messages read by key (one BatchGetItem), its
    campaigns read by key, and the campaigns that may still send it (their status partitions)."""
    now = now or utcnow()
    entries = recorded(row)
    message_ids = [k for k, v in entries.items() if v.get("kind") == "message"]
    if row.messageId:
        message_ids.append(row.messageId)
    messages = {m.messageId: m for m in rows_by_key(MessageModel, message_ids) if m is not None and m.is_live(now)}
    uses = [Use("received" if message_id == row.messageId else "message", messages[message_id].createdAt, message=messages[message_id])
            for message_id in dict.fromkeys(message_ids) if message_id in messages]
    job_ids = [v.get("jobId") for v in entries.values() if v.get("kind") == "campaign" and v.get("jobId")]
    recorded_jobs = {job.jobId: job for job in rows_by_key(BulkJobModel, job_ids) if job is not None}
    held = {job_id: job for job_id, job in recorded_jobs.items()
            if job.status in CAMPAIGN_STATUSES_THAT_SEND or _until(entries[f"{JOB_PREFIX}{job_id}"]) > now}
    for job in campaigns_sending([row.fileId]).get(row.fileId, []):
        held.setdefault(job.jobId, job)
    uses += [Use("campaign", job.createdAt, job=job) for job in held.values()]
    uses.sort(key=lambda use: use.at or now, reverse=True)
    if row.moreUses and row.moreUsesUntil and row.moreUsesUntil > now:
        uses.append(Use("more", count=int(row.moreUses), until=row.moreUsesUntil))
    return uses


def campaigns_sending(file_ids: list[str]) -> dict[str, list[BulkJobModel]]:
    """The campaigns that may still send each of these files (a scheduled one has no message yet): the
    status partitions of byStatus that send, at most CAMPAIGNS_READ_MAX campaigns each."""
    wanted = set(file_ids)
    found: dict[str, list[BulkJobModel]] = {}
    if not wanted:
        return found
    for status in CAMPAIGN_STATUSES_THAT_SEND:
        for job in BulkJobModel.by_status.query(status, scan_index_forward=False, limit=CAMPAIGNS_READ_MAX):
            file_id = campaign_file_id(job.message)
            if file_id in wanted:
                found.setdefault(file_id, []).append(job)
    return found


def campaign_file_id(message: Any) -> str | None:
    """The media file a campaign's message carries (its request as given: camelCase or snake_case)."""
    if not isinstance(message, dict) or message.get("type") != "media" or not isinstance(message.get("media"), dict):
        return None
    media = message["media"]
    file_id = media.get("fileId") or media.get("file_id")
    return file_id if isinstance(file_id, str) else None


def channel_label(channel: str | None) -> str:
    return channel_info(channel).label if channel in CHANNEL_NAMES else (channel or "Message")
