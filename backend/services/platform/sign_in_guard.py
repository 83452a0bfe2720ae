"""Failed sign-ins slow down and then lock, per account and per client, so a password cannot be guessed.

The first MAX_FREE_FAILURES failures in a row cost nothing; each one after that locks the account (and the
client that tried) for twice as long as the one before, up to MAX_LOCK_SECONDS. A success clears the
account's count. The guard is keyed by the email as typed (normalised), whether or not an account has it, so
the refusal never tells whether an address is registered. Counts live in the RateLimitTracker table (24 h TTL).
"""
from __future__ import annotations

import math
import time

from backend.errors import RateLimited
from backend.models.base import utcnow
from backend.models.runtime_config import RateLimitTrackerModel

MAX_FREE_FAILURES = 5
MAX_LOCK_SECONDS = 15 * 60


def guard_keys(email: str, client: str | None) -> list[str]:
    keys = [f"signin#account#{email.strip().lower()[:320]}"]
    if client:
        keys.append(f"signin#client#{client[:128]}")
    return keys


def check_not_locked(keys: list[str], now: float | None = None) -> None:
    """RateLimited while any of the keys is locked, saying for how long (the same words for every address)."""
    now = now or time.time()
    for key in keys:
        try:
            row = RateLimitTrackerModel.get(key, consistent_read=True)
        except RateLimitTrackerModel.DoesNotExist:
            continue
        if row.is_live() and row.lockedUntil and row.lockedUntil > now:
            wait = math.ceil(row.lockedUntil - now)
            when = f"{math.ceil(wait / 60)} minute{'s' if wait > 60 else ''}" if wait >= 60 else f"{wait} seconds"
            raise RateLimited(f"Too many failed sign-ins. Try again in {when}.", field="email")


def record_failure(keys: list[str], now: float | None = None) -> float:
    """Count a failure on every key; the longest lock it sets, in seconds (0 while still free)."""
    now = now or time.time()
    longest = 0.0
    expires = utcnow() + RateLimitTrackerModel.retention
    for key in keys:
        row = RateLimitTrackerModel(limiterKey=key)
        row.update(actions=[RateLimitTrackerModel.failures.add(1), RateLimitTrackerModel.expiresAt.set(expires)])
        failures = int(row.failures or 0)
        if failures > MAX_FREE_FAILURES:
            lock = min(2.0 ** (failures - MAX_FREE_FAILURES), MAX_LOCK_SECONDS)
            row.update(actions=[RateLimitTrackerModel.lockedUntil.set(now + lock)])
            longest = max(longest, lock)
    return longest


def record_success(keys: list[str]) -> None:
    """A right password clears the account's count (the client's stays: it may be trying many accounts)."""
    RateLimitTrackerModel(limiterKey=keys[0]).delete()
