"""AI endpoints: an answer from the knowledge base with its passages (`POST /ai/query`, function ai-query-kb),
a suggested reply a person approves (`POST /ai/generate`, function ai-generate-response) and what became of it
(`POST /ai/interactions/{interactionId}/outcome`); the app also serves the interaction log and the
knowledge base's documents."""
from __future__ import annotations

from datetime import date

from backend.api.http import ApiRequest, ApiResponse
from backend.api.media_api import file_body
from backend.errors import ValidationError
from backend.services.ai import answers, interactions, knowledge_base
from backend.services.platform.access import Actor, Operation, require


def query(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, answers.query(actor, request.json()).to_api())


def generate(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, answers.generate(actor, request.json()).to_api())


def outcome(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, interactions.record_outcome(actor, request.path_params.get("interactionId", ""),
                                                        request.json()).to_api())


def _day(request: ApiRequest, name: str) -> date | None:
    raw = request.query.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(f"{name}: a day, YYYY-MM-DD", field=name) from None


def list_interactions(actor: Actor, request: ApiRequest) -> ApiResponse:
    log = interactions.list_interactions(
        actor, start=_day(request, "start"), end=_day(request, "end"), kind=request.query.get("kind") or None,
        status=request.query.get("status") or None, contact_id=request.query.get("contactId") or None,
    )
    return ApiResponse(200, log.to_api())


def read_interaction(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, interactions.get_interaction(actor, request.path_params.get("interactionId", "")).to_api())


def list_documents(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, knowledge_base.list_documents(actor).to_api())


def upload_document(actor: Actor, request: ApiRequest) -> ApiResponse:
    """The role first, then the body's size (nothing of it is used before); the service checks the type."""
    require(actor, Operation.AI_ADMIN)
    filename, body = file_body(request, "the app's knowledge-base page (up to 10 MB)")
    document = knowledge_base.upload_document(actor, filename, body, request.headers.get("content-type") or None,
                                              title=request.query.get("title") or None)
    return ApiResponse(202, document.to_api())


def reindex_document(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(202, knowledge_base.reindex_document(actor, request.path_params.get("documentId", "")).to_api())


def delete_document(actor: Actor, request: ApiRequest) -> ApiResponse:
    knowledge_base.delete_document(actor, request.path_params.get("documentId", ""))
    return ApiResponse(204)


def load_sample(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, knowledge_base.load_sample(actor).to_api())
