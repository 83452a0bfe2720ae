"""Door-independent HTTP: a parsed request, a response, and the one place domain errors become statuses."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from backend.errors import BadRequest, DomainError, ValidationError
from backend.services.platform import idempotency
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.validation import parse_json

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024
JSON_TYPES = ("application/json",)


class UnsupportedMediaType(BadRequest):
    code = "UNSUPPORTED_MEDIA_TYPE"
    http_status = 415


def check_content_type(content_type: str | None, accepted: tuple[str, ...] = JSON_TYPES) -> None:
    """415 for a body declared as something else than JSON (a form post, say); no Content-Type is taken as JSON."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type and media_type not in accepted and not media_type.endswith("+json"):
        raise UnsupportedMediaType(f"Content-Type {media_type!r} is not accepted; send application/json.", field="Content-Type")


@dataclass
class ApiRequest:
    method: str
    path_params: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    raw_body: bytes | None = b""  # None: the door could not decode it (bad base64 or UTF-8)
    headers: dict[str, str] = field(default_factory=dict)  # names in lower case
    route_key: str = ""  # "POST /sms/send": what an Idempotency-Key is bound to

    def json(self) -> Any:
        """The JSON body; a clear 4xx if it is declared as another type, missing, too large or not JSON."""
        check_content_type(self.headers.get("content-type"))
        if self.raw_body is None:
            raise BadRequest("Request body could not be decoded (base64 or UTF-8).", field="body")
        if len(self.raw_body) > MAX_BODY_BYTES:
            raise BadRequest(f"Request body is larger than {MAX_BODY_BYTES // 1024} KB.", field="body")
        if not self.raw_body.strip():
            raise BadRequest("Request body is empty; expected a JSON object.", field="body")
        return parse_json(self.raw_body)

    def int_param(self, name: str, default: int) -> int:
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise ValidationError(f"{name}: must be a whole number", field=name) from None


@dataclass
class ApiResponse:
    """An endpoint's answer: JSON by default; a download (CSV) gives its text as `body`, its `media_type` and
    headers (Content-Disposition) for the doors to send."""

    status: int
    body: Any = None
    media_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    def json_bytes(self) -> bytes:
        return b"" if self.body is None else json.dumps(self.body, separators=(",", ":")).encode()

    def body_bytes(self) -> bytes:
        """What goes on the wire: the JSON, or a download's own text."""
        if isinstance(self.body, str) and not self.media_type.startswith("application/json"):
            return self.body.encode("utf-8")
        return self.json_bytes()


Endpoint = Callable[[Actor, ApiRequest], ApiResponse]


def error_response(error: DomainError) -> ApiResponse:
    return ApiResponse(error.http_status, {"error": error.to_dict()})


def invoke(
    endpoint: Endpoint, actor: Actor, request: ApiRequest, requires: Operation | None = None, idempotent: bool = False
) -> ApiResponse:
    """Run an endpoint; domain errors become their status, anything else a logged 500 without internals. With
    `requires`, the caller's role is checked first: an anonymous caller gets 401 and a role without the
    operation 403, whatever the body and query hold. An `idempotent` route given an Idempotency-Key answers a
    repeat with the first answer instead of running again (backend/services/platform/idempotency.py)."""
    try:
        if requires is not None:
            require(actor, requires)
        key = request.headers.get(idempotency.HEADER.lower()) if idempotent and requires is not None else None
        if key is None:
            return endpoint(actor, request)
        return _run_once(endpoint, actor, request, requires, idempotency.check_key(key))
    except DomainError as error:
        return error_response(error)
    except Exception:
        log.exception("unhandled error in %s", getattr(endpoint, "__name__", endpoint))
        return ApiResponse(500, {"error": {"code": "INTERNAL", "message": "Something went wrong; it has been logged."}})


def _run_once(endpoint: Endpoint, actor: Actor, request: ApiRequest, requires: Operation, key: str) -> ApiResponse:
    """Claim the key, run, keep the answer (or release the claim when the answer is a domain error, which
    changed nothing)."""
    used_for = idempotency.fingerprint(request.route_key or request.method, request.path_params, request.raw_body)
    first = idempotency.claim(actor, requires, key, used_for)
    if first is not None:
        return ApiResponse(first.status, first.body)
    response = invoke(endpoint, actor, request)
    if 400 <= response.status < 500:
        idempotency.release(actor, key)
    else:
        idempotency.complete(actor, key, idempotency.StoredAnswer(response.status, response.body))
    return response
