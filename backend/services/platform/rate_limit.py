"""Per-sender token buckets in the RateLimitTracker table, shared by every process; they fail closed.

A bucket refills continuously at `per_second` up to `burst`. Taking a token is an optimistic conditional
write on the bucket row; if the row cannot be read or written the caller is told to wait, never to send.
SystemConfig `rateLimit.off` true turns every bucket off (a benchmark of the engine; never for live sends).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from pynamodb.exceptions import PynamoDBException

from backend.models.runtime_config import RateLimitTrackerModel
from backend.services.platform import system_config

log = logging.getLogger(__name__)

DEFAULT_PER_SECOND = {"whatsapp": 80.0, "sms": 20.0, "email": 14.0, "voice": 1.0}
FAIL_CLOSED_WAIT = 1.0
OFF_KEY = "rateLimit.off"
_ATTEMPTS = 5


@dataclass(frozen=True)
class BucketConfig:
    per_second: float
    burst: float


def bucket_config(channel: str) -> BucketConfig:
    """`rateLimit.<channel>` in SystemConfig ({"perSecond": n, "burst": n}), else the channel's default."""
    value = system_config.cached(f"rateLimit.{channel}") or {}
    per_second = float(value.get("perSecond") or DEFAULT_PER_SECOND.get(channel, 10.0))
    return BucketConfig(per_second=per_second, burst=float(value.get("burst") or per_second))


def take(channel: str, sender: str, now: float | None = None) -> float:
    """Take one token for `sender` on `channel`: 0.0 if granted, else the seconds to wait before trying again."""
    if system_config.cached(OFF_KEY) is True:
        return 0.0
    config = bucket_config(channel)
    key = f"{channel}#{sender}"
    for _ in range(_ATTEMPTS):
        at = time.time() if now is None else now
        try:
            granted, wait = _try_take(key, config, at)
        except PynamoDBException:
            log.exception("rate limiter unavailable for %s; holding the send", key)
            return FAIL_CLOSED_WAIT
        if granted is not None:
            return wait
    return FAIL_CLOSED_WAIT  # too much contention: behave as if the bucket were empty


def _try_take(key: str, config: BucketConfig, at: float) -> tuple[bool | None, float]:
    """(True, 0) granted; (False, wait) empty; (None, 0) lost a race, try again."""
    try:
        row = RateLimitTrackerModel.get(key, consistent_read=True)
        previous = row.refilledAt
        tokens = min(config.burst, float(row.tokens) + (at - float(row.refilledAt)) * config.per_second)
    except RateLimitTrackerModel.DoesNotExist:
        row = RateLimitTrackerModel(limiterKey=key)
        previous = None
        tokens = config.burst
    if tokens < 1:
        return False, (1 - tokens) / config.per_second
    row.tokens = tokens - 1
    row.refilledAt = at
    row.stamp_expiry()
    condition = (
        RateLimitTrackerModel.limiterKey.does_not_exist()
        if previous is None
        else RateLimitTrackerModel.refilledAt == previous
    )
    try:
        row.save(condition=condition)
    except PynamoDBException as error:
        if getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException":
            return None, 0.0
        raise
    return True, 0.0


@dataclass(frozen=True)
class BucketUsage:
    """A sender's bucket as it stands: its limit, the tokens it holds now, and whether it is empty."""

    per_second: float
    burst: float
    available: float

    @property
    def headroom(self) -> float:
        """The share of the burst still free, 0-1 (1: idle)."""
        return max(0.0, min(1.0, self.available / self.burst)) if self.burst else 0.0


def usage(channel: str, sender: str, now: float | None = None) -> BucketUsage:
    """Read (never take from) a sender's bucket: the tokens it would hold now."""
    config = bucket_config(channel)
    at = time.time() if now is None else now
    try:
        row = RateLimitTrackerModel.get(f"{channel}#{sender}")
    except RateLimitTrackerModel.DoesNotExist:
        return BucketUsage(config.per_second, config.burst, config.burst)
    tokens = min(config.burst, float(row.tokens or 0) + max(0.0, at - float(row.refilledAt or at)) * config.per_second)
    return BucketUsage(config.per_second, config.burst, tokens)
