"""VoiceCall table: text-to-speech calls and their outcomes (90-day TTL).

A call is placed with a Message row (channel "voice") that the outbox sends; `callId` is derived from that
message's id, so a provider event carrying our message id finds its call without a read.
"""
from __future__ import annotations

from datetime import timedelta

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from backend.models.base import ExpiringModel
from backend.models.messaging import StatusChange


class VoiceCallByContact(GlobalSecondaryIndex):
    class Meta:
        index_name = "byContact"
        projection = AllProjection()

    contactId = UnicodeAttribute(hash_key=True)
    startedAt = UTCDateTimeAttribute(range_key=True)


class VoiceCallByDay(GlobalSecondaryIndex):
    """The call log: every call placed on a day, newest first."""

    class Meta:
        index_name = "byDay"
        projection = KeysOnlyProjection()  # rows are fetched by key: call events never rewrite it

    day = UnicodeAttribute(hash_key=True)  # YYYY-MM-DD (UTC) of startedAt
    startedAt = UTCDateTimeAttribute(range_key=True)


class VoiceCallModel(ExpiringModel):
    short_name = "VoiceCall"
    retention = timedelta(days=90)

    class Meta(ExpiringModel.Meta):
        pass

    callId = UnicodeAttribute(hash_key=True)
    messageId = UnicodeAttribute(null=True)  # the Message row the outbox sends
    contactId = UnicodeAttribute(null=True)
    toNumber = UnicodeAttribute()
    status = UnicodeAttribute()  # queued | initiated | ringing | answered | completed | busy | no-answer | failed
    text = UnicodeAttribute(null=True)  # what was asked to be said (plain text or SSML)
    textType = UnicodeAttribute(null=True)  # TEXT | SSML
    voiceId = UnicodeAttribute(null=True)
    durationSeconds = NumberAttribute(null=True)
    providerMessageId = UnicodeAttribute(null=True)
    errorCode = UnicodeAttribute(null=True)
    errorMessage = UnicodeAttribute(null=True)
    events = ListAttribute(of=StatusChange, default=list)
    createdBy = UnicodeAttribute(null=True)
    startedAt = UTCDateTimeAttribute()  # when the call was placed
    answeredAt = UTCDateTimeAttribute(null=True)
    endedAt = UTCDateTimeAttribute(null=True)
    updatedAt = UTCDateTimeAttribute(null=True)
    day = UnicodeAttribute(null=True)

    by_contact = VoiceCallByContact()
    by_day = VoiceCallByDay()
