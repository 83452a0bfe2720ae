"""The message log: every message, newest first, filtered through an index and searched with a bound.

A filter is a Query on the index keyed by what it filters (byStatus, byChannel, byDirection; byDay when there
is none), so its page costs about what it shows. A search cannot be a key: it reads byDay, which carries the
text, address and error of each message, and tests each entry. Whatever is asked, one request reads at most
EXAMINE_MAX index entries (one export EXPORT_EXAMINE_MAX): a page that stops there says how far back it looked
(`examined`, `truncated`, `searched_to`) and its token continues from the last entry read, so paging on
returns every matching message exactly once.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import NamedTuple

from pynamodb.expressions.condition import Condition
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.pagination import ResultIterator

from backend.errors import ValidationError
from backend.models.base import utcnow
from backend.models.messaging import MessageModel
from backend.services.contacts.names import contact_names
from backend.services.messaging.schemas import Message, Page, to_message
from backend.services.messaging.statuses import STATUSES
from backend.services.platform.access import Actor
from backend.services.platform.validation import check_choice, check_day
from backend.services.rules.channels import CHANNEL_NAMES
from backend.services.storage import page_tokens
from backend.services.storage.csv_cells import safe_cell
from backend.services.storage.batch_reads import rows_by_key

PAGE_MAX = 200
LOG_DAYS_BACK = 31
EXAMINE_MAX = 1_000  # index entries one log request reads, whatever it asks
EXPORT_MAX = 10_000  # rows in one export
EXPORT_EXAMINE_MAX = 20_000  # index entries one export reads
QUERY_MAX_CHARS = 200
DIRECTIONS = ("inbound", "outbound")
_READ_AHEAD = 250  # entries per Query call when the index entries are tested (most may not match)


class LogEntry(Message):
    """A message as the log lists it: with who its contact is by name (None: the message has no contact), so a
    page or an API client shows a person, not only an address."""

    contact_name: str | None = None


class LogPage(Page):
    """A page of the log, and how much of the log it read to find it."""

    examined: int = 0  # index entries this request read
    truncated: bool = False  # stopped at the read limit before the page filled: `next_token` searches on
    searched_to: datetime | None = None  # when the oldest message examined was created

    def to_api(self) -> dict:
        searched_to = self.searched_to.isoformat() if self.searched_to else None
        return {**super().to_api(), "examined": self.examined, "truncated": self.truncated, "searchedTo": searched_to}


@dataclass(frozen=True)
class LogFilters:
    day: date | None = None
    channel: str | None = None
    direction: str | None = None
    status: str | None = None
    q: str = ""

    @property
    def needle(self) -> str:
        return self.q.strip().casefold()

    @property
    def tag(self) -> str:
        """What a page token is bound to: a token continues only the query that issued it."""
        return "|".join(str(x) for x in (self.day, self.channel, self.direction, self.status, self.q))

    def matches(self, row: MessageModel | _Entry, *, with_status: bool = True) -> bool:
        wanted = ((row.channel, self.channel), (row.direction, self.direction), (row.status, self.status if with_status else None))
        return all(not value or actual == value for actual, value in wanted) and (not self.needle or self.needle in _searchable(row))


def _searchable(row: MessageModel | _Entry) -> str:
    return " ".join(filter(None, (row.body, row.address, row.errorCode, row.errorMessage))).casefold()


def check_limit(limit: int) -> None:
    if not isinstance(limit, int) or not 1 <= limit <= PAGE_MAX:
        raise ValidationError(f"limit: must be between 1 and {PAGE_MAX}", field="limit")


def check_filters(day, channel, direction, status, q, today: date) -> LogFilters:
    for field, value, choices in (("channel", channel, CHANNEL_NAMES), ("direction", direction, DIRECTIONS), ("status", status, STATUSES)):
        check_choice(field, value, choices)
    q = q or ""
    if not isinstance(q, str) or len(q) > QUERY_MAX_CHARS:
        raise ValidationError(f"q: at most {QUERY_MAX_CHARS} characters", field="q")
    return LogFilters(check_day(day, days_back=LOG_DAYS_BACK, today=today), channel, direction, status, q)


# ---------------------------------------------------------------- which index


@dataclass(frozen=True)
class _Plan:
    """Where a query reads: an index, its partitions newest first, the time range, and whether each entry is
    tested against the filters (false when the index key is the only filter: every entry matches)."""

    index: GlobalSecondaryIndex
    hash_key: str
    partitions: tuple[str, ...]
    range_condition: Condition | None
    tests_entries: bool

    @property
    def key_names(self) -> tuple[str, ...]:
        return ("messageId", self.hash_key, "createdAt")

    def resume_at(self, start: dict) -> tuple[str, ...]:
        """The partitions left for a token's start key (a key from elsewhere is refused, not sent to DynamoDB)."""
        resume = start[self.hash_key]["S"]
        if resume not in self.partitions:
            raise ValidationError("nextToken: not a token this API issued", field="nextToken")
        return self.partitions[self.partitions.index(resume):]


def _plan(filters: LogFilters, today: date) -> _Plan:
    """A search reads byDay (its entries carry the text); otherwise the index of the narrowest filter, whose
    entries carry the other filters' attributes (status: channel and direction; channel: direction)."""
    if filters.needle or not (filters.status or filters.channel or filters.direction):
        days = (filters.day,) if filters.day else tuple(today - timedelta(days=n) for n in range(LOG_DAYS_BACK + 1))
        return _Plan(MessageModel.by_day, "day", tuple(d.isoformat() for d in days), None, bool(filters.needle))
    start = datetime.combine(filters.day or today - timedelta(days=LOG_DAYS_BACK), time.min, tzinfo=timezone.utc)
    window = MessageModel.createdAt.between(start, start + timedelta(days=1, microseconds=-1)) if filters.day else MessageModel.createdAt >= start
    for index, name in ((MessageModel.by_status, "status"), (MessageModel.by_channel, "channel"), (MessageModel.by_direction, "direction")):
        if value := getattr(filters, name):
            narrower = any(getattr(filters, other) for other in ("channel", "direction") if other != name)
            return _Plan(index, name, (value,), window, narrower)
    raise AssertionError("unreachable: a filter is set")


