"""Live pages: the process's change hub (the Message table's stream) pushed to open pages over their websocket.

A page that wants live updates starts `follow_changes` from its on_load. The loop waits for change batches
(no browser polling: the server hears the stream, the browser hears the server), lets the page refresh the
parts that changed, and ends when the client disconnects or moves to another page.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from backend.runtime.change_feed import MessageChange
from wecare_app.state.session_state import forget_event_actor

log = logging.getLogger(__name__)

_hub = None
_counters_hub = None  # the same changes, published once the message counters include them


def attach_hub(hub) -> None:
    """The app's lifespan hands over the hub it started (None when there is no live feed)."""
    global _hub
    _hub = hub


def attach_counters_hub(hub) -> None:
    """The hub of counted batches (runtime/counters_feed.py), for pages that show the counters."""
    global _counters_hub
    _counters_hub = hub


class ChangeBatch(list):
    """The changes of one refresh, with when the newest of them was published (time.monotonic(), on the feed's
    thread): a row read by key after that moment already shows every change in the batch."""

    published_at: float = 0.0

    def take(self, published_at: float, changes: list[MessageChange]) -> None:
        self.extend(changes)
        self.published_at = max(self.published_at, published_at)


class LiveSubscription:
    """Change batches from the hub's thread, handed to an asyncio consumer."""

    def __init__(self, *, counted: bool = False) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[tuple[float, list[MessageChange]]] = asyncio.Queue()
        hub = _counters_hub if counted else _hub
        self._unsubscribe = hub.subscribe(self._deliver) if hub is not None else (lambda: None)

    def _deliver(self, changes: list[MessageChange]) -> None:
        published = (time.monotonic(), list(changes))
        with contextlib.suppress(RuntimeError):  # the loop closed: the app is stopping
            self._loop.call_soon_threadsafe(self._queue.put_nowait, published)

    async def next_batch(self, timeout: float) -> ChangeBatch:
        """Everything that changed, waiting at most `timeout` seconds (an empty batch on timeout)."""
        batch = ChangeBatch()
        try:
            batch.take(*await asyncio.wait_for(self._queue.get(), timeout))
        except asyncio.TimeoutError:
            return batch
        return self.drain(batch)

    def drain(self, batch: ChangeBatch | None = None) -> ChangeBatch:
        """Whatever has arrived, without waiting (added to `batch`)."""
        batch = batch if batch is not None else ChangeBatch()
        while not self._queue.empty():
            batch.take(*self._queue.get_nowait())
        return batch

    def close(self) -> None:
        self._unsubscribe()


def client_connected(client_token: str) -> bool:
    """Whether the browser tab behind a state is still connected to this backend."""
    try:
        from reflex.utils.prerequisites import get_app

        namespace = get_app().app.event_namespace
    except Exception:  # noqa: BLE001 - outside a running app: assume connected, the page check ends the loop
        return True
    return namespace is None or client_token in namespace.token_to_sid


MIN_REFRESH_SECONDS = 0.1  # at most ~10 refreshes a second per page: a busy inbox must not outrun the browser
SESSION_RECHECK_SECONDS = 1.0  # a live loop reads its session again at most this often (not on every batch)


def on_page(path: str, page_prefix: str) -> bool:
    """Whether the browser is still on the page a loop serves: "/" is the dashboard alone, any other prefix
    covers its sub-pages ("/bulk" and "/bulk/…")."""
    return path == "/" if page_prefix == "/" else path.startswith(page_prefix)


async def follow_changes(state, page_prefix: str, on_batch, *, tick: float = 30.0, counted: bool = False,
                         min_refresh: float = MIN_REFRESH_SECONDS) -> None:
    """Run a page's live loop: `on_batch(changes)` after each batch, and every `tick` seconds with [] (for
    clocks such as the 24-hour window). Only the newest loop of a state runs; it ends with the page.
    Changes arriving within `min_refresh` seconds of the last refresh are gathered into the next one.
    `counted`: hear each batch once the message counters include it (the dashboard)."""
    async with state:
        state.follow_generation += 1
        generation = state.follow_generation
        client_token = state.router.session.client_token
    subscription = LiveSubscription(counted=counted)
    last_refresh = last_session_check = 0.0
    loop = asyncio.get_running_loop()
    try:
        while True:
            batch = await subscription.next_batch(tick)
            wait = last_refresh + min_refresh - loop.time()
            if batch and wait > 0:
                await asyncio.sleep(wait)
                subscription.drain(batch)
            if not client_connected(client_token):
                return
            async with state:
                if state.follow_generation != generation or not on_page(state.router.url.path, page_prefix):
                    return
            last_refresh = loop.time()
            if last_refresh - last_session_check >= SESSION_RECHECK_SECONDS:
                last_session_check = last_refresh
                forget_event_actor()  # the session is checked again: a revoked one ends the loop within a second
                if not await state.signed_in():
                    return
            await on_batch(batch)
    finally:
        subscription.close()
