"""The audit log, readable (Admins): who did what to which resource and when, searched through the AuditLog's key
and indexes (never a Scan), a page at a time, newest first; one entry with its before and after; a CSV export.

Which read answers a search is chosen by its filters:

* a resource (type and id) → the table's own key (`resourceKey`), sortKey between the dates;
* a user (an id, or an email resolved to its id through the User table's email key) → `byActor`, sortKey
  between the dates;
* otherwise → `byDay`, one Query a day, from `end` back to `start`, with key conditions only.

Every other filter (action prefix, resource type, user) is tested on the rows read. One request reads at most
READ_MAX rows and queries at most DAY_QUERIES_MAX days: a page that stopped there says how far back it looked
(`truncated`, `searched_to`) and its `next_token` continues from where it stopped, so a sparse filter over 180
days is a few cheap requests, never one that reads everything. Rows past their 180 days are skipped (DynamoDB
deletes them up to two days late). Reading the log is not audited; exporting it is (one row).
"""
from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from pynamodb.expressions.condition import Condition

from backend.errors import NotFound, ValidationError
from backend.models.audit import AuditLogModel
from backend.models.base import utcnow
from backend.models.user import UserEmailKey
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.api_model import ApiView
from backend.services.platform.audit import audit_row, entry_of
from backend.services.platform.validation import check_day, check_text, normalise_email
from backend.services.storage import page_tokens
from backend.services.storage.csv_cells import safe_cell

RETENTION_DAYS = AuditLogModel.retention.days  # 180: what the table keeps, so the furthest a search goes back
DEFAULT_DAYS = 7  # without dates: the last week
PAGE_MAX = 200
READ_MAX = 1_000  # rows one search request reads, whatever it asks
DAY_QUERIES_MAX = 31  # days one search request queries on byDay (an empty day costs a Query too)
EXPORT_MAX = 10_000  # rows in one export
EXPORT_READ_MAX = 20_000  # rows one export reads
_QUERY_PAGE = 100  # rows per Query call
EXPORT_ACTION = "audit.export"

# The actions the services write today, for the filter's suggestions. The filter itself is a prefix ("contact."
# finds every contact action), so an action added later is found without being listed here.
ACTIONS: tuple[str, ...] = (
    "ai.auto_reply", "ai.document.delete", "ai.document.reindex", "ai.document.upload", "ai.feedback", "ai.outcome",
    "ai.sample.load",
    "audit.export",
    "bulk.cancel", "bulk.cancelled", "bulk.create", "bulk.delete", "bulk.export", "bulk.finish", "bulk.pause",
    "bulk.reschedule", "bulk.resume", "bulk.retry_failed",
    "config.reset", "config.update",
    "contact.consent", "contact.create", "contact.delete", "contact.import", "contact.import.created",
    "contact.update",
    "conversation.assigned", "conversation.labels", "conversation.note", "conversation.read", "conversation.status",
    "dlq.discard", "dlq.replay", "dlq.replay.send_anyway",
    "inbox.canned_replies", "inbox.labels",
    "media.delete", "media.upload",
    "message.delete", "message.read_receipt", "message.send",
    "messages.export",
    "template.create",
    "templates.sync",
    "user.create", "user.disable", "user.enable", "user.invite", "user.password_change", "user.password_reset",
    "user.role_change", "user.sign_in", "user.sign_in_failed", "user.sign_out", "user.update",
    "voice.call",
    "webhook.secret.reveal", "webhook.secret.rotate",
)
# The resource types rows are written for (the filter takes any, exactly).
RESOURCE_TYPES: tuple[str, ...] = (
    "ai_interaction", "audit", "bulk_job", "config", "contact", "contact_import", "dlq", "knowledge_document", "media",
    "message", "messages", "template", "templates", "user", "voiceCall", "webhook",
)

_TEXT_MAX = 100
_RESOURCE_ID_MAX = 256
_USER_ID = re.compile(r"^[\w:.\-]{1,128}$")
_RESOURCE_TYPE = re.compile(r"^[\w.:\-]{1,64}$")  # never "#": it separates the type from the id in the key


# ---------------------------------------------------------------- views


