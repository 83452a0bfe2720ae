"""The local trigger of AI auto-reply: the process's change hub tells of each new customer message, and one worker
thread asks `services.ai.auto_reply.consider` about it (the hub's thread never waits on the assistant). The
rules, the kill switch and the once-per-message claim are the service's; a message this process misses (it was
down) is simply left for a person. In AWS the app tier runs this same trigger on the Message stream it reads for
the live pages anyway (no function of its own); with several app processes each hears every message, and the
service's once-per-message claim lets exactly one of them answer."""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from backend.runtime.change_feed import ChangeHub, MessageChange
from backend.services.ai import auto_reply

log = logging.getLogger(__name__)

_worker: ThreadPoolExecutor | None = None
_unsubscribe: Callable[[], None] | None = None


def _consider(message_id: str) -> None:
    try:
        outcome = auto_reply.consider(message_id)
        if outcome.status not in ("off", "not-eligible", "duplicate"):
            # the reason can quote the customer's words: only at DEBUG
            log.info("AI auto-reply for %s: %s", message_id, outcome.status)
            log.debug("AI auto-reply for %s: %s", message_id, outcome.reason)
    except Exception:  # noqa: BLE001 - one message's failure must not stop the worker
        log.exception("AI auto-reply for %s failed", message_id)


def _on_changes(changes: list[MessageChange]) -> None:
    for change in changes:
        if change.event == "INSERT" and change.direction == "inbound" and _worker is not None:
            _worker.submit(_consider, change.message_id)


def start_auto_reply(hub: ChangeHub | None) -> None:
    global _worker, _unsubscribe
    if hub is None or _unsubscribe is not None:
        return
    _worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ai-auto-reply")
    _unsubscribe = hub.subscribe(_on_changes)


def stop_auto_reply() -> None:
    global _worker, _unsubscribe
    if _unsubscribe is not None:
        _unsubscribe()
        _unsubscribe = None
    if _worker is not None:
        _worker.shutdown(wait=False, cancel_futures=True)
        _worker = None
