"""One provider per channel per process, chosen from `WECARE_SEND_MODE` on first use.

SANDBOX → the local sandbox, whose SNS-shaped events go to the sink the app sets (the inbound path);
DRY_RUN → requests built and logged, never sent; LIVE → the AWS service. Tests put a provider in place
with `use` and forget everything with `reset`.
"""
from __future__ import annotations

import threading
from typing import Callable, Generic, TypeVar

from backend.adapters.channels.sandbox_events import EventSink
from backend.settings import SendMode, Settings, get_settings

Provider = TypeVar("Provider")


class ProviderSlot(Generic[Provider]):
    def __init__(
        self,
        *,
        live: Callable[[Settings], Provider],
        dry_run: Callable[[Settings], Provider],
        sandbox: Callable[[Settings, EventSink | None], Provider],
    ):
        self._builders = {SendMode.LIVE: live, SendMode.DRY_RUN: dry_run}
        self._sandbox = sandbox
        self._lock = threading.Lock()
        self._provider: Provider | None = None
        self._sink: EventSink | None = None

    def get(self, settings: Settings | None = None) -> Provider:
        """The process's provider; built on first use from `settings` (default: the app settings)."""
        with self._lock:
            if self._provider is None:
                settings = settings or get_settings()
                build = self._builders.get(settings.send_mode)
                self._provider = build(settings) if build else self._sandbox(settings, self._sink)
            return self._provider

    def set_sink(self, sink: EventSink | None) -> None:
        """Where a sandbox publishes its events; a sandbox already built switches over at once."""
        with self._lock:
            self._sink = sink
            if hasattr(self._provider, "on_event"):
                self._provider.on_event = sink

    def use(self, provider: Provider | None) -> None:
        with self._lock:
            self._provider = provider

    def reset(self) -> None:
        """Forget the provider and the sink; a sandbox's pending events are cancelled."""
        with self._lock:
            close = getattr(self._provider, "close", None)
            if callable(close):
                close()
            self._provider, self._sink = None, None
