"""The five contacts endpoints: request → service call → response. No rules here; they live in the service."""
from __future__ import annotations

from backend.api.http import ApiRequest, ApiResponse
from backend.services.contacts import contacts
from backend.services.platform.access import Actor


def create(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(201, contacts.create_contact(actor, request.json(), via="api").to_api())


def read(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, contacts.get_contact(actor, request.path_params["contactId"]).to_api())


def update(actor: Actor, request: ApiRequest) -> ApiResponse:
    contact = contacts.update_contact(actor, request.path_params["contactId"], request.json(), via="api")
    return ApiResponse(200, contact.to_api())


def delete(actor: Actor, request: ApiRequest) -> ApiResponse:
    contacts.delete_contact(actor, request.path_params["contactId"], via="api")
    return ApiResponse(204)


def search(actor: Actor, request: ApiRequest) -> ApiResponse:
    page = contacts.search_contacts(
        actor, request.query.get("q"), limit=request.int_param("limit", 25), next_token=request.query.get("nextToken") or None
    )
    return ApiResponse(200, page.to_api())
