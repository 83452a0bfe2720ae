"""The upload door's wall: Reflex's upload endpoint (`POST …/_upload`) parses the whole multipart body into
temporary files before any handler runs, so the size is checked here, in front of it: a declared length over
the handler's cap is refused with 413 before one byte is read, and a body without a length (or with a false
one) is counted as it arrives and cut off at the cap. Each upload handler declares its cap; an upload to a
handler that declared none is refused. Who may upload is the handler's and the service's check: the request
carries Reflex's client token, not the session."""
from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UPLOAD_PATH = "/_upload"
HANDLER_HEADER = b"reflex-event-handler"
# Room for the multipart boundaries, the part headers and Reflex's small event-args field around the file.
MULTIPART_SLACK = 64 * 1024


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _too_large(cap: int) -> str:
    return f"The file is larger than this upload takes ({cap / (1024 * 1024):g} MB)."


class _CountedBody:
    """The request body, counted as the app reads it: past `cap` bytes it reads no further and tells the app
    the client has gone (Starlette raises ClientDisconnect, Reflex drops the parsed parts)."""

    def __init__(self, receive: Receive, cap: int) -> None:
        self._receive = receive
        self._cap = cap
        self.received = 0
        self.overflowed = False

    async def receive(self) -> Message:
        if self.overflowed:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self._cap:
                self.overflowed = True
                return {"type": "http.disconnect"}
        return message


class UploadGuard:
    """ASGI middleware in front of the Reflex app; `limits` maps an upload handler's full name (the
    `Reflex-Event-Handler` header) to the largest file it takes."""

    def __init__(self, app: ASGIApp, limits: Mapping[str, int]) -> None:
        self.app = app
        self.limits = dict(limits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].rstrip("/").endswith(UPLOAD_PATH):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        limit = self.limits.get(headers.get(HANDLER_HEADER, b"").decode("latin-1"))
        if limit is None:
            await _refuse(send, 400, "This upload is not accepted.")
            return
        cap = limit + MULTIPART_SLACK
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await _refuse(send, 400, "The Content-Length header is not a number.")
                return
            if int(declared) > cap:
                await _refuse(send, 413, _too_large(limit))
                return
        await self._counted(scope, _CountedBody(receive, cap), send, limit)

    async def _counted(self, scope: Scope, body: _CountedBody, send: Send, limit: int) -> None:
        """Run the app on the counted body; once it overflows, the app's own answer (to a client it believes
        gone) is replaced by 413."""
        started = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if body.overflowed and not started:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, body.receive, guarded_send)
        except Exception:
            if not body.overflowed:
                raise
        if body.overflowed and not started:
            await _refuse(send, 413, _too_large(limit))


def guard_uploads(limits: Mapping[str, int]) -> Callable[[ASGIApp], ASGIApp]:
    """The guard as a Reflex `api_transformer` (a function from the app to the wrapped app)."""
    return lambda app: UploadGuard(app, limits)
