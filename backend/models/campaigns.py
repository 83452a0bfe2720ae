"""BulkJob and BulkRecipient tables: campaigns and one row per recipient with its own status.

A job's audience given as contact ids is kept in `BulkAudienceChunk` rows of the BulkJob table (an item holds
at most 400 KB), read by the expansion in the background. A recipient's row is written once by the expansion
(PENDING, or SKIPPED with the reason) and then follows its message (services/messaging/campaign_recipients.py).
The job's counts are what its recipient rows say: counted from the `byJobStatus` index (keys only, so a count
reads little), kept on the job only when it ends.
"""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

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
    status = UnicodeAttribute()  # expanding | scheduled | sending | paused | finished | cancelled
    scheduledAt = UTCDateTimeAttribute(null=True)
    totalRecipients = NumberAttribute(default=0)
    counts = JSONAttribute(null=True)  # per recipient status, kept when the job ends
    message = JSONAttribute(null=True)  # the channel's send request without its recipient
    audience = JSONAttribute(null=True)  # {"contactIds": n, "chunks": n} or {"tags": [...]}
    skipped = JSONAttribute(null=True)  # {reason code: count} of the SKIPPED recipients
    expandCursor = JSONAttribute(null=True)  # where the expansion goes on after a restart
    dispatchCursor = UnicodeAttribute(null=True)  # the last contactId handed to the outbox (this attempt round)
    pausedFrom = UnicodeAttribute(null=True)  # the status a pause interrupted (resume goes back to it)
    leaseOwner = UnicodeAttribute(null=True)  # the runner that dispatches it now
    leaseUntil = UTCDateTimeAttribute(null=True)
    startedAt = UTCDateTimeAttribute(null=True)
    finishedAt = UTCDateTimeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    createdBy = UnicodeAttribute()
    createdAt = UTCDateTimeAttribute()
    updatedAt = UTCDateTimeAttribute()

    by_status = BulkJobByStatus()


class BulkAudienceChunk(WecareModel):
    """Part of a job's audience given as contact ids (same table as the job; not in `byStatus`)."""

    short_name = "BulkJob"

    class Meta(WecareModel.Meta):
        pass

    jobId = UnicodeAttribute(hash_key=True)  # "<jobId>#audience#<n>"
    contactIds = ListAttribute(of=UnicodeAttribute)

    @staticmethod
    def key(job_id: str, number: int) -> str:
        return f"{job_id}#audience#{number}"


class RecipientByStatus(GlobalSecondaryIndex):
    class Meta:
        index_name = "byJobStatus"
        projection = KeysOnlyProjection()  # counted and paged by key; the rows are read by key

    jobStatus = UnicodeAttribute(hash_key=True)  # "<jobId>#<status>"
    contactId = UnicodeAttribute(range_key=True)


class BulkRecipientModel(WecareModel):
    short_name = "BulkRecipient"

    class Meta(WecareModel.Meta):
        pass

    jobId = UnicodeAttribute(hash_key=True)
    contactId = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()  # PENDING | SENT | DELIVERED | READ | FAILED | SKIPPED | CANCELLED
    jobStatus = UnicodeAttribute()
    name = UnicodeAttribute(null=True)  # the contact's name and address when the job was expanded
    address = UnicodeAttribute(null=True)
    attempt = NumberAttribute(default=0)  # retry_failed rounds: each sends a message of its own
    messageId = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)  # SKIPPED/FAILED: the error code (OPTED_OUT, CONSENT_REQUIRED, ...)
    error = UnicodeAttribute(null=True)  # the refusal or failure in words
    updatedAt = UTCDateTimeAttribute()

    by_job_status = RecipientByStatus()

    @staticmethod
    def job_status(job_id: str, status: str) -> str:
        return f"{job_id}#{status}"
