"""The Message table's change feed: every write, whichever process made it, heard by every app process.

`ChangeFeed` reads the table's DynamoDB Stream (NEW_IMAGE) on a daemon thread and hands each batch of
`MessageChange`s to a callback. It starts at the stream's current end (only changes from now on), follows
shard rollovers and splits (a shard discovered later is read from its start, after its parent ends, so
nothing written to a child is missed), and survives expired iterators, trimmed data, a missing or
replaced stream, throttling and an endpoint that is down (backs off, logs once per outage).

A durable reader (`start_from` and `on_records`, the message counters') starts instead where its checkpoint
says, on every shard (TRIM_HORIZON without one), and is handed each shard's raw records before the feed moves
past them: if it raises, the same records are read again after a back-off.

`ChangeHub` fans one feed out to any number of in-process subscribers; `start_change_hub` starts the
process's single feed + hub (idempotent, fork-aware) and `stop_change_hub` stops it.

Subscriber callbacks run on the feed's thread: they must be quick and must not block (hand the batch to
an asyncio loop with `call_soon_threadsafe`, a queue, …).
"""
from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from boto3.dynamodb.types import TypeDeserializer
from botocore.config import Config
from botocore.exceptions import ClientError

from backend.models.messaging import MessageModel
from backend.models.schema import dynamodb_client, dynamodb_streams_client
from backend.settings import Settings, get_settings

log = logging.getLogger(__name__)

EVENTS = ("INSERT", "MODIFY", "REMOVE")
_GET_RECORDS_LIMIT = 1000
_MAX_CONSECUTIVE_SHARD_FAILURES = 3
# Fail fast so the thread stays responsive to stop() and does its own (logged) back-off.
_STREAMS_CONFIG = Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"})
_deserializer = TypeDeserializer()


@dataclass(frozen=True)
class MessageChange:
    """One write to the Message table, as the stream saw it (fields from the new image; None on REMOVE)."""

    event: str  # INSERT | MODIFY | REMOVE
    message_id: str
    contact_id: str | None
    channel: str | None
    direction: str | None
    status: str | None
    job_id: str | None = None  # a campaign's message: the bulk job it belongs to

    @classmethod
    def from_record(cls, record: dict) -> MessageChange | None:
        """The change in a GetRecords record (low-level attribute values); None if it is not a message."""
        data = record.get("dynamodb") or {}
        image = data.get("NewImage") or {}
        keys = data.get("Keys") or {}
        message_id = _attribute(image, "messageId") or _attribute(keys, "messageId")
        if not message_id:
            return None
        return cls(
            event=record.get("eventName", ""),
            message_id=str(message_id),
            contact_id=_attribute(image, "contactId"),
            channel=_attribute(image, "channel"),
            direction=_attribute(image, "direction"),
            status=_attribute(image, "status"),
            job_id=_attribute(image, "jobId"),
        )


def _attribute(image: dict, name: str):
    value = image.get(name)
    if value is None:
        return None
    try:
        return _deserializer.deserialize(value)
    except (TypeError, ValueError):
        return None


def _error_code(error: BaseException) -> str | None:
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code")
    return None


@dataclass
class _Shard:
    stream_arn: str
    shard_id: str
    origin: str  # LATEST | TRIM_HORIZON: where to start again if no record was seen yet
    iterator: str | None = None
    last_sequence: str | None = None
    failures: int = 0


