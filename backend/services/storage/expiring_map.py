"""A bounded, thread-safe map whose entries expire: the per-process memory of the inbound hot path."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Generic, TypeVar

V = TypeVar("V")


class ExpiringMap(Generic[V]):
    """Key → value for `ttl_seconds`, at most `capacity` entries (the least recently used go first)."""

    def __init__(self, capacity: int, ttl_seconds: float):
        self._entries: OrderedDict[str, tuple[float, V]] = OrderedDict()
        self._capacity, self._ttl = capacity, ttl_seconds
        self._lock = threading.Lock()

    def get(self, key: str) -> V | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] < time.monotonic():
                self._entries.pop(key, None)
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: str, value: V) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + self._ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)

    def items(self) -> dict[str, V]:
        """Every entry not yet expired."""
        now = time.monotonic()
        with self._lock:
            return {key: value for key, (expires, value) in self._entries.items() if expires >= now}

    def forget(self, key: str | None = None) -> None:
        """Drop one key, or everything."""
        with self._lock:
            if key is None:
                self._entries.clear()
            else:
                self._entries.pop(key, None)
