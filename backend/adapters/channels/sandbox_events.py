"""How every sandbox reports back: its provider's events, each built when it goes out (so it carries its own
time), `delay` apart, on a daemon timer thread, to the sink the app set (the real inbound path).

The timers die with the process, so each batch is also written down, built at once, in its channel's journal
(`<data_dir>/sandbox/pending-events/<channel>.jsonl`, the channel being the sandbox's label in lower case) until
its last event is out. The next process `resume`s what a dead one left there, each event when it falls due (or
at once if that time has passed): a message the sandbox accepted never stays ACCEPTED or SENT for good. Statuses
only move forward, so an event delivered twice (just before a crash and again after) changes nothing.
"""
from __future__ import annotations

import fcntl
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from backend.settings import get_settings

log = logging.getLogger(__name__)

EventSink = Callable[[str], None]
COMPACT_BYTES = 1 << 20  # a journal this long is rewritten with only its pending batches


@dataclass
class PendingBatch:
    """A batch not fully delivered: its events (built when it was scheduled), those already out, and when the
    next one was due."""

    batch_id: str
    events: list[str]
    delay: float
    delivered: int
    next_due: float


class EventJournal:
    """An append-only JSON-lines file shared by every thread and process (an exclusive `flock` on a lock file
    beside it around each write): a line per batch scheduled, per event delivered and per batch finished."""

    def __init__(self, path: Path):
        self.path = path
        self._lock_path = path.with_suffix(".lock")

    @classmethod
    def for_channel(cls, label: str) -> EventJournal:
        return cls(Path(get_settings().data_dir) / "sandbox" / "pending-events" / f"{label.lower()}.jsonl")

    def scheduled(self, batch_id: str, events: list[str], delay: float, first_due: float) -> None:
        self._append({"batch": batch_id, "events": events, "delay": delay, "due": first_due})

    def delivered(self, batch_id: str, count: int) -> None:
        self._append({"batch": batch_id, "delivered": count, "at": time.time()})

    def finished(self, batch_id: str) -> None:
        self._append({"batch": batch_id, "finished": True})
        try:
            if self.path.is_file() and self.path.stat().st_size > COMPACT_BYTES:
                with self._locked():
                    self._rewrite(self._read())
        except OSError:
            log.exception("sandbox event journal %s could not be compacted", self.path)

    def pending(self) -> list[PendingBatch]:
        """The batches not finished, oldest first (and the journal compacted to them)."""
        with self._locked():
            batches = self._read()
            self._rewrite(batches)
        return batches

    def _append(self, record: dict) -> None:
        """Write one line; a journal that cannot be written costs durability (logged), never the send."""
        line = json.dumps(record, ensure_ascii=False) + "\n"
        try:
            with self._locked(), self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)
        except OSError:
            log.exception("sandbox event journal %s could not be written", self.path)

    def _read(self) -> list[PendingBatch]:
        batches: dict[str, PendingBatch] = {}
        if not self.path.is_file():
            return []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:  # a line cut short by a crash
                continue
            batch_id = record.get("batch")
            if "events" in record:
                batches[batch_id] = PendingBatch(batch_id, record["events"], record["delay"], 0, record["due"])
            elif batch_id in batches and record.get("finished"):
                del batches[batch_id]
            elif batch_id in batches and "delivered" in record:
                batch = batches[batch_id]
                batch.delivered, batch.next_due = record["delivered"], record["at"] + batch.delay
        return [batch for batch in batches.values() if batch.delivered < len(batch.events)]

    def _rewrite(self, batches: list[PendingBatch]) -> None:
        temporary = self.path.with_suffix(".tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            for batch in batches:
                handle.write(json.dumps({"batch": batch.batch_id, "events": batch.events, "delay": batch.delay,
                                         "due": batch.next_due}, ensure_ascii=False) + "\n")
                if batch.delivered:
                    handle.write(json.dumps({"batch": batch.batch_id, "delivered": batch.delivered,
                                             "at": batch.next_due - batch.delay}) + "\n")
        temporary.replace(self.path)

    def _locked(self):
        return _FileLock(self._lock_path)


class _FileLock:
    def __init__(self, path: Path):
        self._path = path

    def __enter__(self):
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self._path.open("a")
        fcntl.flock(self._handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc) -> None:
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()


class DelayedEvents:
    def __init__(self, label: str, journal: EventJournal | None = None):
        self._label = label
        self._journal = journal
        self._lock = threading.Lock()
        self._timers: dict[threading.Timer, str] = {}

    @property
    def journal(self) -> EventJournal:
        if self._journal is None:  # where the settings of the first send say, not those at import
            self._journal = EventJournal.for_channel(self._label)
        return self._journal

    def send(self, sink: EventSink | None, builders: list[Callable[[], str]], delay: float) -> None:
        """Deliver `builders`' events to `sink`, the first after `delay`, then one every `delay`."""
        if sink is None or not builders:
            return
        batch_id = uuid.uuid4().hex
        self.journal.scheduled(batch_id, [build() for build in builders], delay, time.time() + delay)
        self._start(batch_id, sink, builders, delay, delay, 0)

    def resume(self, sink: EventSink) -> int:
        """Deliver what the journal holds undelivered (a dead process's batches); the number of batches."""
        try:
            batches = self.journal.pending()
        except OSError:
            log.exception("sandbox %s: the event journal could not be read; nothing resumed", self._label)
            return 0
        now = time.time()
        for batch in batches:
            builders = [lambda event=event: event for event in batch.events]
            self._start(batch.batch_id, sink, builders, max(0.0, batch.next_due - now), batch.delay, batch.delivered)
        if batches:
            log.info("sandbox %s: resumed %d batches of events a stopped process left", self._label, len(batches))
        return len(batches)

    def _start(self, batch_id: str, sink: EventSink, builders: list[Callable[[], str]], first: float,
               delay: float, delivered: int) -> None:
        timer = threading.Timer(first, self._deliver, args=(batch_id, sink, builders, delay, delivered))
        timer.daemon = True
        with self._lock:
            self._timers[timer] = batch_id
        timer.start()

    def _deliver(self, batch_id: str, sink: EventSink, builders: list[Callable[[], str]], delay: float,
                 delivered: int) -> None:
        try:
            for index in range(delivered, len(builders)):
                if index > delivered:
                    time.sleep(delay)
                sink(builders[index]())
                self.journal.delivered(batch_id, index + 1)
        except Exception:  # noqa: BLE001 - a timer thread has nobody to raise to
            log.exception("sandbox %s event delivery failed", self._label)
        finally:
            with self._lock:
                self._timers.pop(threading.current_thread(), None)  # type: ignore[call-overload]  # the Timer itself
            self.journal.finished(batch_id)

    def cancel_all(self) -> None:
        """Drop the events not delivered yet (from the journal too: they are not to come back)."""
        with self._lock:
            timers, self._timers = dict(self._timers), {}
        for timer, batch_id in timers.items():
            timer.cancel()
            self.journal.finished(batch_id)


def resume_channel(channel: str, sink: EventSink) -> int:
    """At start-up: deliver to `sink` the sandbox events of `channel` that a stopped process left undelivered."""
    return DelayedEvents(channel).resume(sink)
