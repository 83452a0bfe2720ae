"""Per-sender token buckets in the RateLimitTracker table, shared by every process; they fail closed.

A bucket refills continuously at `per_second` up to `burst`. Taking a token is an optimistic conditional
write on the bucket row; if the row cannot be read or written the caller is told to wait, never to send.

The limit is SystemConfig `rateLimit.<channel>` ({"perSecond": n, "burst": n}), or, for one sender,
`rateLimit.<channel>.<sender>` (the same shape), which overrides the channel's. Both are read through the
short config cache (a few seconds), and the process that changes one forgets its cached copy, so a new limit
holds from the next send: the bucket keeps its tokens, refills at the new rate and never holds more than the
new burst. `parse_limit` is the one rule for a limit's value (the settings catalog checks an edit with it).

A take that is refused (the bucket is empty, or busy, or unreadable) adds one to the sender's count of the day
(`throttled#<channel>#<sender>#<YYYY-MM-DD>`, its `failures`: attempts that got no token), one UpdateItem on a
send that waits anyway; a granted take writes nothing more than its bucket.

SystemConfig `rateLimit.off` true turns every bucket off (a benchmark of the engine; never for live sends).
"""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any

from pydantic import BeforeValidator, Field
from pynamodb.exceptions import PynamoDBException

from backend.errors import ValidationError
from backend.models.runtime_config import RateLimitTrackerModel
from backend.services.platform import system_config
from backend.services.platform.api_model import ApiModel
from backend.services.platform.validation import parse_input

log = logging.getLogger(__name__)

DEFAULT_PER_SECOND = {"whatsapp": 80.0, "sms": 20.0, "email": 14.0, "voice": 1.0}
FALLBACK_PER_SECOND = 10.0  # a channel without a default of its own
LIMIT_MOST = 10_000.0  # per second, and burst: far above any provider's account limit
FAIL_CLOSED_WAIT = 1.0
OFF_KEY = "rateLimit.off"
KEY_PREFIX = "rateLimit."
SENDER_MOST = 200  # characters of a sender identity in a setting's key
_ATTEMPTS = 5


@dataclass(frozen=True)
class BucketConfig:
    per_second: float
    burst: float

    def value(self) -> dict[str, float]:
        """As SystemConfig stores it."""
        return {"perSecond": self.per_second, "burst": self.burst}


def channel_key(channel: str) -> str:
    return f"{KEY_PREFIX}{channel}"


def sender_key(channel: str, sender: str) -> str:
    """The SystemConfig key of one sender's own limit (channel names hold no dot, so the rest is the sender)."""
    return f"{KEY_PREFIX}{channel}.{sender}"


def default_config(channel: str) -> BucketConfig:
    per_second = DEFAULT_PER_SECOND.get(channel, FALLBACK_PER_SECOND)
    return BucketConfig(per_second=per_second, burst=max(1.0, per_second))


