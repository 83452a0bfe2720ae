"""Door-independent HTTP: a parsed request, a response, and the one place domain errors become statuses."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from backend.errors import BadRequest, DomainError, ValidationError
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.validation import parse_json

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024


@dataclass
class ApiRequest:
    method: str
    path_params: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    raw_body: bytes | None = b""  # None: the door could not decode it (bad base64 or UTF-8)

    def json(self) -> Any:
        """The JSON body; a clear 400 if it is missing, too large or not JSON."""
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
    status: int
    body: Any = None

    def json_bytes(self) -> bytes:
        return b"" if self.body is None else json.dumps(self.body, separators=(",", ":")).encode()


Endpoint = Callable[[Actor, ApiRequest], ApiResponse]


def error_response(error: DomainError) -> ApiResponse:
    return ApiResponse(error.http_status, {"error": error.to_dict()})


def invoke(endpoint: Endpoint, actor: Actor, request: ApiRequest, requires: Operation | None = None) -> ApiResponse:
    """Run an endpoint; domain errors become their status, anything else a logged 500 without internals. With
    `requires`, the caller's role is checked first: an anonymous caller gets 401 and a role without the
    operation 403, whatever the body and query hold."""
    try:
        if requires is not None:
            require(actor, requires)
        return endpoint(actor, request)
    except DomainError as error:
        return error_response(error)
    except Exception:
        log.exception("unhandled error in %s", getattr(endpoint, "__name__", endpoint))
        return ApiResponse(500, {"error": {"code": "INTERNAL", "message": "Something went wrong; it has been logged."}})
