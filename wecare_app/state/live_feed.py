"""Live pages: the process's change hub (the Message table's stream) pushed to open pages over their websocket.

A page that wants live updates starts `follow_changes` from its on_load. The loop waits for change batches
(no browser polling: the server hears the stream, the browser hears the server), lets the page refresh the
parts that changed, and ends when the client disconnects or moves to another page.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging

from backend.runtime.change_feed import MessageChange
from wecare_app.state.session_state import forget_event_actor

log = logging.getLogger(__name__)

_hub = None


def attach_hub(hub) -> None:
    """The app's lifespan hands over the hub it started (None when there is no live feed)."""
    global _hub
    _hub = hub


class LiveSubscription:
    """Change batches from the hub's thread, handed to an asyncio consumer."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[list[MessageChange]] = asyncio.Queue()
        self._unsubscribe = _hub.subscribe(self._deliver) if _hub is not None else (lambda: None)

    def _deliver(self, changes: list[MessageChange]) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: the app is stopping
            self._loop.call_soon_threadsafe(self._queue.put_nowait, list(changes))

    async def next_batch(self, timeout: float) -> list[MessageChange]:
        """Everything that changed, waiting at most `timeout` seconds (an empty list on timeout)."""
        try:
            batch = await asyncio.wait_for(self._queue.get(), timeout)
        except asyncio.TimeoutError:
            return []
        return batch + self.drain()

    def drain(self) -> list[MessageChange]:
        """Whatever has arrived, without waiting."""
        changes: list[MessageChange] = []
        while not self._queue.empty():
            changes.extend(self._queue.get_nowait())
        return changes

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


async def follow_changes(state, page_prefix: str, on_batch, *, tick: float = 30.0) -> None:
    """Run a page's live loop: `on_batch(changes)` after each batch, and every `tick` seconds with [] (for
    clocks such as the 24-hour window). Only the newest loop of a state runs; it ends with the page.
    Changes arriving within MIN_REFRESH_SECONDS of the last refresh are gathered into the next one."""
    async with state:
        state.follow_generation += 1
        generation = state.follow_generation
        client_token = state.router.session.client_token
    subscription = LiveSubscription()
    last_refresh = 0.0
    loop = asyncio.get_running_loop()
    try:
        while True:
            batch = await subscription.next_batch(tick)
            wait = last_refresh + MIN_REFRESH_SECONDS - loop.time()
            if batch and wait > 0:
                await asyncio.sleep(wait)
                batch.extend(subscription.drain())
            if not client_connected(client_token):
                return
            async with state:
                if state.follow_generation != generation or not state.router.url.path.startswith(page_prefix):
                    return
            last_refresh = loop.time()
            forget_event_actor()  # each batch checks the session again: a revoked one ends the loop
            if not await state.signed_in():
                return
            await on_batch(batch)
    finally:
        subscription.close()
