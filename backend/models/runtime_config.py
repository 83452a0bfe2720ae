"""SystemConfig (admin-editable settings) and RateLimitTracker (token buckets, sign-in guards and idempotency
records of REST sends, 24-hour TTL) tables."""
from __future__ import annotations

from datetime import timedelta

from pynamodb.attributes import BinaryAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from backend.models.base import ExpiringModel, WecareModel


class SystemConfigModel(WecareModel):
    short_name = "SystemConfig"

    class Meta(WecareModel.Meta):
        pass

    configKey = UnicodeAttribute(hash_key=True)
    value = JSONAttribute()
    updatedBy = UnicodeAttribute(null=True)
    updatedAt = UTCDateTimeAttribute()


class RateLimitTrackerModel(ExpiringModel):
    short_name = "RateLimitTracker"
    retention = timedelta(hours=24)

    class Meta(ExpiringModel.Meta):
        pass

    # "<channel>#<sender>", "signin#<account|client>#<who>", "idem#<sha256 of caller and Idempotency-Key>", or
    # "throttled#<channel>#<sender>#<day>" (the sends a bucket held back that day, in `failures`)
    limiterKey = UnicodeAttribute(hash_key=True)
    tokens = NumberAttribute(null=True)  # send buckets
    refilledAt = NumberAttribute(null=True)  # send buckets: epoch seconds with fractions
    failures = NumberAttribute(null=True)  # sign-in guards: failed attempts in a row; throttle rows: sends held back
    lockedUntil = NumberAttribute(null=True)  # sign-in guards: epoch seconds
    fingerprint = UnicodeAttribute(null=True)  # idempotency: sha256 of the route and body the key was first used with
    responseStatus = NumberAttribute(null=True)  # idempotency: the first answer's status (None: still in flight)
    responseBody = BinaryAttribute(null=True, legacy_encoding=False)  # idempotency: its JSON body, zlib-compressed
