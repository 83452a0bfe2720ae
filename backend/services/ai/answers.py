"""AI answers from the knowledge base: a question answered with its passages (`query`, Viewer and up), and a
suggested reply to a customer's message that a person approves (`generate`, Operator and up). The same
functions serve the pages, `POST /ai/query` and `POST /ai/generate` (functions ai-query-kb and
ai-generate-response).

Where answers come from (`backend.settings`):
- locally (no `WECARE_AI_KNOWLEDGE_BASE_ID`): the local bm25s index of the documents on /ai/knowledge-base,
  and an extractive answer (services/ai/compose.py) that quotes the passages' own sentences, cites them and
  declines when they do not hold the answer;
- in AWS: Bedrock `retrieve` over the knowledge base, then `converse` with the model, a system prompt that
  confines it to the passages (it answers NO_ANSWER otherwise), and the guardrail when one is set. A model or
  retrieval error or timeout is a clear 503 (`Unavailable`), never a made-up suggestion.

Every call writes one AIInteraction row (query, passages, response, model, latency, who asked); the outcome
of a suggestion (approved as is, edited then sent, rejected) and the operator's feedback are added later
(services/ai/interactions.py). A suggestion always requires approval: nothing here sends.
"""
from __future__ import annotations

import logging
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from pydantic import Field, model_validator

from backend.adapters.knowledge_hits import Hit
from backend.errors import NotFound, Unavailable, ValidationError
from backend.models.assistant import AIInteractionModel
from backend.models.base import utcnow
from backend.models.contact import ContactModel
from backend.models.messaging import MessageModel
from backend.services.contacts.contacts import live_contact_row
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.api_model import ApiModel, ApiView
from backend.services.platform.settings_catalog import AI_CLOSING_KEY, AI_PROMPT_DEFAULT, AI_PROMPT_KEY, in_force
from backend.services.platform.validation import parse_input
from backend.settings import get_settings

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 1000
RESULTS = 3
LOCAL_MODEL = "local-extractive"
NO_ANSWER_MARK = "NO_ANSWER"
SYSTEM_PROMPT = AI_PROMPT_DEFAULT  # the default; an Admin's own is the setting ai.systemPrompt


class AiQuery(ApiModel):
    query: str = Field(description="The question (at most 1,000 characters).")
    contact_id: str | None = Field(default=None, description="The conversation it is about, if any.")
    message_id: str | None = Field(default=None, description="The customer's message it is about, if any.")


class AiGenerate(ApiModel):
    message_id: str | None = Field(default=None, description="The customer's message to answer.")
    message_content: str | None = Field(default=None, description="Or the text to answer (at most 1,000 characters).")
    contact_id: str | None = Field(default=None, description="The conversation (taken from the message when omitted).")

    @model_validator(mode="after")
    def _one_source(self) -> "AiGenerate":
        if not self.message_id and not (self.message_content or "").strip():
            raise ValueError("give messageId or messageContent")
        return self


class Source(ApiView):
    document_id: str
    title: str
    location: str


class AiResult(ApiView):
    content: str
    source: Source
    score: float


class Citation(ApiView):
    number: int  # as cited in the text: [1]
    content: str
    source: Source


class AiAnswer(ApiView):
    interaction_id: str
    answer: str
    answered: bool  # False: the knowledge base has no answer (the answer says so)
    confidence: float
    reason: str = ""  # why it declined
    results: list[AiResult]
    citations: list[Citation]
    model: str
    latency_ms: int


class AiSuggestion(ApiView):
    interaction_id: str
    suggested_response: str  # empty when the knowledge base has no answer (note says so)
    answered: bool
    note: str = ""
    citations: list[Citation]
    confidence: float
    requires_approval: bool = True
    contact_id: str | None = None
    message_id: str | None = None
    model: str
    latency_ms: int


# ---------------------------------------------------------------- where answers come from


@dataclass(frozen=True)
class Drafted:
    answered: bool
    confidence: float
    text: str
    cited: list[Hit]
    reason: str
    model: str


class Answerer(Protocol):
    def search(self, query: str, k: int) -> list[Hit]: ...

    def draft(self, query: str, hits: list[Hit]) -> Drafted: ...


class LocalAnswerer:
    """The local index and the extractive composer."""

    model = LOCAL_MODEL

    def search(self, query: str, k: int) -> list[Hit]:
        try:
            from backend.services.ai.knowledge_base import local_index

            index = local_index()
        except ImportError:  # the functions' layer carries no local index: AWS answers need a knowledge base id
            raise Unavailable("No knowledge base is configured for this deployment (ai_knowledge_base_id).") from None
        try:
            return index.search(query, k)
        except (OSError, ValueError) as error:  # a damaged index: say so, do not guess
            log.exception("the local knowledge index could not be read")
            raise Unavailable(f"The knowledge index could not be read ({type(error).__name__}); re-index the "
                              "documents on the knowledge base page.") from None

    def draft(self, query: str, hits: list[Hit]) -> Drafted:
        from backend.services.ai.compose import answer_from

        composed = answer_from(query, hits)
        return Drafted(composed.answered, composed.confidence, composed.answer, composed.cited, composed.reason, self.model)


