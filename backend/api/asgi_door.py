"""The route table as a Starlette app, for the Reflex backend: bearer-token auth, same endpoints as Lambda."""
from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route as StarletteRoute

from backend.api import docs_page, openapi
from backend.api.http import MAX_BODY_BYTES, ApiRequest, ApiResponse, error_response, invoke
from backend.api.routes import ROUTES, Route
from backend.api.whatsapp_webhook import MAX_WEBHOOK_BYTES, WebhookResponse, handle_verify_challenge, handle_webhook_post
from backend.errors import DomainError
from backend.services.platform.access import Actor, require
from backend.services.media.files import open_media_link
from backend.services.platform import cognito_auth
from backend.services.platform.users import actor_for_session
from backend.settings import get_settings

API_PREFIX = "/api"


def _actor_from_header(authorization: str | None) -> Actor:
    """A bearer token: the app's own session token, or a Cognito access token (three dot-separated parts),
    verified like the HTTP API's JWT authorizer does and checked against the user's row."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return Actor.anonymous()
    if cognito_auth.looks_like_jwt(token):
        return cognito_auth.actor_for_bearer(token)
    return actor_for_session(token)


def _serve(route: Route):
    async def endpoint(request: Request) -> Response:
        # Who is calling and whether they may, before the body is read or the query parsed.
        actor = await asyncio.to_thread(_actor_from_header, request.headers.get("authorization"))
        try:
            require(actor, route.requires)
        except DomainError as error:
            return _json(error_response(error))
        api_request = ApiRequest(
            method=route.method,
            path_params=dict(request.path_params),
            query=dict(request.query_params),
            raw_body=await _read_body(request),
            headers=dict(request.headers),
            route_key=route.route_key,
        )
        # service calls block on I/O: off the event loop
        answer = await asyncio.to_thread(invoke, route.endpoint, actor, api_request, route.requires, route.idempotent)
        return _json(answer)

    endpoint.__name__ = f"{route.function}_{route.method.lower()}"
    return endpoint


def _json(response: ApiResponse) -> Response:
    return Response(response.body_bytes(), status_code=response.status, media_type=response.media_type,
                    headers=response.headers or None)


async def _read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """Read at most one chunk past the limit, so an oversize body is refused without buffering it all."""
    chunks, size = [], 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            break
    return b"".join(chunks)


def _webhook_response(result: WebhookResponse) -> Response:
    if isinstance(result.body, str):
        return Response(result.body, status_code=result.status, media_type="text/plain")
    return JSONResponse(result.body, status_code=result.status)


async def whatsapp_webhook(request: Request) -> Response:
    """POST: our SNS envelope (shared secret or HMAC) or Meta's format (X-Hub-Signature-256). GET: Meta's verify."""
    if request.method == "GET":
        return _webhook_response(handle_verify_challenge(dict(request.query_params)))
    body = await _read_body(request, MAX_WEBHOOK_BYTES)
    loop = asyncio.get_running_loop()
    result = await loop.run_in_executor(_webhook_pool(), handle_webhook_post, dict(request.headers), body)
    return _webhook_response(result)


@lru_cache(maxsize=1)
def _webhook_pool() -> ThreadPoolExecutor:
    """Webhook bursts get their own threads: they cannot starve the API's, and concurrent deliveries share
    transactions (group commit) instead of queueing behind the default pool's few threads."""
    return ThreadPoolExecutor(max_workers=get_settings().webhook_workers, thread_name_prefix="webhook")


async def media_file(request: Request) -> Response:
    """A media file behind a signed link (previews in the inbox)."""
    params = request.query_params

    def load():
        return open_media_link(request.path_params["file_id"], params.get("expires", ""), params.get("signature", ""))

    try:
        media, data = await asyncio.to_thread(load)
    except DomainError as error:
        return JSONResponse({"error": error.to_dict()}, status_code=error.http_status)
    headers = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}
    if not _previewable(media.mime_type):
        headers["Content-Disposition"] = attachment_disposition(media.filename or media.file_id)
    return Response(data, media_type=media.mime_type, headers=headers)


_PREVIEW_IMAGES = {"image/jpeg", "image/png", "image/gif", "image/webp"}  # not SVG: it can carry script


def _previewable(mime_type: str) -> bool:
    """Images, audio and video open inline (the inbox previews them); anything else is downloaded, so a
    document (an HTML file, an SVG, a PDF) never renders on this site's origin."""
    return mime_type in _PREVIEW_IMAGES or mime_type.startswith(("audio/", "video/"))


def attachment_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name (no quotes, backslashes or control characters) and the real
    name UTF-8 percent-encoded (RFC 6266 / RFC 5987)."""
    filename = filename or "download"
    fallback = re.sub(r'[^\x20-\x7e]|["\\]', "_", filename).strip() or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def openapi_json(request: Request) -> Response:
    """The OpenAPI document (public: it says what the API takes, nothing about the data)."""
    return JSONResponse(await asyncio.to_thread(openapi.document))


async def api_docs(request: Request) -> Response:
    """The document as a readable page; it runs no script and loads nothing from elsewhere."""
    page = await asyncio.to_thread(lambda: docs_page.render(openapi.document()))
    policy = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    return HTMLResponse(page, headers={"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff"})


def build_api() -> Starlette:
    routes = [StarletteRoute(f"{API_PREFIX}{r.path}", _serve(r), methods=[r.method]) for r in ROUTES]
    routes += [
        StarletteRoute("/webhooks/whatsapp", whatsapp_webhook, methods=["GET", "POST"]),
        StarletteRoute(f"{API_PREFIX}/media/{{file_id}}", media_file, methods=["GET"]),
        StarletteRoute(f"{API_PREFIX}/openapi.json", openapi_json, methods=["GET"]),
        StarletteRoute(f"{API_PREFIX}/docs", api_docs, methods=["GET"]),
    ]
    return Starlette(routes=routes)