class ChangeFeed:
    """Tails a table's DynamoDB Stream on a daemon thread; `on_change(batch)` per batch of changes."""

    def __init__(
        self,
        table_name: str,
        on_change: Callable[[list[MessageChange]], None],
        *,
        client=None,
        streams_client=None,
        poll_interval: float = 0.05,
        settings: Settings | None = None,
        refresh_interval: float = 5.0,
        max_backoff: float = 5.0,
        on_records: Callable[[str, list[dict]], None] | None = None,
        start_from: Callable[[str], str | None] | None = None,
    ) -> None:
        self.table_name = table_name
        self._on_change = on_change
        self._on_records = on_records  # (shard id, raw records), before the feed moves past them
        self._start_from = start_from  # a durable reader: shard id -> the last sequence number it has handled
        self._settings = settings
        self._client = client
        self._streams = streams_client
        self._poll_interval = poll_interval
        self._refresh_interval = refresh_interval
        self._max_backoff = max_backoff
        self.started_event = threading.Event()  # set once the first shard iterators are held
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopping: threading.Thread | None = None
        self._lifecycle = threading.Lock()
        # Owned by the feed thread:
        self._stream_arn: str | None = None
        self._shards: dict[str, _Shard] = {}  # shards being read
        self._waiting: dict[str, tuple[str, str]] = {}  # child shard -> (stream arn, parent still being read)
        self._known: set[str] = set()  # every shard already handled (read, being read, skipped, waiting)
        self._next_refresh = 0.0
        self._trouble: str | None = None  # the outage being backed off from (logged once)
        self._no_stream_logged = False

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> ChangeFeed:
        with self._lifecycle:
            if self._thread is not None and self._thread.is_alive():
                return self
            if self._stopping is not None:  # a stop() that timed out: never run two threads on one state
                self._stopping.join()
                self._stopping = None
            settings = self._settings or get_settings()
            if self._client is None:
                self._client = dynamodb_client(settings)
            if self._streams is None:
                self._streams = dynamodb_streams_client(settings, config=_STREAMS_CONFIG)
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=f"change-feed:{self.table_name}", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 1.0) -> None:
        with self._lifecycle:
            self._stop.set()
            thread, self._thread = self._thread, None
            if thread is not None:
                self._stopping = thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():  # stuck in a slow network call; it exits when that returns (daemon)
                log.warning("change feed for %s did not stop within %.1fs", self.table_name, timeout)

    def wait_ready(self, timeout: float | None = None) -> bool:
        """True once the feed holds its starting iterators: any write after this is delivered."""
        return self.started_event.wait(timeout)

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive() and not self._stop.is_set()

    def __enter__(self) -> ChangeFeed:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ----------------------------------------------------------------- the thread

    def _run(self) -> None:
        delay = 0.0
        while not self._stop.is_set():
            try:
                if time.monotonic() >= self._next_refresh:
                    self._refresh()
                delivered = self._poll_once() if self._shards else False
            except Exception as error:  # noqa: BLE001 - the feed must outlive every failure
                delay = min(max(delay * 2, 0.1), self._max_backoff)
                self._note_trouble(error, delay)
                self._next_refresh = 0.0  # look at the table/stream again once it answers
                self._stop.wait(delay)
                continue
            if self._trouble is not None:
                log.info("change feed for %s recovered (%s)", self.table_name, self._trouble)
                self._trouble = None
            delay = 0.0
            if not delivered:  # records came back: ask again at once, else wait a tick
                self._stop.wait(self._poll_interval)

    def _note_trouble(self, error: Exception, delay: float) -> None:
        if self._trouble is None:
            self._trouble = _error_code(error) or type(error).__name__
            log.warning(
                "change feed for %s: %s: %s; retrying with back-off (logged once until it recovers)",
                self.table_name,
                self._trouble,
                error,
            )
        else:
            log.debug("change feed for %s still failing (%s); next try in %.1fs", self.table_name, error, delay)

    # ----------------------------------------------------------------- stream and shards

    def _current_stream_arn(self) -> str | None:
        try:
            table = self._client.describe_table(TableName=self.table_name)["Table"]
        except ClientError as error:
            if _error_code(error) == "ResourceNotFoundException":
                return None
            raise
        if not (table.get("StreamSpecification") or {}).get("StreamEnabled"):
            return None
        return table.get("LatestStreamArn")

    def _refresh(self) -> None:
        """Find the stream, and start reading shards not seen before (LATEST at start, TRIM_HORIZON after)."""
        now = time.monotonic()
        arn = self._current_stream_arn()
        if arn is None:
            if not self._no_stream_logged:
                log.warning("change feed: table %s has no enabled stream (yet); waiting for one", self.table_name)
                self._no_stream_logged = True
            self._next_refresh = now + min(self._refresh_interval, 1.0)
            return
        if self._no_stream_logged:
            log.info("change feed: table %s has a stream again", self.table_name)
            self._no_stream_logged = False
        initial = not self.started_event.is_set()
        if arn != self._stream_arn:
            if self._stream_arn is not None:
                log.info("change feed: %s now streams to %s (reading it from its start)", self.table_name, arn)
            self._stream_arn = arn
        listed: set[str] = set()
        for shard in self._describe_shards(arn):
            shard_id = shard["ShardId"]
            listed.add(shard_id)
            if shard_id in self._known:
                continue
            if initial and self._start_from is not None:
                self._open(arn, shard_id, "TRIM_HORIZON")  # from its checkpoint, else all it still holds
                self._known.add(shard_id)
                continue
            if initial:
                if "EndingSequenceNumber" not in shard.get("SequenceNumberRange", {}):
                    self._open(arn, shard_id, "LATEST")  # only changes from now on
                self._known.add(shard_id)
                continue
            parent = shard.get("ParentShardId")
            if parent and parent in self._shards:
                self._waiting[shard_id] = (arn, parent)  # keep per-item order: the parent's records first
            else:
                self._open(arn, shard_id, "TRIM_HORIZON")  # new since we started: all of it is news
            self._known.add(shard_id)
        for child, (child_arn, parent) in list(self._waiting.items()):
            if parent not in self._shards:
                self._open(child_arn, child, "TRIM_HORIZON")
                del self._waiting[child]
        self._known &= listed | set(self._shards) | set(self._waiting)
        self._next_refresh = now + self._refresh_interval
        if initial:
            log.info("change feed for %s ready (%d open shard(s))", self.table_name, len(self._shards))
            self.started_event.set()

    def _describe_shards(self, arn: str) -> list[dict]:
        shards: list[dict] = []
        request = {"StreamArn": arn}
        while True:
            description = self._streams.describe_stream(**request)["StreamDescription"]
            shards.extend(description.get("Shards", []))
            last = description.get("LastEvaluatedShardId")
            if not last:
                return shards
            request["ExclusiveStartShardId"] = last

    def _open(self, arn: str, shard_id: str, origin: str) -> None:
        shard = _Shard(stream_arn=arn, shard_id=shard_id, origin=origin)
        if self._start_from is not None:
            shard.last_sequence = self._start_from(shard_id)
        if self._acquire(shard):
            self._shards[shard_id] = shard

    def _acquire(self, shard: _Shard) -> bool:
        """(Re)take an iterator: just after the last record seen, else at the shard's origin."""
        request = {"StreamArn": shard.stream_arn, "ShardId": shard.shard_id}
        if shard.last_sequence:
            request.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=shard.last_sequence)
        else:
            request["ShardIteratorType"] = shard.origin
        try:
            shard.iterator = self._streams.get_shard_iterator(**request)["ShardIterator"]
            return True
        except ClientError as error:
            code = _error_code(error)
            if code == "TrimmedDataAccessException" and request["ShardIteratorType"] != "TRIM_HORIZON":
                log.warning("change feed: records after %s were trimmed; reading %s from its oldest record",
                            shard.last_sequence, shard.shard_id)
                shard.last_sequence, shard.origin = None, "TRIM_HORIZON"
                return self._acquire(shard)
            if code == "ResourceNotFoundException":
                log.info("change feed: shard %s is gone", shard.shard_id)
                self._shards.pop(shard.shard_id, None)
                self._next_refresh = 0.0
                return False
            raise

    # ----------------------------------------------------------------- reading

    def _poll_once(self) -> bool:
        batch: list[MessageChange] = []
        for shard in list(self._shards.values()):
            if self._stop.is_set():
                break
            batch.extend(self._read(shard))
        if batch:
            self._deliver(batch)
        return bool(batch)

    def _read(self, shard: _Shard) -> list[MessageChange]:
        try:
            response = self._streams.get_records(ShardIterator=shard.iterator, Limit=_GET_RECORDS_LIMIT)
        except ClientError as error:
            code = _error_code(error)
            if code == "ResourceNotFoundException":
                log.info("change feed: shard %s is gone (%s)", shard.shard_id, error)
                self._shards.pop(shard.shard_id, None)
                self._next_refresh = 0.0
                return []
            if code in ("ExpiredIteratorException", "TrimmedDataAccessException", "ValidationException"):
                if code == "TrimmedDataAccessException":
                    log.warning("change feed: shard %s was trimmed past our position; reading from its oldest "
                                "record", shard.shard_id)
                    shard.last_sequence, shard.origin = None, "TRIM_HORIZON"
                else:
                    log.info("change feed: iterator of shard %s no longer valid (%s); re-acquiring", shard.shard_id,
                             code)
                self._acquire(shard)
                shard.failures += 1
                if shard.failures >= _MAX_CONSECUTIVE_SHARD_FAILURES:
                    shard.failures = 0
                    raise  # fresh iterators keep failing: back off in the main loop, then try again
                return []
            raise  # throttling, internal errors, …: back off in the main loop
        shard.failures = 0
        records = response.get("Records") or []
        if records and self._on_records is not None:
            try:
                self._on_records(shard.shard_id, records)
            except Exception:
                log.exception("change feed for %s: the records of shard %s could not be handled; reading them again",
                              self.table_name, shard.shard_id)
                self._acquire(shard)  # just after the last record handled
                raise  # back off in the main loop
        if records:
            shard.last_sequence = records[-1]["dynamodb"]["SequenceNumber"]
        shard.iterator = response.get("NextShardIterator")
        if shard.iterator is None:  # the shard is closed and fully read: its children come next
            self._shards.pop(shard.shard_id, None)
            self._next_refresh = 0.0
        changes = []
        for record in records:
            change = MessageChange.from_record(record)
            if change is not None:
                changes.append(change)
        return changes

    def _deliver(self, batch: list[MessageChange]) -> None:
        try:
            self._on_change(batch)
        except Exception:  # noqa: BLE001 - a failing consumer must not stop the feed
            log.exception("change feed for %s: the change callback raised; continuing", self.table_name)


