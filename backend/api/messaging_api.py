"""Messaging endpoints: send on WhatsApp, read and delete messages, the dead-letter queue."""
from __future__ import annotations

from datetime import date

from backend.api.http import ApiRequest, ApiResponse
from backend.errors import ValidationError
from backend.services.messaging import dlq
from backend.services.messaging import messages
from backend.services.channels.whatsapp import send as whatsapp_send
from backend.services.platform.access import Actor


def send_whatsapp(actor: Actor, request: ApiRequest) -> ApiResponse:
    message = whatsapp_send.send_whatsapp(actor, request.json(), via="api")
    return ApiResponse(200 if message.status != "PENDING" else 202, message.to_api())


def _day(request: ApiRequest) -> date | None:
    raw = request.query.get("day")
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError("day: use YYYY-MM-DD", field="day") from None


def list_messages(actor: Actor, request: ApiRequest) -> ApiResponse:
    limit = request.int_param("limit", 50)
    token = request.query.get("nextToken") or None
    contact_id = request.query.get("contactId")
    if contact_id:
        page = messages.conversation(actor, contact_id, limit=limit, next_token=token)
    else:
        page = messages.message_log(
            actor,
            day=_day(request),
            channel=request.query.get("channel") or None,
            direction=request.query.get("direction") or None,
            status=request.query.get("status") or None,
            q=request.query.get("q") or "",
            limit=limit,
            next_token=token,
        )
    return ApiResponse(200, page.to_api())


def read_message(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, messages.get_message(actor, request.path_params["messageId"]).to_api())


def delete_message(actor: Actor, request: ApiRequest) -> ApiResponse:
    messages.delete_message(actor, request.path_params["messageId"], via="api")
    return ApiResponse(204)


def list_dlq(actor: Actor, request: ApiRequest) -> ApiResponse:
    items = dlq.list_dead_letters(
        actor,
        queue=request.query.get("queue") or None,
        error_code=request.query.get("errorCode") or None,
        older_than_minutes=request.int_param("olderThanMinutes", 0) or None,
        state=request.query.get("state", "waiting") or None,
        limit=request.int_param("limit", 100),
    )
    return ApiResponse(200, {"items": [item.to_api() for item in items]})


def replay_dlq(actor: Actor, request: ApiRequest) -> ApiResponse:
    """{"dlqIds": [...] | "all": true, "action": "replay" | "discard"}; a replay of one entry that may already
    have been delivered also needs "sendAnyway": true (the service validates it: true or false, one entry)."""
    body = request.json()
    action = body.pop("action", "replay") if isinstance(body, dict) else "replay"
    if action not in ("replay", "discard"):
        raise ValidationError("action: replay or discard", field="action")
    if action == "discard" and "sendAnyway" in body:
        raise ValidationError("sendAnyway: only with action replay", field="sendAnyway")
    results = (dlq.replay if action == "replay" else dlq.discard)(actor, body, via="api")
    return ApiResponse(200, {"results": [r.to_api() for r in results]})
