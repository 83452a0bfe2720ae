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

`activity` is a day of it for /ai/settings: how many were sent and skipped, the commonest reasons for skipping,
and the latest auto-replies (the byDay index, one UTC day, at most ACTIVITY_MAX rows read).
"""
from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pynamodb.exceptions import PutError

from backend.errors import DomainError, ValidationError
from backend.models.assistant import AIInteractionModel
from backend.models.base import utcnow
from backend.models.contact import ContactModel
from backend.models.messaging import MessageModel
from backend.services.ai.answers import MAX_QUERY_CHARS, answer_and_record, first_name, reply_text
from backend.services.channels.reply import send_reply
from backend.services.contacts.names import display_name
from backend.services.contacts.views import channel_statuses
from backend.services.messaging.schemas import AI_AUTO_REPLY_USER
from backend.services.platform.access import Actor, Operation, Role, require
from backend.services.platform.api_model import ApiView
from backend.services.platform.audit import audit_row
from backend.services.storage.unit_of_work import UnitOfWork
from backend.services.platform.settings_catalog import (
    AI_AUTO_REPLY_KEY, AI_CONFIDENCE_KEY, AI_PER_CONTACT_KEY, in_force,
)
from backend.services.storage.batch_reads import rows_by_key

log = logging.getLogger(__name__)

ACTOR = Actor(user_id=AI_AUTO_REPLY_USER, role=Role.OPERATOR)  # sends as an Operator would, with every rule
KIND = "auto-reply"
FRESH_FOR = timedelta(minutes=10)  # an older message may have been answered by a person meanwhile: left to them
SENT, SKIPPED, SENDING = "auto-sent", "auto-skipped", "auto-sending"


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
                                               filter_condition=AIInteractionModel.status.is_in(SENT, SENDING))
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
    if len(text) > MAX_QUERY_CHARS:
        return Outcome("not-eligible", "The message is too long to answer on its own; it is left for a person.")
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
    reply = reply_text(drafted.text, first_name(contact.name))  # the contact read above: no second read
    row.update(actions=[AIInteractionModel.status.set(SENDING)])  # counted against the contact's day from now
    try:
        sent = send_reply(ACTOR, message.contactId, {"channel": message.channel, "text": reply}, via="ai")
    except DomainError as error:
        return _skip(interaction_id, f"The reply was not sent: {error.message}")
    work = UnitOfWork()  # what went out, and its audit row, together
    work.update(row, [AIInteractionModel.status.set(SENT), AIInteractionModel.sentMessageId.set(sent.message_id),
                      AIInteractionModel.sentText.set(reply), AIInteractionModel.suggestion.set(reply),
                      AIInteractionModel.outcomeAt.set(utcnow())])
    work.save(audit_row(ACTOR, "ai.auto_reply", "message", sent.message_id, [],
                        {"answers": message_id, "interactionId": interaction_id, "confidence": drafted.confidence,
                         "channel": message.channel}))
    work.commit()
    log.info("AI auto-reply sent for message %s (confidence %.2f)", message_id, drafted.confidence)
    return Outcome(SENT, "", interaction_id, sent.message_id)


# ---------------------------------------------------------------- a day of it (/ai/settings)

ACTIVITY_MAX = 2000  # auto-reply rows one request reads (newest first); past it the counts say `truncated`
LATEST = 10
TOP_REASONS = 5
# Reasons that carry a number or a word of the question, named as one group each (any other: its first clause).
_REASON_GROUPS = (
    (re.compile(r"^Confidence \S+ is below the threshold"), "Confidence below the threshold"),
    (re.compile(r"^The contact had \d+ auto-replies"), "The contact had the most auto-replies a day"),
    (re.compile(r"^The closest passage"), "No passage covers enough of the question"),
    (re.compile(r"^No passage speaks of"), "No passage speaks of what the question turns on"),
)
_CLAUSE_END = re.compile(r": | \(|; |\.(?:\s|$)")


class SkipReason(ApiView):
    reason: str  # the group: the reason's first clause
    count: int
    example: str  # the newest full reason of the group


class AutoReplyItem(ApiView):
    interaction_id: str
    created_at: datetime
    contact_id: str | None = None
    contact_name: str = ""
    question: str
    status: str  # auto-sent | auto-skipped | auto-pending (being considered)
    reason: str = ""  # why it was skipped
    confidence: float | None = None
    sent_message_id: str | None = None


class AutoReplyActivity(ApiView):
    day: date
    enabled: bool  # the switch, read now
    sent: int
    skipped: int
    pending: int  # being considered as it was read
    reasons: list[SkipReason]  # the commonest first, at most TOP_REASONS
    latest: list[AutoReplyItem]  # newest first, at most LATEST
    truncated: bool  # more than ACTIVITY_MAX that day: the counts are of the newest ACTIVITY_MAX


def reason_group(reason: str | None) -> str:
    """What a skip reason is grouped by: its first clause (up to ':', '(', ';' or the sentence's end); the
    reasons that carry a number or a word of the question have a name of their own."""
    text = (reason or "").strip()
    if not text:
        return "No reason recorded"
    for pattern, name in _REASON_GROUPS:
        if pattern.search(text):
            return name
    return _CLAUSE_END.split(text, maxsplit=1)[0].strip() or text


def _day_of(day: date | str | None) -> date:
    if day is None:
        return utcnow().date()
    if isinstance(day, datetime):
        return day.date()
    if isinstance(day, date):
        return day
    if isinstance(day, str):
        try:
            return date.fromisoformat(day.strip())
        except ValueError:
            pass
    raise ValidationError("day: a date, YYYY-MM-DD", field="day")


def activity(actor: Actor, *, day: date | str | None = None) -> AutoReplyActivity:
    """The auto-replies of a UTC day (default today): how many went out and how many were skipped, the commonest
    reasons for skipping, and the latest ones with their contact (one Query on byDay, one BatchGetItem)."""
    require(actor, Operation.AI_ADMIN)
    day = _day_of(day)
    rows = list(AIInteractionModel.by_day.query(f"{day:%Y-%m-%d}", scan_index_forward=False,
                                                filter_condition=AIInteractionModel.kind == KIND,
                                                limit=ACTIVITY_MAX + 1))
    truncated = len(rows) > ACTIVITY_MAX
    rows = rows[:ACTIVITY_MAX]
    skipped = [row for row in rows if row.status == SKIPPED]
    groups = Counter(reason_group(row.error) for row in skipped)
    examples: dict[str, str] = {}
    for row in skipped:  # newest first: the first of a group is its newest
        examples.setdefault(reason_group(row.error), row.error or "")
    latest = rows[:LATEST]
    contact_ids = [row.contactId for row in latest if row.contactId]
    names = {cid: display_name(row) for cid, row in zip(contact_ids, rows_by_key(ContactModel, contact_ids))}
    return AutoReplyActivity(
        day=day,
        enabled=in_force(AI_AUTO_REPLY_KEY, fresh=True) is True,
        sent=sum(1 for row in rows if row.status == SENT),
        skipped=len(skipped),
        pending=sum(1 for row in rows if row.status not in (SENT, SKIPPED)),
        reasons=[SkipReason(reason=group, count=count, example=examples[group])
                 for group, count in groups.most_common(TOP_REASONS)],
        latest=[AutoReplyItem(
            interaction_id=row.interactionId, created_at=row.createdAt, contact_id=row.contactId,
            contact_name=names.get(row.contactId, "") if row.contactId else "", question=row.question,
            status=row.status if row.status in (SENT, SKIPPED) else "auto-pending",
            reason=(row.error or "") if row.status == SKIPPED else "", confidence=row.confidence,
            sent_message_id=row.sentMessageId,
        ) for row in latest],
        truncated=truncated,
    )