class BedrockAnswerer:
    """Bedrock: retrieve from the knowledge base, converse with the model over the passages."""

    def __init__(self, settings=None):
        from backend.adapters.bedrock_ai import BedrockKnowledgeBase, BedrockResponder

        settings = settings or get_settings()
        self.model = settings.ai_model_id
        self.min_score = 0.0
        self._kb = BedrockKnowledgeBase(settings.ai_knowledge_base_id, region=settings.aws_region,
                                        timeout=settings.ai_timeout_seconds)
        self._model = BedrockResponder(settings.ai_model_id, region=settings.aws_region, timeout=settings.ai_timeout_seconds,
                                       guardrail_id=settings.ai_guardrail_id, guardrail_version=settings.ai_guardrail_version)

    def search(self, query: str, k: int) -> list[Hit]:
        from backend.adapters.bedrock_ai import AiUnavailable

        try:
            return self._kb.search(query, k)
        except AiUnavailable as error:
            raise Unavailable(f"The knowledge base did not answer: {error.reason}") from None

    def draft(self, query: str, hits: list[Hit]) -> Drafted:
        from backend.adapters.bedrock_ai import AiUnavailable

        if not hits:
            return Drafted(False, 0.0, NO_ANSWER_TEXT, [], "The knowledge base returned no passage.", self.model)
        numbered = "\n\n".join(f"[{n}] {hit.passage.title} — {hit.passage.text}" for n, hit in enumerate(hits, start=1))
        try:
            generated = self._model.converse(in_force(AI_PROMPT_KEY), f"Passages:\n{numbered}\n\nQuestion: {query}")
        except AiUnavailable as error:
            raise Unavailable(f"The AI model did not answer: {error.reason}") from None
        if generated.guardrail_intervened:
            return Drafted(False, 0.0, NO_ANSWER_TEXT, [], "The guardrail stopped the answer.", self.model)
        text = generated.text.strip()
        if not text or NO_ANSWER_MARK in text:
            return Drafted(False, round(hits[0].coverage, 3), NO_ANSWER_TEXT, [], "The passages do not hold the answer.",
                           self.model)
        cited = [hit for n, hit in enumerate(hits, start=1) if f"[{n}]" in text]
        if not cited:  # an answer that cites no passage is not an answer from the knowledge base
            return Drafted(False, round(hits[0].coverage, 3), NO_ANSWER_TEXT, [],
                           "The model's answer cited none of the passages.", self.model)
        return Drafted(True, round(hits[0].coverage, 3), text, cited, "", self.model)


NO_ANSWER_TEXT = "The knowledge base has no answer to this question."


def answerer() -> Answerer:
    settings = get_settings()
    return BedrockAnswerer(settings) if settings.ai_knowledge_base_id else LocalAnswerer()


# ---------------------------------------------------------------- the calls


