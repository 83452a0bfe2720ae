"""The upload guard in front of Reflex's upload endpoint: a body over the handler's cap is refused with 413
before it is read (declared length) or as soon as it passes the cap (no length, or a false one)."""
from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

from reflex.app import upload
from reflex.utils.format import format_event_handler
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from backend.api.upload_guard import MULTIPART_SLACK, UploadGuard, guard_uploads
from wecare_app.pages.contacts.import_page import ContactImportState

HANDLER = format_event_handler(ContactImportState.receive_file)  # a registered upload handler
LIMIT = 1000
CAP = LIMIT + MULTIPART_SLACK


class Body:
    """A client sending `chunks` of the body one `http.request` at a time; records how many were read."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.read = 0

    async def receive(self):
        if self.read >= len(self.chunks):
            await asyncio.Event().wait()  # a client that stays connected, waiting for the answer
        self.read += 1
        return {"type": "http.request", "body": self.chunks[self.read - 1], "more_body": self.read < len(self.chunks)}


class Reply:
    def __init__(self) -> None:
        self.messages: list[dict] = []

    async def send(self, message) -> None:
        self.messages.append(message)

    @property
    def status(self) -> int:
        (start,) = [m for m in self.messages if m["type"] == "http.response.start"]
        return start["status"]

    @property
    def json(self) -> dict:
        return json.loads(b"".join(m.get("body", b"") for m in self.messages if m["type"] == "http.response.body"))


class Processor:
    """Stands in for Reflex's event processor: records the upload event the endpoint hands on."""

    def __init__(self) -> None:
        self.events: list[tuple[str, list[int]]] = []

    async def enqueue_stream_delta(self, token, event):
        self.events.append((event.name, [len(f.file.read()) for f in event.payload["files"]]))
        yield {}


def _reflex_app(processor: Processor) -> Starlette:
    """Reflex's own upload endpoint (it parses the whole multipart body before the handler runs)."""
    return Starlette(routes=[Route("/_upload", upload(SimpleNamespace(event_processor=processor)), methods=["POST"])])


def _multipart(payload: bytes) -> tuple[bytes, bytes]:
    boundary = b"guardboundary"
    body = (b"--" + boundary + b'\r\nContent-Disposition: form-data; name="files"; filename="a.csv"\r\n'
            b"Content-Type: text/csv\r\n\r\n" + payload + b"\r\n--" + boundary + b"--\r\n")
    return body, b"multipart/form-data; boundary=" + boundary


def _scope(headers: dict[bytes, bytes], path: str = "/_upload", method: str = "POST") -> dict:
    headers = {b"reflex-client-token": b"client-1", **headers}
    return {"type": "http", "method": method, "path": path, "headers": list(headers.items()), "query_string": b""}


def _call(app, scope: dict, body: Body) -> Reply:
    reply = Reply()
    asyncio.run(app(scope, body.receive, reply.send))
    return reply


def test_a_declared_length_over_the_cap_is_refused_before_the_body_is_read():
    called = []

    async def inner(scope, receive, send):
        called.append(scope)

    body = Body([b"x" * 10])
    reply = _call(UploadGuard(inner, {HANDLER: LIMIT}), _scope({b"reflex-event-handler": HANDLER.encode(),
                                                                 b"content-length": str(CAP + 1).encode()}), body)
    assert reply.status == 413 and "larger" in reply.json["detail"]
    assert body.read == 0 and called == []


def test_a_body_without_a_length_stops_being_read_at_the_cap():
    payload, content_type = _multipart(b"a" * (CAP + 50_000))
    chunks = [payload[i:i + 4096] for i in range(0, len(payload), 4096)]
    body, processor = Body(chunks), Processor()
    scope = _scope({b"reflex-event-handler": HANDLER.encode(), b"content-type": content_type})
    reply = _call(UploadGuard(_reflex_app(processor), {HANDLER: LIMIT}), scope, body)
    assert reply.status == 413
    assert body.read == CAP // 4096 + 1 < len(chunks)  # the chunk that crossed the cap is the last one read
    assert processor.events == []  # the handler never ran


def test_a_length_that_lies_is_caught_by_counting():
    payload, content_type = _multipart(b"a" * (CAP + 50_000))
    chunks = [payload[i:i + 4096] for i in range(0, len(payload), 4096)]
    body, processor = Body(chunks), Processor()
    scope = _scope({b"reflex-event-handler": HANDLER.encode(), b"content-type": content_type, b"content-length": b"500"})
    reply = _call(UploadGuard(_reflex_app(processor), {HANDLER: LIMIT}), scope, body)
    assert reply.status == 413 and body.read < len(chunks) and processor.events == []


def test_a_body_within_the_cap_reaches_the_handler_whole():
    payload, content_type = _multipart(b"a" * LIMIT)
    body, processor = Body([payload[:700], payload[700:]]), Processor()
    scope = _scope({b"reflex-event-handler": HANDLER.encode(), b"content-type": content_type,
                    b"content-length": str(len(payload)).encode()})
    reply = _call(guard_uploads({HANDLER: LIMIT})(_reflex_app(processor)), scope, body)
    assert reply.status == 200 and processor.events == [(HANDLER, [LIMIT])]


def test_an_upload_to_a_handler_without_a_declared_cap_is_refused_unread():
    body = Body([b"x"])
    guard = UploadGuard(_reflex_app(Processor()), {HANDLER: LIMIT})
    reply = _call(guard, _scope({b"reflex-event-handler": b"state.other.handler", b"content-length": b"1"}), body)
    assert reply.status == 400 and body.read == 0
    reply = _call(guard,
                  _scope({b"reflex-event-handler": HANDLER.encode(), b"content-length": b"-1"}), body)
    assert reply.status == 400 and body.read == 0


def test_other_requests_pass_untouched():
    seen = []

    async def inner(scope, receive, send):
        seen.append((scope["method"], scope["path"]))
        await Response("ok")(scope, receive, send)

    guard = UploadGuard(inner, {})
    assert _call(guard, _scope({}, path="/_upload/file.csv", method="GET"), Body([])).status == 200
    assert _call(guard, _scope({b"content-length": b"999999999"}, path="/api/contacts"), Body([])).status == 200
    assert seen == [("GET", "/_upload/file.csv"), ("POST", "/api/contacts")]
