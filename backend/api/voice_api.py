"""Voice endpoints: place a call, the call log, one call (call events go through the channel door's one SNS loop)."""
from __future__ import annotations


from backend.api.http import ApiRequest, ApiResponse
from backend.services.channels.voice import calls as voice_calls
from backend.services.platform.access import Actor


def place_call(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(202, voice_calls.place_call(actor, request.json(), via="api").to_api())


def list_calls(actor: Actor, request: ApiRequest) -> ApiResponse:
    page = voice_calls.list_calls(
        actor,
        contact_id=request.query.get("contactId") or None,
        status=request.query.get("status") or None,
        day=request.query.get("day") or None,
        limit=request.int_param("limit", 50),
        next_token=request.query.get("nextToken") or None,
    )
    return ApiResponse(200, page.to_api())


def get_call(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, voice_calls.get_call(actor, request.path_params.get("callId", "")).to_api())
