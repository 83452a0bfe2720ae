"""AIInteraction table: AI queries, retrieved passages, suggestions, approvals and feedback."""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from backend.models.base import WecareModel


class InteractionByContact(GlobalSecondaryIndex):
    class Meta:
        index_name = "byContact"
        projection = AllProjection()

    contactId = UnicodeAttribute(hash_key=True)
    createdAt = UTCDateTimeAttribute(range_key=True)


class AIInteractionModel(WecareModel):
    short_name = "AIInteraction"

    class Meta(WecareModel.Meta):
        pass

    interactionId = UnicodeAttribute(hash_key=True)
    contactId = UnicodeAttribute(null=True)
    userId = UnicodeAttribute()
    query = UnicodeAttribute()
    passages = JSONAttribute(null=True)
    suggestion = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="suggested")
    feedback = UnicodeAttribute(null=True)
    createdAt = UTCDateTimeAttribute()

    by_contact = InteractionByContact()
