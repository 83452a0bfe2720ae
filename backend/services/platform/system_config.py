"""SystemConfig values (JSON by key), with a short per-process cache for values read on hot paths."""
from __future__ import annotations

import threading
import time
from typing import Any

from backend.models.base import utcnow
from backend.models.runtime_config import SystemConfigModel

CACHE_SECONDS = 5.0
_cache: dict[str, tuple[float, Any]] = {}
_lock = threading.Lock()


def read(key: str) -> Any:
    try:
        return SystemConfigModel.get(key, consistent_read=True).value
    except SystemConfigModel.DoesNotExist:
        return None


def cached(key: str) -> Any:
    """The value as of at most CACHE_SECONDS ago (rate limits are read on every send)."""
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
        if hit and now - hit[0] < CACHE_SECONDS:
            return hit[1]
    value = read(key)
    with _lock:
        _cache[key] = (now, value)
    return value


def write(key: str, value: Any, *, updated_by: str) -> None:
    """Store a value; callers check the caller's role and audit admin changes."""
    SystemConfigModel(configKey=key, value=value, updatedBy=updated_by, updatedAt=utcnow()).save()
    forget(key)


def forget(key: str | None = None) -> None:
    with _lock:
        if key is None:
            _cache.clear()
        else:
            _cache.pop(key, None)
