"""SystemConfig (admin-editable settings) and RateLimitTracker (token buckets, 24-hour TTL) tables."""
from __future__ import annotations

from datetime import timedelta

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

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

    limiterKey = UnicodeAttribute(hash_key=True)  # "<channel>#<sender>", or "signin#<account|client>#<who>"
    tokens = NumberAttribute(null=True)  # send buckets
    refilledAt = NumberAttribute(null=True)  # send buckets: epoch seconds with fractions
    failures = NumberAttribute(null=True)  # sign-in guards: failed attempts in a row
    lockedUntil = NumberAttribute(null=True)  # sign-in guards: epoch seconds
