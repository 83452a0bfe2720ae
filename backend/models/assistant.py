"""AIInteraction table: AI queries, retrieved passages, suggestions, approvals and feedback."""
from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from backend.models.base import WecareModel


class InteractionByContact(GlobalSecondaryIndex):
    class Meta:
        index_name = "byContact"
        projection = AllProjection()

    contactId = UnicodeAttribute(hash_key=True)
    createdAt = UTCDateTimeAttribute(range_key=True)


class InteractionByDay(GlobalSecondaryIndex):
    """The interaction log, a UTC day at a time, newest first (/ai/interactions)."""

    class Meta:
        index_name = "byDay"
        projection = AllProjection()

    day = UnicodeAttribute(hash_key=True)  # YYYY-MM-DD
    createdAt = UTCDateTimeAttribute(range_key=True)


class AIInteractionModel(WecareModel):
    short_name = "AIInteraction"

    class Meta(WecareModel.Meta):
        pass

    interactionId = UnicodeAttribute(hash_key=True)
    contactId = UnicodeAttribute(null=True)
    userId = UnicodeAttribute()  # who asked ("ai-auto-reply" for an auto-reply)
    question = UnicodeAttribute(attr_name="query")  # not `query`: that would hide Model.query
    passages = JSONAttribute(null=True)  # [{content, source: {documentId, title, location}, score}]
    suggestion = UnicodeAttribute(null=True)  # the answer or suggested reply
    status = UnicodeAttribute(default="suggested")  # answered | declined | suggested | approved | edited | rejected | auto-sent | error
    feedback = UnicodeAttribute(null=True)
    createdAt = UTCDateTimeAttribute()
    day = UnicodeAttribute(null=True)  # createdAt's UTC day (byDay)
    kind = UnicodeAttribute(null=True)  # query | suggest | auto-reply
    messageId = UnicodeAttribute(null=True)  # the customer's message a suggestion answers
    answered = BooleanAttribute(null=True)  # False: the knowledge base had no answer (declined)
    confidence = NumberAttribute(null=True)
    model = UnicodeAttribute(null=True)  # "local-extractive" or the Bedrock model id
    latencyMs = NumberAttribute(null=True)
    error = UnicodeAttribute(null=True)  # why it failed, or (auto-reply) why it was not sent
    reason = UnicodeAttribute(null=True)  # why the knowledge base had no answer (declined)
    # The outcome, recorded when the operator acts on the suggestion.
    outcomeBy = UnicodeAttribute(null=True)
    outcomeAt = UTCDateTimeAttribute(null=True)
    sentMessageId = UnicodeAttribute(null=True)
    sentText = UnicodeAttribute(null=True)  # what went out, when it was edited
    rating = UnicodeAttribute(null=True)  # helpful | not-helpful

    by_contact = InteractionByContact()
    by_day = InteractionByDay()