class _Entry:
    """An index entry as DynamoDB returned it. Entries are tested by the hundred, so their few strings are read
    straight from the item: building a model for each would cost more than the Query."""

    __slots__ = ("item",)

    def __init__(self, item: dict) -> None:
        self.item = item

    def __getattr__(self, name: str) -> str | None:
        value = self.item.get(name)
        return value.get("S") if value else None

    def key(self, names: tuple[str, ...]) -> dict:
        return {name: self.item[name] for name in names}

    @property
    def created_at(self) -> datetime:
        return MessageModel.createdAt.deserialize(self.item["createdAt"]["S"])


def _index_entries(index: GlobalSecondaryIndex, partition: str, condition, start: dict | None, limit: int, page_size: int):
    """One partition of an index, newest first, as `_Entry`s (PynamoDB's pager, without a model per entry)."""
    kwargs = dict(range_key_condition=condition, index_name=index.Meta.index_name, exclusive_start_key=start,
                  scan_index_forward=False, limit=page_size)
    return ResultIterator(MessageModel._get_connection().query, (partition,), kwargs, map_fn=_Entry, limit=limit)


def _entries(plan: _Plan, start: dict | None, budget: int, page_size: int) -> Iterator[_Entry]:
    """Index entries newest first, after `start` (a token's key) and at most `budget` of them."""
    for partition in plan.resume_at(start) if start else plan.partitions:
        if budget <= 0:
            return
        for entry in _index_entries(plan.index, partition, plan.range_condition, start, budget, min(budget, page_size)):
            budget -= 1
            yield entry
        start = None


# ---------------------------------------------------------------- a page


def log_page(
    filters: LogFilters, *, limit: int, next_token: str | None, budget: int, actor: Actor | None = None
) -> LogPage:
    """Up to `limit` matching messages, reading at most `budget` index entries (callers check the role). With
    the caller's `actor`, each message carries its contact's name (one batch read for the page)."""
    today = utcnow().date()
    plan = _plan(filters, today)
    start = page_tokens.decode(next_token, filters.tag, plan.key_names) if next_token else None
    items: list[Message] = []
    pending: list[_Entry] = []
    examined, last = 0, None
    for entry in _entries(plan, start, budget, _READ_AHEAD if plan.tests_entries else limit + 1):
        examined, last = examined + 1, entry
        if plan.tests_entries and not filters.matches(entry, with_status=False):
            continue
        pending.append(entry)
        if len(pending) == limit - len(items):
            items += _messages(pending, filters)
            pending = []
            if len(items) == limit:
                return LogPage(items=_named(items, actor), next_token=_token(plan, entry, filters), examined=examined,
                               searched_to=entry.created_at)
    items += _messages(pending, filters)
    capped = examined == budget  # the read limit, not the end of the log, stopped the walk
    return LogPage(
        items=_named(items, actor),
        next_token=_token(plan, last, filters) if capped and last is not None else None,
        examined=examined,
        truncated=capped,
        searched_to=last.created_at if last is not None else None,
    )


def _messages(entries: list[_Entry], filters: LogFilters) -> list[Message]:
    """The rows behind index entries, read by key and tested again (an index lags its table: a status may have
    moved on since the entry was written)."""
    now = utcnow()
    rows = rows_by_key(MessageModel, [entry.messageId for entry in entries])
    return [to_message(row) for row in rows if row is not None and row.is_live(now) and filters.matches(row)]


def _named(items: list[Message], actor: Actor | None) -> list[LogEntry]:
    """The page's messages with their contacts' names, looked up together as the actor (who must be allowed
    to read contacts); without an actor, unnamed."""
    ids = [m.contact_id for m in items if m.contact_id]
    names = contact_names(actor, ids) if actor is not None and ids else {}
    return [LogEntry(**dict(m), contact_name=names.get(m.contact_id or "")) for m in items]


def _token(plan: _Plan, entry: _Entry, filters: LogFilters) -> str:
    return page_tokens.encode(entry.key(plan.key_names), filters.tag)


# ---------------------------------------------------------------- CSV export


EXPORT_COLUMNS = ("createdAt", "channel", "direction", "status", "kind", "contactName", "address", "contactId", "body", "errorCode",
                  "messageId")


class CsvExport(NamedTuple):
    text: str
    count: int
    complete: bool  # False: a limit (EXPORT_MAX rows, EXPORT_EXAMINE_MAX entries read) stopped it early


def csv_export(filters: LogFilters, actor: Actor | None = None) -> CsvExport:
    """The filtered log as CSV text: at most EXPORT_MAX rows, found in at most EXPORT_EXAMINE_MAX index entries
    (callers check the role and audit); with the caller's `actor`, each row names its contact."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    count, budget, token = 0, EXPORT_EXAMINE_MAX, None
    while count < EXPORT_MAX and budget > 0:
        page = log_page(filters, limit=min(PAGE_MAX, EXPORT_MAX - count), next_token=token, budget=budget, actor=actor)
        for message in page.items:
            api = message.to_api()
            writer.writerow([safe_cell(api.get(c)) for c in EXPORT_COLUMNS])
        count, budget, token = count + len(page.items), budget - page.examined, page.next_token
        if not token:
            break
    return CsvExport(out.getvalue(), count, complete=token is None)

