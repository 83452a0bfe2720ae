"""AuditLog table: who did what to which resource, and when (180-day TTL)."""
from __future__ import annotations

from datetime import timedelta

from pynamodb.attributes import JSONAttribute, UnicodeAttribute, UnicodeSetAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from backend.models.base import ExpiringModel


class AuditByActor(GlobalSecondaryIndex):
    class Meta:
        index_name = "byActor"
        projection = AllProjection()

    actorId = UnicodeAttribute(hash_key=True)
    sortKey = UnicodeAttribute(range_key=True)


class AuditByDay(GlobalSecondaryIndex):
    class Meta:
        index_name = "byDay"
        projection = AllProjection()

    day = UnicodeAttribute(hash_key=True)
    sortKey = UnicodeAttribute(range_key=True)


class AuditLogModel(ExpiringModel):
    short_name = "AuditLog"
    retention = timedelta(days=180)

    class Meta(ExpiringModel.Meta):
        pass

    resourceKey = UnicodeAttribute(hash_key=True)  # "<resourceType>#<resourceId>"
    sortKey = UnicodeAttribute(range_key=True)  # "<ISO time>#<auditId>": newest-last within a resource
    auditId = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    day = UnicodeAttribute()  # "YYYY-MM-DD" for the admin audit log by date
    actorId = UnicodeAttribute()
    actorEmail = UnicodeAttribute(null=True)
    actorRole = UnicodeAttribute(null=True)
    action = UnicodeAttribute()
    resourceType = UnicodeAttribute()
    resourceId = UnicodeAttribute()
    changedFields = UnicodeSetAttribute(null=True)
    details = JSONAttribute(null=True)

    by_actor = AuditByActor()
    by_day = AuditByDay()