class AuditLogEntry(ApiView):
    """One audit row as the log lists it. `entry_id` is opaque (it names the row's key for `get_entry`)."""

    entry_id: str
    audit_id: str
    at: datetime
    actor_id: str
    actor_email: str | None = None
    actor_role: str | None = None
    action: str
    resource_type: str
    resource_id: str
    changed_fields: list[str]
    details: dict | None = None
    has_before_after: bool = False  # its details hold `before`/`after`: the detail shows them side by side
    expires_at: datetime | None = None  # when the table lets it go (180 days after `at`)


class FieldChange(ApiView):
    """One field's before and after, as readable text ("—": absent on that side)."""

    field: str
    before: str
    after: str
    changed: bool


class DetailFact(ApiView):
    key: str
    value: str


class AuditEntryDetail(AuditLogEntry):
    """An entry with its details laid out: before/after side by side when the row has them, the rest of its
    details as key/value rows."""

    changes: list[FieldChange]
    facts: list[DetailFact]


class AuditPage(ApiView):
    """A page of the log, newest first, and how much of it the request read to find it."""

    items: list[AuditLogEntry]
    next_token: str | None = None
    examined: int = 0  # rows this request read
    truncated: bool = False  # a read limit stopped it: `next_token` searches on, further back
    searched_to: date | None = None  # the oldest day this request looked at
    start: date  # the range searched, with the defaults filled in
    end: date
    read: str  # which key answered: "resource" (the table's key), "user" (byActor) or "day" (byDay)


class AuditCsv(NamedTuple):
    text: str
    count: int
    complete: bool  # False: a limit (max_rows, EXPORT_READ_MAX rows read) stopped it early


# ---------------------------------------------------------------- filters


@dataclass(frozen=True)
class AuditFilters:
    start: date
    end: date
    user: str = ""  # as asked (an email, normalised, or an id): what a page token is bound to
    actor_id: str | None = None
    action: str = ""  # a prefix, folded
    resource_type: str | None = None
    resource_id: str | None = None

    @property
    def tag(self) -> str:
        """What a page token is bound to: a token continues only the search that issued it."""
        parts = (self.start, self.end, self.user, self.action, self.resource_type, self.resource_id)
        return "audit|" + "|".join("" if part is None else str(part) for part in parts)

    def matches(self, row: AuditLogModel) -> bool:
        return (
            (not self.actor_id or row.actorId == self.actor_id)
            and (not self.action or row.action.casefold().startswith(self.action))
            and (not self.resource_type or row.resourceType == self.resource_type)
            and (not self.resource_id or row.resourceId == self.resource_id)
        )

    def asked(self) -> dict[str, str]:
        """The filters as the caller gave them, for an export's audit row."""
        given = {"user": self.user, "action": self.action, "resourceType": self.resource_type, "resourceId": self.resource_id}
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), **{k: v for k, v in given.items() if v}}


def check_filters(
    *, user: str | None, action: str | None, resource_type: str | None, resource_id: str | None,
    start: date | str | None, end: date | str | None, today: date,
) -> AuditFilters:
    """The filters checked (each refusal names its field), the dates defaulted (the last DEFAULT_DAYS days), and
    a user's email resolved to the id rows carry (a GetItem on the User table's email key)."""
    start_day, end_day = _date(start, "start"), _date(end, "end")
    end_day = check_day(end_day, days_back=RETENTION_DAYS, today=today, field="end") or today
    oldest = today - timedelta(days=RETENTION_DAYS)
    start_day = check_day(start_day, days_back=RETENTION_DAYS, today=today, field="start") or max(
        end_day - timedelta(days=DEFAULT_DAYS - 1), oldest)
    if end_day < start_day:
        raise ValidationError(f"end: on or after the start ({start_day.isoformat()})", field="end")
    if (end_day - start_day).days > RETENTION_DAYS:
        raise ValidationError(f"start: a range of at most {RETENTION_DAYS} days", field="start")
    action_prefix = _text(action, "action", _TEXT_MAX).casefold()
    kind = _text(resource_type, "resourceType", 64)
    if kind and not _RESOURCE_TYPE.match(kind):
        raise ValidationError("resourceType: letters, digits and . _ : - only (e.g. contact)", field="resourceType")
    resource = _text(resource_id, "resourceId", _RESOURCE_ID_MAX)
    if resource and not kind:
        raise ValidationError("resourceType: required with a resource id", field="resourceType")
    asked, actor_id = _user(user)
    return AuditFilters(start_day, end_day, asked, actor_id, action_prefix, kind or None, resource or None)


