"""VoiceCall table: text-to-speech calls and their outcomes (90-day TTL)."""
from __future__ import annotations

from datetime import timedelta

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from backend.models.base import ExpiringModel
from backend.models.messaging import StatusChange


class VoiceCallByContact(GlobalSecondaryIndex):
    class Meta:
        index_name = "byContact"
        projection = AllProjection()

    contactId = UnicodeAttribute(hash_key=True)
    startedAt = UTCDateTimeAttribute(range_key=True)


class VoiceCallModel(ExpiringModel):
    short_name = "VoiceCall"
    retention = timedelta(days=90)

    class Meta(ExpiringModel.Meta):
        pass

    callId = UnicodeAttribute(hash_key=True)
    contactId = UnicodeAttribute(null=True)
    toNumber = UnicodeAttribute()
    status = UnicodeAttribute()
    voiceId = UnicodeAttribute(null=True)
    durationSeconds = NumberAttribute(null=True)
    providerMessageId = UnicodeAttribute(null=True)
    events = ListAttribute(of=StatusChange, default=list)
    startedAt = UTCDateTimeAttribute()

    by_contact = VoiceCallByContact()