class ChangeHub:
    """In-process fan-out of change batches; thread-safe. Callbacks run on the publishing (feed) thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[int, Callable[[list[MessageChange]], None]] = {}
        self._ids = itertools.count()

    def subscribe(self, callback: Callable[[list[MessageChange]], None]) -> Callable[[], None]:
        """Hear every batch from now on; returns the (idempotent) unsubscribe."""
        with self._lock:
            key = next(self._ids)
            self._subscribers[key] = callback

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers.pop(key, None)

        return unsubscribe

    def publish(self, changes: list[MessageChange]) -> None:
        if not changes:
            return
        with self._lock:
            callbacks = list(self._subscribers.values())
        for callback in callbacks:
            try:
                callback(list(changes))  # a copy each: one subscriber cannot disturb another
            except Exception:  # noqa: BLE001 - one failing subscriber must not starve the others
                log.exception("change hub: a subscriber raised; continuing")

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)


def message_table_name(settings: Settings | None = None) -> str:
    settings = settings or get_settings()
    return f"{settings.table_prefix}{MessageModel.short_name}"


def feed_for(
    settings: Settings | None = None,
    on_change: Callable[[list[MessageChange]], None] | None = None,
    **options,
) -> ChangeFeed:
    """A (not yet started) feed of the Message table named by `settings`."""
    settings = settings or get_settings()
    return ChangeFeed(message_table_name(settings), on_change or (lambda changes: None), settings=settings, **options)


_process_lock = threading.Lock()
_process_hub: ChangeHub | None = None
_process_feed: ChangeFeed | None = None
_process_pid: int | None = None


def start_change_hub(settings: Settings | None = None, **options) -> ChangeHub:
    """The process's hub, fed by its one Message-table feed; starts the feed on the first call only.

    Idempotent; after a fork the child gets its own hub and feed (threads do not survive a fork).
    The hub outlives `stop_change_hub`, so a restart keeps its subscribers.
    """
    global _process_hub, _process_feed, _process_pid
    with _process_lock:
        pid = os.getpid()
        if _process_pid != pid:
            _process_hub, _process_feed, _process_pid = None, None, pid
        if _process_hub is None:
            _process_hub = ChangeHub()
        if _process_feed is None or not _process_feed.running:
            _process_feed = feed_for(settings, _process_hub.publish, **options)
            _process_feed.start()
        return _process_hub


def stop_change_hub(timeout: float = 1.0) -> None:
    global _process_feed
    with _process_lock:
        feed, _process_feed = _process_feed, None
    if feed is not None and _process_pid == os.getpid():
        feed.stop(timeout)


def change_hub() -> ChangeHub | None:
    """The process's hub if its feed is running, else None."""
    with _process_lock:
        if _process_pid == os.getpid() and _process_feed is not None and _process_feed.running:
            return _process_hub
        return None


def change_feed() -> ChangeFeed | None:
    """The process's running feed (e.g. to `wait_ready`), else None."""
    with _process_lock:
        if _process_pid == os.getpid() and _process_feed is not None and _process_feed.running:
            return _process_feed
        return None
