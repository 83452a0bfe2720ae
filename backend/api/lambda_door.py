"""API Gateway HTTP API (payload v2) → route endpoint. The caller comes from the JWT authorizer's claims."""
from __future__ import annotations

import base64
import logging

from backend.api.http import ApiRequest, ApiResponse, invoke
from backend.api.routes import routes_of
from backend.services.platform.access import Actor, Role

log = logging.getLogger(__name__)
_ROLE_ORDER = (Role.ADMIN, Role.OPERATOR, Role.VIEWER)


def actor_from_claims(claims: dict | None) -> Actor:
    """`sub`, `email` and `cognito:groups` (API Gateway passes groups as "[Admin Operator]")."""
    if not claims or not claims.get("sub"):
        return Actor.anonymous()
    raw_groups = claims.get("cognito:groups") or ""
    if isinstance(raw_groups, list):
        groups = [str(g) for g in raw_groups]
    else:
        groups = str(raw_groups).strip("[]").replace(",", " ").split()
    roles = {Role.parse(g) for g in groups} - {None}
    role = next((r for r in _ROLE_ORDER if r in roles), None)
    return Actor(user_id=str(claims["sub"]), email=claims.get("email"), role=role)


def handle_http(function: str, event: dict) -> dict:
    routes = routes_of(function)
    route = routes.get(event.get("routeKey", ""))
    if route is None:
        response = ApiResponse(404, {"error": {"code": "NOT_FOUND", "message": "No such route."}})
        return _to_lambda(response)
    claims = (((event.get("requestContext") or {}).get("authorizer") or {}).get("jwt") or {}).get("claims")
    body = event.get("body") or ""
    try:
        raw = base64.b64decode(body, validate=True) if event.get("isBase64Encoded") else body.encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        raw = None  # the endpoint answers 400, after the role check
    request = ApiRequest(
        method=route.method,
        path_params=dict(event.get("pathParameters") or {}),
        query=dict(event.get("queryStringParameters") or {}),
        raw_body=raw,
        headers={str(name).lower(): str(value) for name, value in (event.get("headers") or {}).items()},
        route_key=route.route_key,
    )
    actor = actor_from_claims(claims)
    return _to_lambda(invoke(route.endpoint, actor, request, requires=route.requires, idempotent=route.idempotent))


def _to_lambda(response: ApiResponse) -> dict:
    return {
        "statusCode": response.status,
        "headers": {"content-type": response.media_type, **response.headers},
        "body": response.body_bytes().decode(),
        "isBase64Encoded": False,
    }


def is_scheduled_event(event: dict) -> bool:
    """An EventBridge schedule's event (not an API Gateway request)."""
    return isinstance(event, dict) and (event.get("source") == "aws.events" or event.get("detail-type") == "Scheduled Event")


def is_stream_event(event: dict) -> bool:
    """A DynamoDB Stream's batch (the Message table's, for the message counters)."""
    records = event.get("Records") if isinstance(event, dict) else None
    return bool(records) and all(isinstance(r, dict) and r.get("eventSource") == "aws:dynamodb" for r in records)
