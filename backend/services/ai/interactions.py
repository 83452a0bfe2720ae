"""What happened to each AI answer: a suggestion's outcome (approved as is, edited then sent, rejected), the
operator's feedback, and the interaction log with its rates (/ai/interactions).

An outcome is recorded once: the row must still be `suggested` (a second outcome is a 409), and only the person
who asked for the suggestion, or an Admin, records it. "approved" and "edited" name the message that went out
(sent through the normal send path and its rules by the caller), so the log shows what the customer got.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import Field
from backend.errors import Conflict, NotFound, PermissionDenied, ValidationError
from backend.models.assistant import AIInteractionModel
from backend.models.base import utcnow
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.api_model import ApiModel, ApiView
from backend.services.platform.audit import audit_row
from backend.services.platform.validation import is_row_id, parse_input
from backend.services.storage.unit_of_work import UnitOfWork, WriteConflict

RESOURCE = "ai_interaction"
OUTCOMES = ("approved", "edited", "rejected")
RATINGS = ("helpful", "not-helpful")
KINDS = ("query", "suggest", "auto-reply")
MAX_FEEDBACK = 1000
MAX_DAYS = 31
MAX_ROWS = 1000


class OutcomeRequest(ApiModel):
    outcome: Literal["approved", "edited", "rejected"]
    sent_message_id: str | None = Field(default=None, description="The message that went out (approved, edited).")
    sent_text: str | None = Field(default=None, description="What went out, when it was edited.")
    feedback: str | None = Field(default=None, description="Why, in the operator's words (at most 1,000 characters).")
    rating: Literal["helpful", "not-helpful"] | None = None


class Interaction(ApiView):
    interaction_id: str
    kind: str
    status: str
    query: str
    answer: str | None = None
    answered: bool | None = None
    confidence: float | None = None
    model: str | None = None
    latency_ms: int | None = None
    error: str | None = None
    reason: str | None = None  # why it was declined
    contact_id: str | None = None
    message_id: str | None = None
    user_id: str
    created_at: datetime
    passages: list[dict] = []
    outcome_by: str | None = None
    outcome_at: datetime | None = None
    sent_message_id: str | None = None
    sent_text: str | None = None
    feedback: str | None = None
    rating: str | None = None


class InteractionRates(ApiView):
    total: int
    answered: int
    declined: int
    errors: int
    suggestions: int
    approved: int
    edited: int
    rejected: int
    pending: int  # suggestions no one acted on yet
    approval_rate: float | None = None  # of the suggestions acted on
    edit_rate: float | None = None
    rejection_rate: float | None = None
    helpful: int = 0
    not_helpful: int = 0


class InteractionLog(ApiView):
    items: list[Interaction]
    rates: InteractionRates
    start: date
    end: date
    truncated: bool  # more than MAX_ROWS in the range: the rates count the first MAX_ROWS (newest)


def to_interaction(row: AIInteractionModel) -> Interaction:
    return Interaction(
        interaction_id=row.interactionId, kind=row.kind or "query", status=row.status, query=row.question,
        answer=row.suggestion, answered=row.answered, confidence=row.confidence, model=row.model,
        latency_ms=int(row.latencyMs) if row.latencyMs is not None else None, error=row.error, reason=row.reason,
        contact_id=row.contactId,
        message_id=row.messageId, user_id=row.userId, created_at=row.createdAt, passages=row.passages or [],
        outcome_by=row.outcomeBy, outcome_at=row.outcomeAt, sent_message_id=row.sentMessageId, sent_text=row.sentText,
        feedback=row.feedback, rating=row.rating,
    )


def _row(interaction_id: str) -> AIInteractionModel:
    if not isinstance(interaction_id, str) or not interaction_id or len(interaction_id) > 64:
        raise NotFound("No such AI interaction.", field="interactionId")
    try:
        return AIInteractionModel.get(interaction_id, consistent_read=True)
    except AIInteractionModel.DoesNotExist:
        raise NotFound(f"No AI interaction {interaction_id!r}.", field="interactionId") from None


def get_interaction(actor: Actor, interaction_id: str) -> Interaction:
    require(actor, Operation.AI_READ)
    return to_interaction(_row(interaction_id))


def record_outcome(actor: Actor, interaction_id: str, request: OutcomeRequest | dict) -> Interaction:
    """What the operator did with a suggestion (once)."""
    require(actor, Operation.AI_USE)
    request = parse_input(OutcomeRequest, request)
    row = _row(interaction_id)
    if row.kind != "suggest":
        raise ValidationError("interactionId: only a suggested reply has an outcome", field="interactionId")
    if row.status != "suggested":
        raise Conflict(f"This suggestion is {row.status}; its outcome cannot be recorded again.", field="interactionId")
    if row.userId != actor.user_id and not actor.can(Operation.AI_ADMIN):
        raise PermissionDenied("Only the person who asked for this suggestion (or an Admin) records what became of it.")
    if request.outcome in ("approved", "edited") and not request.sent_message_id:
        raise ValidationError("sentMessageId: the message that went out", field="sentMessageId")
    if request.outcome == "edited" and not (request.sent_text or "").strip():
        raise ValidationError("sentText: the edited text that went out", field="sentText")
    feedback = (request.feedback or "").strip() or None
    if feedback and len(feedback) > MAX_FEEDBACK:
        raise ValidationError(f"feedback: at most {MAX_FEEDBACK:,} characters", field="feedback")
    actions = [AIInteractionModel.status.set(request.outcome), AIInteractionModel.outcomeBy.set(actor.user_id),
               AIInteractionModel.outcomeAt.set(utcnow())]
    if request.sent_message_id:
        actions.append(AIInteractionModel.sentMessageId.set(request.sent_message_id))
    if request.outcome == "edited":
        actions.append(AIInteractionModel.sentText.set(request.sent_text.strip()))
    if feedback:
        actions.append(AIInteractionModel.feedback.set(feedback))
    if request.rating:
        actions.append(AIInteractionModel.rating.set(request.rating))
    work = UnitOfWork()
    work.update(row, actions, AIInteractionModel.status == "suggested")
    work.save(audit_row(actor, "ai.outcome", RESOURCE, interaction_id, ["status"],
                        {"before": "suggested", "after": request.outcome, "sentMessageId": request.sent_message_id}))
    try:
        work.commit()
    except WriteConflict:
        raise Conflict(f"This suggestion was already {_row(interaction_id).status}.", field="interactionId") from None
    return to_interaction(_row(interaction_id))


def rate(actor: Actor, interaction_id: str, rating: str, feedback: str | None = None) -> Interaction:
    """Feedback on any answer (helpful or not, and why); it can be changed."""
    require(actor, Operation.AI_READ)
    if rating not in RATINGS:
        raise ValidationError("rating: helpful or not-helpful", field="rating")
    feedback = (feedback or "").strip() or None
    if feedback and len(feedback) > MAX_FEEDBACK:
        raise ValidationError(f"feedback: at most {MAX_FEEDBACK:,} characters", field="feedback")
    row = _row(interaction_id)
    actions = [AIInteractionModel.rating.set(rating)]
    actions.append(AIInteractionModel.feedback.set(feedback) if feedback else AIInteractionModel.feedback.remove())
    work = UnitOfWork()
    work.update(row, actions)
    work.save(audit_row(actor, "ai.feedback", RESOURCE, interaction_id, ["rating", "feedback"],
                        {"before": row.rating, "after": rating}))
    work.commit()
    return to_interaction(_row(interaction_id))


def _rates(rows: list[AIInteractionModel]) -> InteractionRates:
    suggestions = [r for r in rows if r.kind == "suggest" and r.answered]
    count = {outcome: sum(1 for r in suggestions if r.status == outcome) for outcome in OUTCOMES}
    acted = sum(count.values())

    def share(n: int) -> float | None:
        return round(n / acted, 3) if acted else None

    return InteractionRates(
        total=len(rows), answered=sum(1 for r in rows if r.answered is True), declined=sum(1 for r in rows if r.answered is False), errors=sum(1 for r in rows if r.status == "error"),
        suggestions=len(suggestions), approved=count["approved"], edited=count["edited"], rejected=count["rejected"],
        pending=sum(1 for r in suggestions if r.status == "suggested"), approval_rate=share(count["approved"]),
        edit_rate=share(count["edited"]), rejection_rate=share(count["rejected"]),
        helpful=sum(1 for r in rows if r.rating == "helpful"), not_helpful=sum(1 for r in rows if r.rating == "not-helpful"),
    )


def list_interactions(actor: Actor, *, start: date | None = None, end: date | None = None, kind: str | None = None,
                      status: str | None = None, contact_id: str | None = None, today: date | None = None) -> InteractionLog:
    """The log newest first, read a day at a time through byDay (a contact's through byContact), at most
    MAX_DAYS and MAX_ROWS a request; the rates are over the rows read, before the kind/status filters."""
    require(actor, Operation.AI_READ)
    today = today or utcnow().date()
    end = end or today
    start = start or end - timedelta(days=6)
    if start > end:
        raise ValidationError("start: on or before end", field="start")
    if (end - start).days >= MAX_DAYS:
        raise ValidationError(f"start: at most {MAX_DAYS} days from start to end", field="start")
    if contact_id and not is_row_id(contact_id):
        raise ValidationError("contactId: not a contact id", field="contactId")
    if kind is not None and kind not in KINDS:
        raise ValidationError(f"kind: one of {', '.join(KINDS)}", field="kind")
    rows: list[AIInteractionModel] = []
    if contact_id:
        low = datetime.combine(start, datetime.min.time()).replace(tzinfo=utcnow().tzinfo)
        high = datetime.combine(end + timedelta(days=1), datetime.min.time()).replace(tzinfo=utcnow().tzinfo)
        rows = list(AIInteractionModel.by_contact.query(
            contact_id, AIInteractionModel.createdAt.between(low, high), scan_index_forward=False, limit=MAX_ROWS + 1))
    else:
        day = end
        while day >= start and len(rows) <= MAX_ROWS:
            rows += list(AIInteractionModel.by_day.query(f"{day:%Y-%m-%d}", scan_index_forward=False,
                                                         limit=MAX_ROWS + 1 - len(rows)))
            day -= timedelta(days=1)
    truncated = len(rows) > MAX_ROWS
    rows = rows[:MAX_ROWS]
    shown = [r for r in rows if (not kind or (r.kind or "query") == kind) and (not status or r.status == status)]
    return InteractionLog(items=[to_interaction(r) for r in shown], rates=_rates(rows), start=start, end=end,
                          truncated=truncated)
