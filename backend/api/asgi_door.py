"""The route table as a Starlette app, for the Reflex backend: bearer-token auth, same endpoints as Lambda."""
from __future__ import annotations

import asyncio

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route as StarletteRoute

from backend.api.http import MAX_BODY_BYTES, ApiRequest, ApiResponse, invoke
from backend.api.routes import ROUTES, Route
from backend.services.access import Actor
from backend.services.users import actor_for_session

API_PREFIX = "/api"


def _actor_from_header(authorization: str | None) -> Actor:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return Actor.anonymous()
    return actor_for_session(token.strip())


def _serve(route: Route):
    async def endpoint(request: Request) -> Response:
        raw = await _read_body(request)
        api_request = ApiRequest(
            method=route.method,
            path_params=dict(request.path_params),
            query=dict(request.query_params),
            raw_body=raw,
        )

        def call() -> ApiResponse:
            actor = _actor_from_header(request.headers.get("authorization"))
            return invoke(route.endpoint, actor, api_request)

        response = await asyncio.to_thread(call)  # service calls block on I/O; keep the event loop free
        return Response(response.json_bytes(), status_code=response.status, media_type="application/json")

    endpoint.__name__ = f"{route.function}_{route.method.lower()}"
    return endpoint


async def _read_body(request: Request) -> bytes:
    """Read at most one byte past the limit, so an oversize body is refused without buffering it all."""
    chunks, size = [], 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            break
    return b"".join(chunks)


def build_api() -> Starlette:
    routes = [StarletteRoute(f"{API_PREFIX}{r.path}", _serve(r), methods=[r.method]) for r in ROUTES]
    return Starlette(routes=routes)