def _not_a_flag(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a number, not true or false")
    return value


_Amount = Annotated[float, BeforeValidator(_not_a_flag), Field(allow_inf_nan=False)]


class LimitValue(ApiModel):
    """A limit as an Admin gives it: `burst` left out is one second's worth (at least one token)."""

    per_second: Annotated[_Amount, Field(gt=0, le=LIMIT_MOST)]
    burst: Annotated[_Amount, Field(ge=1, le=LIMIT_MOST)] | None = None


def parse_limit(value: object, field: str = "rateLimit") -> BucketConfig:
    """The one rule for a limit's value: ValidationError names `<field>.perSecond` or `<field>.burst`."""
    try:
        limit = parse_input(LimitValue, value)
    except ValidationError as error:
        if not isinstance(value, dict):
            raise ValidationError(f'{field}: an object {{"perSecond": n, "burst": n}}', field=field) from None
        details = [{"field": f"{field}.{d['field']}", "reason": d["reason"].removeprefix("Value error, ")} for d in error.details]
        first = details[0]
        raise ValidationError(f"{first['field']}: {first['reason']}", field=first["field"], details=details) from None
    burst = limit.burst if limit.burst is not None else max(1.0, limit.per_second)
    return BucketConfig(per_second=limit.per_second, burst=burst)


def _stored(key: str) -> BucketConfig | None:
    """The limit stored under `key` (cached), or None when there is none or it does not parse (logged)."""
    value = system_config.cached(key)
    if not value:
        return None
    try:
        return parse_limit(value, key)
    except ValidationError as error:
        log.warning("system config %s ignored: %s", key, error.message)
        return None


def bucket_config(channel: str, sender: str | None = None) -> BucketConfig:
    """The limit in force: the sender's own (`rateLimit.<channel>.<sender>`) when it has one, else the
    channel's (`rateLimit.<channel>`), else the channel's default."""
    if sender is not None and (own := _stored(sender_key(channel, sender))) is not None:
        return own
    return _stored(channel_key(channel)) or default_config(channel)


def take(channel: str, sender: str, now: float | None = None) -> float:
    """Take one token for `sender` on `channel`: 0.0 if granted, else the seconds to wait before trying again."""
    if system_config.cached(OFF_KEY) is True:
        return 0.0
    config = bucket_config(channel, sender)
    key = f"{channel}#{sender}"
    for _ in range(_ATTEMPTS):
        at = time.time() if now is None else now
        try:
            granted, wait = _try_take(key, config, at)
        except PynamoDBException:
            log.exception("rate limiter unavailable for %s; holding the send", key)
            _count_throttled(channel, sender, at)
            return FAIL_CLOSED_WAIT
        if granted is not None:
            if wait > 0:
                _count_throttled(channel, sender, at)
            return wait
    _count_throttled(channel, sender, time.time() if now is None else now)
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


# ---------------------------------------------------------------- throttled counts (written only when a take is refused)


def day_of(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%d")


def throttle_key(channel: str, sender: str, day: str) -> str:
    return f"throttled#{channel}#{sender}#{day}"


def _count_throttled(channel: str, sender: str, at: float) -> None:
    """One more refused take for the sender today (ADD, no read). A failure to count never changes the answer."""
    row = RateLimitTrackerModel(limiterKey=throttle_key(channel, sender, day_of(at)))
    row.stamp_expiry()
    try:
        row.update_only(actions=[RateLimitTrackerModel.failures.add(1), RateLimitTrackerModel.expiresAt.set(row.expiresAt)])
    except PynamoDBException:
        log.warning("could not count a throttled send for %s#%s", channel, sender, exc_info=True)


# ---------------------------------------------------------------- usage (read, never take)


@dataclass(frozen=True)
class BucketUsage:
    """A sender's bucket as it stands: its limit, the tokens it holds now, and whether it is empty."""

    per_second: float
    burst: float
    available: float
    throttled_today: int = 0

    @property
    def headroom(self) -> float:
        """The share of the burst still free, 0-1 (1: idle)."""
        return max(0.0, min(1.0, self.available / self.burst)) if self.burst else 0.0


def _available(config: BucketConfig, row: RateLimitTrackerModel | None, at: float) -> float:
    if row is None or row.tokens is None or not row.is_live():
        return config.burst
    tokens = float(row.tokens) + max(0.0, at - float(row.refilledAt or at)) * config.per_second
    return max(0.0, min(config.burst, tokens))


def usage(channel: str, sender: str, now: float | None = None) -> BucketUsage:
    """Read (never take from) a sender's bucket: the tokens it would hold now under the limit in force."""
    config = bucket_config(channel, sender)
    at = time.time() if now is None else now
    try:
        row = RateLimitTrackerModel.get(f"{channel}#{sender}")
    except RateLimitTrackerModel.DoesNotExist:
        row = None
    return BucketUsage(config.per_second, config.burst, _available(config, row, at))


def usages(pairs: Iterable[tuple[str, str]], now: float | None = None) -> dict[tuple[str, str], BucketUsage]:
    """`usage` for many senders at once, with today's throttled count each: one BatchGetItem of their buckets
    and counters (the limits come from the config cache)."""
    at = time.time() if now is None else now
    pairs = list(dict.fromkeys(pairs))
    day = day_of(at)
    keys = [key for channel, sender in pairs for key in (f"{channel}#{sender}", throttle_key(channel, sender, day))]
    rows = {row.limiterKey: row for row in RateLimitTrackerModel.batch_get(keys)} if keys else {}
    found = {}
    for channel, sender in pairs:
        config = bucket_config(channel, sender)
        counter = rows.get(throttle_key(channel, sender, day))
        throttled = int(counter.failures or 0) if counter is not None and counter.is_live() else 0
        found[(channel, sender)] = BucketUsage(config.per_second, config.burst,
                                               _available(config, rows.get(f"{channel}#{sender}"), at), throttled)
    return found


def describe(config: BucketConfig) -> str:
    """'80/s, bursts of 80' (what a page or an audit line says)."""
    return f"{_number(config.per_second)}/s, bursts of {_number(config.burst)}"


def _number(value: float) -> str:
    return str(int(value)) if math.isfinite(value) and value == int(value) else f"{value:g}"
