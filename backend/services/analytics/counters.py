"""The message counters: what the dashboard and the analytics read, kept from the Message table's stream.

A message counts in the cell of the day it was created (UTC), its channel and its direction. What it adds to
its cell is a function of the row alone (`row_counts`):

- `total`: 1 for every message;
- outbound milestones, reached once and kept: `sent` (it went out: accepted, sent, delivered or read),
  `delivered` (delivered or read: a read receipt that overtook the delivery still counts as delivered),
  `read`; and `campaign` for a campaign's message;
- the outbound failures as they stand now: `failed` (failed, dead-lettered or expired) and, with it,
  `reason:<error code>`: a replay that gets the message through takes it out of the failures again;
- a person's reply: `responses`, `responseSeconds` (the customer's wait, summed) and `response:<bucket>`.

Each write to the Message table adds `row_counts(new image) - row_counts(old image)` (the stream's
NEW_AND_OLD_IMAGES). The differences of all of a message's writes add up to the counts of its row as it stands:
so the counters equal a recount of the rows (`recount`), whatever the order, number or repetition of the
status events that made the rows, and they outlive the rows: an expiring row's REMOVE record adds nothing.
A batch of records is counted exactly once: its counts and the reader's checkpoint move in one transaction
(models/message_stats.py), and records at or before the checkpoint are skipped, so a batch read twice, or by
two processes, counts once.
"""
from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from backend.models import message_stats
from backend.models.message_stats import CheckpointMoved
from backend.models.messaging import TIMELINE_KINDS, MessageModel
from backend.services.messaging.statuses import FAILURES, WENT_OUT

log = logging.getLogger(__name__)

# A first response's wait, bucketed for the distribution (upper bounds in seconds, the last open-ended).
RESPONSE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("1m", 60), ("5m", 300), ("15m", 900), ("1h", 3600), ("4h", 14_400), ("1d", 86_400), ("more", float("inf")),
)
MAX_DAYS_PER_TRANSACTION = 99  # and the checkpoint: DynamoDB's limit is 100 items
_deserializer = TypeDeserializer()
_CODE = re.compile(r"[^A-Za-z0-9_.\-]")


def response_bucket(seconds: float) -> str:
    return next(name for name, bound in RESPONSE_BUCKETS if seconds <= bound)


def cell(channel: str, direction: str, metric: str) -> str:
    """A counter's name on its day's item."""
    return f"{channel}|{direction}|{metric}"


def row_counts(row: Mapping[str, Any] | None) -> tuple[str, Counter] | None:
    """(day, counters) a message row contributes (see the module's docstring); None for a row that is not a
    message (a conversation's note or event, a row without its day)."""
    if not row or row.get("kind") in TIMELINE_KINDS:
        return None
    channel, direction, day = row.get("channel"), row.get("direction"), row.get("day")
    if not (channel and direction and day):
        return None
    status = row.get("status")
    history = {step.get("status") for step in row.get("statusHistory") or ()} | {status}
    counts = Counter(total=1)
    if direction == "outbound":
        counts["sent"] = int(bool(history & WENT_OUT))
        counts["delivered"] = int(bool(history & {"DELIVERED", "READ"}))
        counts["read"] = int("READ" in history)
        counts["campaign"] = int(bool(row.get("jobId")))
        if status in FAILURES:
            counts["failed"] = 1
            counts["reason:" + _CODE.sub("_", str(row.get("errorCode") or "UNKNOWN"))[:64]] = 1
    waited = row.get("responseSeconds")
    if waited is not None:
        counts.update({"responses": 1, "responseSeconds": int(waited), "response:" + response_bucket(float(waited)): 1})
    return day, Counter({cell(channel, direction, metric): n for metric, n in counts.items() if n})


