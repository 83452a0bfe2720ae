"""BulkJob and BulkRecipient tables: campaigns and one row per recipient with its own status."""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from backend.models.base import WecareModel


class BulkJobByStatus(GlobalSecondaryIndex):
    class Meta:
        index_name = "byStatus"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    createdAt = UTCDateTimeAttribute(range_key=True)


class BulkJobModel(WecareModel):
    short_name = "BulkJob"

    class Meta(WecareModel.Meta):
        pass

    jobId = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    channel = UnicodeAttribute()
    status = UnicodeAttribute()
    scheduledAt = UTCDateTimeAttribute(null=True)
    totalRecipients = NumberAttribute(default=0)
    counts = JSONAttribute(null=True)
    createdBy = UnicodeAttribute()
    createdAt = UTCDateTimeAttribute()
    updatedAt = UTCDateTimeAttribute()

    by_status = BulkJobByStatus()


class RecipientByStatus(GlobalSecondaryIndex):
    class Meta:
        index_name = "byJobStatus"
        projection = AllProjection()

    jobStatus = UnicodeAttribute(hash_key=True)  # "<jobId>#<status>"
    contactId = UnicodeAttribute(range_key=True)


class BulkRecipientModel(WecareModel):
    short_name = "BulkRecipient"

    class Meta(WecareModel.Meta):
        pass

    jobId = UnicodeAttribute(hash_key=True)
    contactId = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()
    jobStatus = UnicodeAttribute()
    messageId = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    updatedAt = UTCDateTimeAttribute()

    by_job_status = RecipientByStatus()
