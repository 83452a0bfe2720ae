"""SystemConfig values (JSON by key), with a short per-process cache for values read on hot paths."""
from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import Any

from backend.models.base import utcnow
from backend.models.runtime_config import SystemConfigModel

log = logging.getLogger(__name__)
CACHE_SECONDS = 5.0
_UNITS = ("hours", "minutes", "seconds")
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


def duration(key: str, default: timedelta) -> timedelta:
    """A length of time stored as {"hours": n}, {"minutes": n} or {"seconds": n} (cached); `default` when the
    key is unset, and when its value is not one positive number of one of those units (logged, so a bad edit
    is seen rather than taken as zero)."""
    value = cached(key)
    if value is None:
        return default
    length = as_duration(value)
    if length is not None:
        return length
    log.warning("system config %s is not a positive duration (%r); using %s", key, value, default)
    return default


def as_duration(value: Any) -> timedelta | None:
    """The one rule for a stored length of time: one positive number of one unit, else None."""
    if isinstance(value, dict) and len(value) == 1:
        ((unit, amount),) = value.items()
        if unit in _UNITS and isinstance(amount, (int, float)) and not isinstance(amount, bool) and amount > 0:
            try:
                return timedelta(**{unit: amount})
            except OverflowError:
                return None
    return None


def row(key: str, value: Any, *, updated_by: str) -> SystemConfigModel:
    """The row that stores a value (for a caller that commits it with its audit row, then `forget`s the key)."""
    return SystemConfigModel(configKey=key, value=value, updatedBy=updated_by, updatedAt=utcnow())


def write(key: str, value: Any, *, updated_by: str) -> None:
    """Store a value; callers check the caller's role and audit admin changes."""
    row(key, value, updated_by=updated_by).save()
    forget(key)


def forget(key: str | None = None) -> None:
    with _lock:
        if key is None:
            _cache.clear()
        else:
            _cache.pop(key, None)