def image(raw: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A stream image (DynamoDB's typed attribute values) as plain values."""
    if not raw:
        return None
    return {name: _deserializer.deserialize(value) for name, value in raw.items()}


def record_deltas(records: Iterable[Mapping[str, Any]]) -> dict[str, Counter]:
    """What the records add to each day's counters: new image minus old, per record (REMOVE adds nothing)."""
    deltas: dict[str, Counter] = defaultdict(Counter)
    for record in records:
        if record.get("eventName") == "REMOVE":
            continue  # an expired or deleted row: what it counted stays counted
        data = record.get("dynamodb") or {}
        new = row_counts(image(data.get("NewImage")))
        old = row_counts(image(data.get("OldImage")))
        if new:
            deltas[new[0]].update(new[1])
        if old:
            deltas[old[0]].subtract(old[1])
    return {day: Counter({k: v for k, v in counts.items() if v}) for day, counts in deltas.items()}


def _sequence(record: Mapping[str, Any]) -> int:
    return int(record["dynamodb"]["SequenceNumber"])


def count_records(shard: str, records: list[Mapping[str, Any]]) -> int:
    """Count a shard's records (in stream order) exactly once; returns how many were new to the counters."""
    counted = 0
    for chunk in _chunks(records):
        while True:
            previous = message_stats.read_checkpoint(shard)
            fresh = [r for r in chunk if previous is None or _sequence(r) > int(previous)]
            if not fresh:
                break
            try:
                message_stats.add_counts(record_deltas(fresh), shard=shard, previous=previous,
                                         sequence=fresh[-1]["dynamodb"]["SequenceNumber"])
            except CheckpointMoved:
                continue  # another reader counted some of them: count what is left
            counted += len(fresh)
            break
    return counted


def _chunks(records: list[Mapping[str, Any]]) -> Iterable[list[Mapping[str, Any]]]:
    """Runs of records that touch at most MAX_DAYS_PER_TRANSACTION days (one transaction each)."""
    chunk: list[Mapping[str, Any]] = []
    days: set[str] = set()
    for record in records:
        image_days = {img.get("day", {}).get("S") for img in ((record.get("dynamodb") or {}).get(k) or {}
                                                             for k in ("NewImage", "OldImage"))} - {None}
        if len(days | image_days) > MAX_DAYS_PER_TRANSACTION and chunk:
            yield chunk
            chunk, days = [], set()
        chunk.append(record)
        days |= image_days
    if chunk:
        yield chunk


def recount(rows: Iterable[MessageModel]) -> dict[str, Counter]:
    """The counters the rows make, counted afresh (tests, and `rebuild` of the days whose rows are all kept)."""
    totals: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        counted = row_counts(image(row.serialize(null_check=False)))
        if counted:
            totals[counted[0]].update(counted[1])
    return dict(totals)


def read_days(days: Iterable[str]) -> dict[str, dict[str, int]]:
    """The stored counters of each day (absent: nothing counted)."""
    return message_stats.read_days(days)


def checkpoint(shard: str) -> str | None:
    """The last record of `shard` already counted (a reader starts just after it)."""
    return message_stats.read_checkpoint(shard)


def count_stream_event(event: Mapping[str, Any]) -> dict[str, int]:
    """A Lambda event of the Message table's stream (AWS: the event source mapping on messages-read).

    Lambda hands a function one shard's records in order, one batch at a time, and retries a failed batch as
    it was; the event does not name the shard. So the batch's claim is its first record's sequence number (unique
    in the stream): a batch counts once however often it is delivered."""
    records = [r for r in event.get("Records") or () if r.get("eventSource") == "aws:dynamodb"]
    if not records:
        return {"records": 0, "counted": 0}
    records.sort(key=_sequence)
    counted = 0
    for chunk in _chunks(records):
        claim = "lambda-batch#" + chunk[0]["dynamodb"]["SequenceNumber"]
        try:
            message_stats.add_counts(record_deltas(chunk), shard=claim, previous=None,
                                     sequence=chunk[-1]["dynamodb"]["SequenceNumber"])
        except CheckpointMoved:
            continue  # delivered before and counted then
        counted += len(chunk)
    return {"records": len(records), "counted": counted}
