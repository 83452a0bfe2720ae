"""AI auto-reply: off by default; when an Admin turns it on, a customer's message may be answered by the assistant
on its own, within strict rules, each checked here and nowhere else:

- the switch (`ai.autoReply.enabled`) is read fresh for every message: turning it off stops the next one;
- only a customer's text message less than 10 minutes old, only on its own channel, only where a free reply may go out now (the reply
  window and the customer's consent: `channel_statuses`, the rule the send services run);
- only an answer from the knowledge base at or above `ai.confidenceThreshold`;
- at most `ai.autoReply.perContactPerDay` auto-replies to one contact in 24 hours;
- once per message: the AIInteraction row `auto-<messageId>` is claimed before anything is drafted, so a message
  seen twice (a re-read stream, two app processes) is answered at most once.

The reply goes through the normal send path (`channels.reply.send_reply`, its rules, outbox and audit) as
AI_AUTO_REPLY_USER, so the thread marks it as AI (`Message.sent_by_ai`); an `ai.auto_reply` audit row names the
message, the interaction and the confidence. Whatever happens, the interaction row says it (auto-sent, or
auto-skipped with the reason), and a message the assistant does not answer waits for a person as before.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from pynamodb.exceptions import PutError

from backend.errors import DomainError
from backend.models.assistant import AIInteractionModel
from backend.models.base import utcnow
from backend.models.contact import ContactModel
from backend.models.messaging import MessageModel
from backend.services.ai.answers import answer_and_record, first_name_of, reply_text
from backend.services.channels.reply import send_reply
from backend.services.contacts.views import channel_statuses
from backend.services.messaging.schemas import AI_AUTO_REPLY_USER
from backend.services.platform.access import Actor, Role
from backend.services.platform.audit import audit_row
from backend.services.platform.settings_catalog import (
    AI_AUTO_REPLY_KEY, AI_CONFIDENCE_KEY, AI_PER_CONTACT_KEY, in_force,
)

log = logging.getLogger(__name__)

ACTOR = Actor(user_id=AI_AUTO_REPLY_USER, role=Role.OPERATOR)  # sends as an Operator would, with every rule
KIND = "auto-reply"
FRESH_FOR = timedelta(minutes=10)  # an older message may have been answered by a person meanwhile: left to them
SENT, SKIPPED = "auto-sent", "auto-skipped"


@dataclass(frozen=True)
class Outcome:
    status: str  # off | not-eligible | duplicate | auto-sent | auto-skipped
    reason: str = ""
    interaction_id: str | None = None
    sent_message_id: str | None = None


def interaction_id_for(message_id: str) -> str:
    return f"auto-{message_id}"


def _sent_today(contact_id: str) -> int:
    since = utcnow() - timedelta(hours=24)
    rows = AIInteractionModel.by_contact.query(contact_id, AIInteractionModel.createdAt >= since,
                                               filter_condition=AIInteractionModel.status == SENT)
    return sum(1 for _ in rows)


def _skip(interaction_id: str, reason: str) -> Outcome:
    AIInteractionModel(interactionId=interaction_id).update(actions=[
        AIInteractionModel.status.set(SKIPPED), AIInteractionModel.error.set(reason)])
    return Outcome(SKIPPED, reason, interaction_id)


def consider(message_id: str) -> Outcome:
    """Answer the customer's message on its own if every rule allows; never raises for a rule (the outcome says)."""
    if in_force(AI_AUTO_REPLY_KEY, fresh=True) is not True:
        return Outcome("off", "AI auto-reply is off.")
    try:
        message = MessageModel.get(message_id, consistent_read=True)
    except MessageModel.DoesNotExist:
        return Outcome("not-eligible", "The message is gone.")
    text = (message.body or "").strip()
    if message.direction != "inbound" or message.kind != "text" or not text or not message.contactId:
        return Outcome("not-eligible", "Only a customer's text message is answered.")
    now = utcnow()
    if now - message.createdAt > FRESH_FOR:
        return Outcome("not-eligible", "The message is older than 10 minutes; it is left for a person.")
    interaction_id = interaction_id_for(message_id)
    claim = AIInteractionModel(interactionId=interaction_id, userId=AI_AUTO_REPLY_USER, question=text[:1000], kind=KIND,
                               status="auto-pending", createdAt=now, day=f"{now:%Y-%m-%d}", contactId=message.contactId,
                               messageId=message_id)
    try:
        claim.save(condition=AIInteractionModel.interactionId.does_not_exist())
    except PutError:
        return Outcome("duplicate", "This message was considered already.", interaction_id)
    try:
        contact = ContactModel.get(message.contactId, consistent_read=True)
    except ContactModel.DoesNotExist:
        return _skip(interaction_id, "The contact is gone.")
    if contact.lastDirection == "outbound" and contact.lastActivityAt and contact.lastActivityAt > message.createdAt:
        return _skip(interaction_id, "A reply went out after the message already.")
    status = channel_statuses(contact, now).get(message.channel)
    if status is None or not status.can_reply:
        return _skip(interaction_id, f"A reply cannot go out on {message.channel} now: "
                                     f"{status.reason if status else 'unknown channel'}.")
    limit = in_force(AI_PER_CONTACT_KEY)
    if _sent_today(message.contactId) >= limit:
        return _skip(interaction_id, f"The contact had {limit} auto-replies in the last 24 hours (the most a day).")
    try:
        row, _hits, drafted = answer_and_record(ACTOR, KIND, text[:1000], message.contactId, message_id,
                                                interaction_id=interaction_id)
    except DomainError as error:
        return _skip(interaction_id, f"The assistant could not answer: {error.message}")
    threshold = in_force(AI_CONFIDENCE_KEY)
    if not drafted.answered:
        return _skip(interaction_id, drafted.reason or "The knowledge base has no answer.")
    if drafted.confidence < threshold:
        return _skip(interaction_id, f"Confidence {drafted.confidence:.2f} is below the threshold {threshold:g}.")
    if in_force(AI_AUTO_REPLY_KEY, fresh=True) is not True:  # turned off while it drafted
        return _skip(interaction_id, "AI auto-reply was turned off.")
    reply = reply_text(drafted.text, first_name_of(message.contactId))
    try:
        sent = send_reply(ACTOR, message.contactId, {"channel": message.channel, "text": reply}, via="ai")
    except DomainError as error:
        return _skip(interaction_id, f"The reply was not sent: {error.message}")
    row.update(actions=[AIInteractionModel.status.set(SENT), AIInteractionModel.sentMessageId.set(sent.message_id),
                        AIInteractionModel.sentText.set(reply), AIInteractionModel.suggestion.set(reply),
                        AIInteractionModel.outcomeAt.set(utcnow())])
    audit_row(ACTOR, "ai.auto_reply", "message", sent.message_id, [],
              {"answers": message_id, "interactionId": interaction_id, "confidence": drafted.confidence,
               "channel": message.channel}).save()
    log.info("AI auto-reply sent for message %s (confidence %.2f)", message_id, drafted.confidence)
    return Outcome(SENT, "", interaction_id, sent.message_id)
