"""How every sandbox reports back: its provider's events, each built when it goes out (so it carries its own
time), `delay` apart, on a daemon timer thread, to the sink the app set (the real inbound path)."""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

log = logging.getLogger(__name__)

EventSink = Callable[[str], None]


class DelayedEvents:
    def __init__(self, label: str):
        self._label = label
        self._lock = threading.Lock()
        self._timers: set[threading.Timer] = set()

    def send(self, sink: EventSink | None, builders: list[Callable[[], str]], delay: float) -> None:
        """Deliver `builders`' events to `sink`, the first after `delay`, then one every `delay`."""
        if sink is None or not builders:
            return
        timer = threading.Timer(delay, self._deliver, args=(sink, builders, delay))
        timer.daemon = True
        with self._lock:
            self._timers.add(timer)
        timer.start()

    def _deliver(self, sink: EventSink, builders: list[Callable[[], str]], delay: float) -> None:
        try:
            for index, build in enumerate(builders):
                if index:
                    time.sleep(delay)
                sink(build())
        except Exception:  # noqa: BLE001 - a timer thread has nobody to raise to
            log.exception("sandbox %s event delivery failed", self._label)
        finally:
            with self._lock:
                self._timers.discard(threading.current_thread())  # type: ignore[arg-type]  # the Timer itself

    def cancel_all(self) -> None:
        """Drop the events not delivered yet."""
        with self._lock:
            timers, self._timers = list(self._timers), set()
        for timer in timers:
            timer.cancel()
