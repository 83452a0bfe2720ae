"""The message counters' reader in the local runtime: a durable feed of the Message table's stream that counts
every record once (services/analytics/counters.py), then tells the live dashboards (its hub publishes each batch
after it is counted, so a page that reads the counters on hearing it sees the batch in them). In AWS the same
`count_records` runs on the stream's event source mapping.

Every app process runs one; the checkpoint makes the processes count each record once between them. In AWS the
web tier counts nothing (the function does; two counters with their own claims would count twice) and reads the
stream once: its dashboards hear the process's live feed (`start_change_hub`) and read the counters the function
keeps, at most a batch behind what they heard."""
from __future__ import annotations

import os
import threading

from backend.runtime.change_feed import ChangeFeed, ChangeHub, feed_for, start_change_hub
from backend.services.analytics import counters
from backend.settings import Settings, get_settings

_lock = threading.Lock()
_hub: ChangeHub | None = None
_feed: ChangeFeed | None = None
_pid: int | None = None


def start_counters_feed(settings: Settings | None = None, **options) -> ChangeHub:
    """Start the process's counter reader (idempotent, fork-aware); returns the hub of counted batches."""
    global _hub, _feed, _pid
    if not (settings or get_settings()).is_local:
        # AWS: messages-read counts on the stream's event source mapping; here the dashboards only need to hear
        # of changes, which the process's live feed already reads (no second reader of the stream per task)
        return start_change_hub(settings)
    with _lock:
        if _pid != os.getpid():
            _hub, _feed, _pid = None, None, os.getpid()
        if _hub is None:
            _hub = ChangeHub()
        if _feed is None or not _feed.running:
            _feed = feed_for(settings, _hub.publish, on_records=counters.count_records, start_from=counters.checkpoint,
                             **options)
            _feed.start()
        return _hub


def stop_counters_feed(timeout: float = 1.0) -> None:
    global _feed
    with _lock:
        feed, _feed = _feed, None
    if feed is not None and _pid == os.getpid():
        feed.stop(timeout)


def counters_feed() -> ChangeFeed | None:
    return _feed