def _date(value: Any, field: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValidationError(f"{field}: a date, YYYY-MM-DD", field=field)


def _text(value: Any, field: str, most: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(f"{field}: text", field=field)
    text = check_text(value.strip(), field)
    if len(text) > most:
        raise ValidationError(f"{field}: at most {most} characters", field=field)
    if any(ord(c) < 32 for c in text):
        raise ValidationError(f"{field}: no control characters", field=field)
    return text


def _user(value: Any) -> tuple[str, str | None]:
    """(what was asked, the actor id to find): an email is resolved through the User table's email key; anything
    else is taken as an actor id ("system:bulk-runner" included)."""
    text = _text(value, "user", 254)
    if not text:
        return "", None
    if "@" in text:
        email = normalise_email(text, field="user")
        try:
            return email, UserEmailKey.get(UserEmailKey.key_for(email)).ownerId
        except UserEmailKey.DoesNotExist:
            raise ValidationError(f"user: no user has the email {email}", field="user") from None
    if not _USER_ID.match(text):
        raise ValidationError("user: an email address or a user id", field="user")
    return text, text


def check_limit(limit: Any) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= PAGE_MAX:
        raise ValidationError(f"limit: a whole number from 1 to {PAGE_MAX}", field="limit")
    return limit


# ---------------------------------------------------------------- which key


@dataclass(frozen=True)
class _Plan:
    """Where a search reads: the table's key, byActor or byDay; its partitions newest first, and the sortKey
    range within each (byDay needs none: a partition is a day)."""

    read: str  # "resource" | "user" | "day"
    partitions: tuple[str, ...]
    key_names: tuple[str, ...]  # the hash key first: a token's start key, as DynamoDB gives it
    range_condition: Condition | None

    def query(self, partition: str, start: dict | None, limit: int):
        kwargs = dict(scan_index_forward=False, last_evaluated_key=start, limit=limit, page_size=min(limit, _QUERY_PAGE))
        if self.read == "resource":
            return AuditLogModel.query(partition, self.range_condition, **kwargs)
        index = AuditLogModel.by_actor if self.read == "user" else AuditLogModel.by_day
        return index.query(partition, self.range_condition, **kwargs)

    def key_of(self, row: AuditLogModel) -> dict:
        return {name: {"S": getattr(row, name)} for name in self.key_names}

    def fresh(self, partition: str) -> dict:
        """A token's key for "from the top of `partition`" (no row of it read yet): the row keys left empty."""
        return {name: {"S": partition if n == 0 else ""} for n, name in enumerate(self.key_names)}

    def resume(self, start: dict | None) -> list[tuple[str, dict | None]]:
        """The partitions still to read and, for the first, the key to continue after (None: from its top)."""
        if start is None:
            return [(p, None) for p in self.partitions]
        partition = start[self.key_names[0]]["S"]
        if partition not in self.partitions:
            raise ValidationError("nextToken: not a token this API issued", field="nextToken")
        rest = self.partitions[self.partitions.index(partition):]
        first = None if start["sortKey"]["S"] == "" else start
        return [(rest[0], first), *((p, None) for p in rest[1:])]


def _plan(filters: AuditFilters) -> _Plan:
    within = AuditLogModel.sortKey.between(filters.start.isoformat(), (filters.end + timedelta(days=1)).isoformat())
    if filters.resource_type and filters.resource_id:
        return _Plan("resource", (f"{filters.resource_type}#{filters.resource_id}",), ("resourceKey", "sortKey"), within)
    if filters.actor_id:
        return _Plan("user", (filters.actor_id,), ("actorId", "resourceKey", "sortKey"), within)
    days = (filters.end - filters.start).days
    partitions = tuple((filters.end - timedelta(days=n)).isoformat() for n in range(days + 1))
    return _Plan("day", partitions, ("day", "resourceKey", "sortKey"), None)


# ---------------------------------------------------------------- a page


@dataclass
class _Found:
    rows: list[AuditLogModel]
    next_key: dict | None
    examined: int
    truncated: bool
    searched_to: date | None


def _walk(plan: _Plan, filters: AuditFilters, start: dict | None, *, limit: int, read_max: int, queries_max: int) -> _Found:
    """Up to `limit` live matching rows, newest first, after `start`, reading at most `read_max` rows in at most
    `queries_max` partitions. One more match is looked for after a full page, so the last page has no token."""
    now = utcnow()
    shown: list[AuditLogModel] = []
    examined = queries = 0
    searched_to: date | None = None
    last: AuditLogModel | None = None
    for partition, after in plan.resume(start):
        if queries == queries_max or examined == read_max:
            return _Found(shown, after or plan.fresh(partition), examined, True, searched_to)
        queries += 1
        if plan.read == "day":
            searched_to = date.fromisoformat(partition)
        for row in plan.query(partition, after, read_max - examined):
            examined, last = examined + 1, row
            searched_to = date.fromisoformat(row.day)
            if row.is_live(now) and filters.matches(row):
                if len(shown) == limit:  # one more exists: the next page starts after the last one shown
                    return _Found(shown, plan.key_of(shown[-1]), examined, False, searched_to)
                shown.append(row)
        if examined == read_max and last is not None:  # the read limit, not the partition's end, may have stopped it
            return _Found(shown, plan.key_of(last), examined, True, searched_to)
    return _Found(shown, None, examined, False, filters.start)


def search_audit(
    actor: Actor,
    *,
    user: str | None = None,
    action: str | None = None,
    resource_type: str | None = None,
    resource_id: str | None = None,
    start: date | str | None = None,
    end: date | str | None = None,
    limit: int = 50,
    next_token: str | None = None,
) -> AuditPage:
    """A page of the audit log, newest first, filtered; found reading at most READ_MAX rows and DAY_QUERIES_MAX
    days (the page says how far back it searched and its token searches on). Not audited: reading is not a change."""
    require(actor, Operation.AUDIT_READ)
    check_limit(limit)
    filters = check_filters(user=user, action=action, resource_type=resource_type, resource_id=resource_id,
                            start=start, end=end, today=utcnow().date())
    plan = _plan(filters)
    start_key = page_tokens.decode(next_token, filters.tag, plan.key_names) if next_token else None
    found = _walk(plan, filters, start_key, limit=limit, read_max=READ_MAX, queries_max=DAY_QUERIES_MAX)
    return AuditPage(
        items=[to_entry(row) for row in found.rows],
        next_token=page_tokens.encode(found.next_key, filters.tag) if found.next_key else None,
        examined=found.examined,
        truncated=found.truncated,
        searched_to=found.searched_to,
        start=filters.start,
        end=filters.end,
        read=plan.read,
    )


# ---------------------------------------------------------------- one entry


def entry_id_of(row: AuditLogModel) -> str:
    """The opaque id of a row: its key (resourceKey and sortKey), so the detail is one GetItem."""
    raw = json.dumps([row.resourceKey, row.sortKey], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _key_of(entry_id: Any) -> tuple[str, str]:
    missing = NotFound("No such audit entry (it may have expired).", field="entryId")
    if not isinstance(entry_id, str) or not 0 < len(entry_id) <= 1024:
        raise missing
    try:
        key = json.loads(base64.urlsafe_b64decode((entry_id + "=" * (-len(entry_id) % 4)).encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise missing from None
    if not (isinstance(key, list) and len(key) == 2 and all(isinstance(k, str) and k for k in key)):
        raise missing
    return key[0], key[1]


def get_entry(actor: Actor, entry_id: str) -> AuditEntryDetail:
    """One entry (GetItem by the key its id names) with its before/after and its other details laid out."""
    require(actor, Operation.AUDIT_READ)
    resource_key, sort_key = _key_of(entry_id)
    try:
        row = AuditLogModel.get(resource_key, sort_key)
    except AuditLogModel.DoesNotExist:
        row = None
    if row is None or not row.is_live():
        raise NotFound("No such audit entry (it may have expired).", field="entryId")
    entry = to_entry(row)
    changes, facts = lay_out(row.details)
    return AuditEntryDetail(**dict(entry), changes=changes, facts=facts)


def to_entry(row: AuditLogModel) -> AuditLogEntry:
    """The row as the trail reads it (`audit.entry_of`), with its opaque id, its expiry and whether it holds a
    before/after."""
    entry = entry_of(row)
    details = entry.details if isinstance(entry.details, dict) else (
        {"value": entry.details} if entry.details is not None else None)
    return AuditLogEntry(**{**entry.model_dump(), "details": details}, entry_id=entry_id_of(row), expires_at=row.expiresAt,
                         has_before_after=bool(details) and ("before" in details or "after" in details))


ABSENT = "—"


def readable(value: Any) -> str:
    """A detail value as text a person reads: words and numbers as they are, a list of them joined, a list of
    flat records a line each ("name: VIP · color: red"), anything deeper as indented JSON."""
    if value is None:
        return ABSENT
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, list) and all(_scalar(v) for v in value):
        return ", ".join(str(v) for v in value) if value else "(none)"
    if isinstance(value, list) and all(isinstance(v, dict) and all(_scalar(x) for x in v.values()) for v in value):
        return "\n".join(" · ".join(f"{k}: {readable(x)}" for k, x in item.items()) for item in value)  # a catalog: a line each
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def lay_out(details: Any) -> tuple[list[FieldChange], list[DetailFact]]:
    """Details as the detail view shows them: `before`/`after` side by side (dicts field by field, anything
    else as one "value" row), and the other details as key/value rows."""
    if not isinstance(details, dict):
        return [], ([DetailFact(key="value", value=readable(details))] if details is not None else [])
    facts = [DetailFact(key=str(k), value=readable(v)) for k, v in details.items() if k not in ("before", "after")]
    if "before" not in details and "after" not in details:
        return [], facts
    before, after = details.get("before"), details.get("after")
    if isinstance(before, dict) or isinstance(after, dict):
        before, after = before if isinstance(before, dict) else {}, after if isinstance(after, dict) else {}
        fields = list(dict.fromkeys([*before, *after]))
        changes = [FieldChange(field=str(f), before=readable(before.get(f)), after=readable(after.get(f)),
                               changed=before.get(f) != after.get(f)) for f in fields]
    else:
        changes = [FieldChange(field="value", before=readable(before), after=readable(after), changed=before != after)]
    return changes, facts


# ---------------------------------------------------------------- CSV export


EXPORT_COLUMNS = ("time", "actorEmail", "actorId", "actorRole", "action", "resourceType", "resourceId", "changedFields",
                  "details", "auditId")


def export_audit_csv(
    actor: Actor,
    *,
    user: str | None = None,
    action: str | None = None,
    resource_type: str | None = None,
    resource_id: str | None = None,
    start: date | str | None = None,
    end: date | str | None = None,
    max_rows: int = EXPORT_MAX,
) -> AuditCsv:
    """The filtered log as CSV (every cell defused for spreadsheets), newest first: at most `max_rows` rows,
    found in at most EXPORT_READ_MAX rows read. Audited (one row: who exported what, and how many)."""
    require(actor, Operation.AUDIT_READ)
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or not 1 <= max_rows <= EXPORT_MAX:
        raise ValidationError(f"maxRows: a whole number from 1 to {EXPORT_MAX}", field="maxRows")
    filters = check_filters(user=user, action=action, resource_type=resource_type, resource_id=resource_id,
                            start=start, end=end, today=utcnow().date())
    plan = _plan(filters)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(c) for c in EXPORT_COLUMNS])
    count, budget, key = 0, EXPORT_READ_MAX, None
    while True:
        found = _walk(plan, filters, key, limit=max_rows - count, read_max=budget, queries_max=len(plan.partitions))
        for row in found.rows:
            writer.writerow([safe_cell(cell) for cell in _csv_cells(row)])
        count, budget, key = count + len(found.rows), budget - found.examined, found.next_key
        if key is None or count >= max_rows or budget <= 0:
            break
    complete = key is None
    details: dict = {"rows": count, "filters": filters.asked()}
    if not complete:
        details["complete"] = False
    audit_row(actor, EXPORT_ACTION, "audit", "log", (), details).save()
    return AuditCsv(out.getvalue(), count, complete)


def _csv_cells(row: AuditLogModel) -> list:
    details = json.dumps(row.details, sort_keys=True, ensure_ascii=False, default=str) if row.details is not None else ""
    return [row.at.isoformat(), row.actorEmail, row.actorId, row.actorRole, row.action, row.resourceType, row.resourceId,
            ";".join(sorted(row.changedFields or ())), details, row.auditId]