def _check_query(text: Any, field: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValidationError(f"{field}: the question is empty", field=field)
    if len(text) > MAX_QUERY_CHARS:
        raise ValidationError(f"{field}: {len(text):,} characters; at most {MAX_QUERY_CHARS:,}", field=field)
    return " ".join(text.split())


def _source(hit: Hit) -> Source:
    return Source(document_id=hit.passage.document_id, title=hit.passage.title, location=hit.passage.location)


def _citations(cited: list[Hit]) -> list[Citation]:
    return [Citation(number=n, content=hit.passage.text, source=_source(hit)) for n, hit in enumerate(cited, start=1)]


def _stored_passages(hits: list[Hit]) -> list[dict]:
    return [{"content": hit.passage.text, "source": _source(hit).to_api(), "score": round(hit.score, 4),
             "chunkId": hit.passage.chunk_id} for hit in hits]


def _record(actor: Actor, *, kind: str, query: str, hits: list[Hit], drafted: Drafted | None, started: float,
            contact_id: str | None, message_id: str | None, status: str, error: str | None = None,
            model: str = LOCAL_MODEL, interaction_id: str | None = None,
            reply: Callable[[str], str] | None = None) -> AIInteractionModel:
    now = utcnow()
    row = AIInteractionModel(
        interactionId=interaction_id or uuid.uuid4().hex, contactId=contact_id, userId=actor.user_id or "anonymous", question=query,
        passages=_stored_passages(hits), suggestion=(reply or str)(drafted.text) if drafted and drafted.answered else None,
        status=status, createdAt=now, day=f"{now:%Y-%m-%d}", kind=kind, messageId=message_id,
        answered=drafted.answered if drafted else None, confidence=drafted.confidence if drafted else None,
        model=drafted.model if drafted else model, latencyMs=int((time.perf_counter() - started) * 1000), error=error,
        reason=drafted.reason or None if drafted and not drafted.answered else None,
    )
    row.save()
    return row


def answer_and_record(actor: Actor, kind: str, query: str, contact_id: str | None, message_id: str | None, *,
                      interaction_id: str | None = None, reply: Callable[[str], str] | None = None):
    """Search, draft and record (under `interaction_id` when given); an error is recorded too, then raised."""
    started = time.perf_counter()
    source = answerer()
    hits: list[Hit] = []
    try:
        hits = source.search(query, RESULTS)
        drafted = source.draft(query, hits)
    except Unavailable as error:
        _record(actor, kind=kind, query=query, hits=hits, drafted=None, started=started, contact_id=contact_id,
                message_id=message_id, status="error", error=error.message, model=getattr(source, "model", LOCAL_MODEL),
                interaction_id=interaction_id)
        raise
    status = ("answered" if drafted.answered else "declined") if kind == "query" else ("suggested" if drafted.answered else "declined")
    row = _record(actor, kind=kind, query=query, hits=hits, drafted=drafted, started=started, contact_id=contact_id,
                  message_id=message_id, status=status, interaction_id=interaction_id, reply=reply)
    return row, hits, drafted


def _check_contact(contact_id: str | None) -> str | None:
    """A conversation named by a request: a live contact, or none (an empty id is none)."""
    if not contact_id:
        return None
    live_contact_row(contact_id)  # NotFound for an unknown, deleted or malformed id
    return contact_id


def _check_message_id(message_id: str | None) -> str | None:
    if not message_id:
        return None
    if len(message_id) > 128 or not message_id.isprintable():
        raise ValidationError("messageId: not a message id", field="messageId")
    return message_id


def query(actor: Actor, request: AiQuery | dict) -> AiAnswer:
    """An answer from the knowledge base with the passages it came from."""
    require(actor, Operation.AI_READ)
    request = parse_input(AiQuery, request)
    text = _check_query(request.query, "query")
    contact_id, message_id = _check_contact(request.contact_id), _check_message_id(request.message_id)
    row, hits, drafted = answer_and_record(actor, "query", text, contact_id, message_id)
    return AiAnswer(
        interaction_id=row.interactionId, answer=drafted.text, answered=drafted.answered, confidence=drafted.confidence,
        reason=drafted.reason, results=[AiResult(content=h.passage.text, source=_source(h), score=round(h.score, 4)) for h in hits],
        citations=_citations(drafted.cited), model=drafted.model, latency_ms=int(row.latencyMs),
    )


def customer_message(message_id: str) -> MessageModel:
    if not isinstance(message_id, str) or not message_id or len(message_id) > 128:
        raise NotFound("No such message.", field="messageId")
    try:
        row = MessageModel.get(message_id)
    except MessageModel.DoesNotExist:
        raise NotFound(f"No message {message_id!r}.", field="messageId") from None
    if row.direction != "inbound":
        raise ValidationError("messageId: a suggestion answers a customer's message; this one is ours", field="messageId")
    if not (row.body or "").strip():
        raise ValidationError("messageId: the message has no text to answer", field="messageId")
    return row


def first_name(name: str | None) -> str:
    """What a reply greets the customer by: the first word of their name, if it reads as a name."""
    first = (name or "").split()[0] if (name or "").split() else ""
    return first if first.replace("-", "").replace("'", "").isalpha() else ""


def first_name_of(contact_id: str | None) -> str:
    if not contact_id:
        return ""
    try:
        return first_name(ContactModel.get(contact_id, attributes_to_get=["name"]).name)
    except ContactModel.DoesNotExist:
        return ""


def reply_text(drafted_text: str, first_name: str) -> str:
    """The reply a customer would read: a greeting, the answer without its [n] marks (the operator sees the
    citations beside the composer), a friendly close. What the composer holds is what would be sent."""
    greeting = f"Hi {first_name}," if first_name else "Hello,"
    answer = re.sub(r"\s*\[\d+\]", "", drafted_text).strip()
    return f"{greeting}\n\n{answer}\n\n{in_force(AI_CLOSING_KEY)}"


def generate(actor: Actor, request: AiGenerate | dict) -> AiSuggestion:
    """A suggested reply to a customer's message, with its citations; it always needs a person's approval."""
    require(actor, Operation.AI_USE)
    request = parse_input(AiGenerate, request)
    contact_id = _check_contact(request.contact_id)
    if request.message_id:
        message = customer_message(request.message_id)
        text = _check_query(message.body, "messageId")
        if contact_id and message.contactId and contact_id != message.contactId:
            raise ValidationError("contactId: the message belongs to another conversation", field="contactId")
        contact_id = contact_id or message.contactId
    else:
        text = _check_query(request.message_content, "messageContent")
    name = first_name_of(contact_id)
    row, _hits, drafted = answer_and_record(actor, "suggest", text, contact_id, request.message_id,
                                            reply=lambda answer: reply_text(answer, name))  # stored as the reply, once
    if drafted.answered:
        suggestion, note = row.suggestion, ""
    else:
        suggestion = ""
        note = (f"The knowledge base has no answer to this message ({drafted.reason}) Write the reply yourself, or "
                "add the answer to the knowledge base.")
    return AiSuggestion(
        interaction_id=row.interactionId, suggested_response=suggestion, answered=drafted.answered, note=note,
        citations=_citations(drafted.cited), confidence=drafted.confidence, contact_id=contact_id,
        message_id=request.message_id, model=drafted.model, latency_ms=int(row.latencyMs),
    )
