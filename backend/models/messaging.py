"""Message, MediaFile and DLQMessage tables: the traffic of every channel and what failed to go out."""
from __future__ import annotations

from datetime import timedelta

from pynamodb.attributes import (
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from backend.models.base import ExpiringModel, WecareModel


class StatusChange(MapAttribute):
    status = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    detail = UnicodeAttribute(null=True)


class MessageByContact(GlobalSecondaryIndex):
    class Meta:
        index_name = "byContact"
        projection = AllProjection()

    contactId = UnicodeAttribute(hash_key=True)
    createdAt = UTCDateTimeAttribute(range_key=True)


class MessageByProviderId(GlobalSecondaryIndex):
    class Meta:
        index_name = "byProviderId"
        projection = KeysOnlyProjection()

    providerMessageId = UnicodeAttribute(hash_key=True)


class MessageModel(ExpiringModel):
    short_name = "Message"
    retention = timedelta(days=30)

    class Meta(ExpiringModel.Meta):
        pass

    messageId = UnicodeAttribute(hash_key=True)
    contactId = UnicodeAttribute(null=True)
    channel = UnicodeAttribute()  # whatsapp | sms | email | voice
    direction = UnicodeAttribute()  # inbound | outbound
    status = UnicodeAttribute()
    body = UnicodeAttribute(null=True)
    payload = JSONAttribute(null=True)
    providerMessageId = UnicodeAttribute(null=True)
    statusHistory = ListAttribute(of=StatusChange, default=list)
    createdAt = UTCDateTimeAttribute()
    updatedAt = UTCDateTimeAttribute()

    by_contact = MessageByContact()
    by_provider_id = MessageByProviderId()


class MediaByContact(GlobalSecondaryIndex):
    class Meta:
        index_name = "byContact"
        projection = AllProjection()

    contactId = UnicodeAttribute(hash_key=True)
    createdAt = UTCDateTimeAttribute(range_key=True)


class MediaFileModel(WecareModel):
    short_name = "MediaFile"

    class Meta(WecareModel.Meta):
        pass

    fileId = UnicodeAttribute(hash_key=True)
    contactId = UnicodeAttribute(null=True)
    messageId = UnicodeAttribute(null=True)
    mimeType = UnicodeAttribute()
    sizeBytes = NumberAttribute()
    storageKey = UnicodeAttribute()
    status = UnicodeAttribute(default="stored")
    createdAt = UTCDateTimeAttribute()

    by_contact = MediaByContact()


class DLQByQueue(GlobalSecondaryIndex):
    class Meta:
        index_name = "byQueue"
        projection = AllProjection()

    queue = UnicodeAttribute(hash_key=True)
    failedAt = UTCDateTimeAttribute(range_key=True)


class DLQMessageModel(ExpiringModel):
    short_name = "DLQMessage"
    retention = timedelta(days=7)

    class Meta(ExpiringModel.Meta):
        pass

    dlqId = UnicodeAttribute(hash_key=True)
    queue = UnicodeAttribute()
    messageId = UnicodeAttribute(null=True)
    payload = JSONAttribute()
    error = UnicodeAttribute()
    errorCode = UnicodeAttribute(null=True)
    replayCount = NumberAttribute(default=0)
    failedAt = UTCDateTimeAttribute()

    by_queue = DLQByQueue()
