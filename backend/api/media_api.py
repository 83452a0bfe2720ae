"""Media library endpoints: list, read (with where the file is used and short-lived links), delete when unused,
and upload.

The paths are under `/media/files`: locally `/api/media/{fileId}` is the signed content link the inbox's
previews use (asgi_door.media_file), which a route at `/media/{fileId}` would shadow.

An upload's body is the file itself (its Content-Type the file's type, `filename` in the query). Its declared
length is checked before the body is touched; the doors read at most MAX_BODY_BYTES of a body, so larger
files go through the app's upload (wecare_app/pages/media), which takes WhatsApp's own limits.
"""
from __future__ import annotations

from backend.api.http import MAX_BODY_BYTES, ApiRequest, ApiResponse
from backend.errors import BadRequest, ValidationError
from backend.services.media import library
from backend.services.platform.access import Actor, Operation, require

MAX_API_UPLOAD_BYTES = MAX_BODY_BYTES  # what either door reads of a body


class PayloadTooLarge(BadRequest):
    code = "PAYLOAD_TOO_LARGE"
    http_status = 413


def list_files(actor: Actor, request: ApiRequest) -> ApiResponse:
    page = library.list_files(
        actor, kind=request.query.get("kind") or None, source=request.query.get("source") or None,
        q=request.query.get("q") or None, limit=request.int_param("limit", 24), next_token=request.query.get("nextToken") or None,
    )
    return ApiResponse(200, page.to_api())


def read(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, library.get_file(actor, request.path_params["fileId"]).to_api())


def delete(actor: Actor, request: ApiRequest) -> ApiResponse:
    library.delete_file(actor, request.path_params["fileId"])
    return ApiResponse(204)


def upload(actor: Actor, request: ApiRequest) -> ApiResponse:
    """The role and the declared size first (nothing of the body is used before), then the service reads the
    type from the bytes."""
    require(actor, Operation.MEDIA_WRITE)
    filename, body = file_body(request, "the app's media library")
    stored = library.upload_file(actor, filename, body, request.headers.get("content-type") or "")
    return ApiResponse(201, stored.to_api())


def file_body(request: ApiRequest, larger_in: str) -> tuple[str, bytes]:
    """An upload's `filename` and bytes, after its declared and actual size (call it after the role check).
    `larger_in` names where files above the API's limit go."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_API_UPLOAD_BYTES):
        raise _too_large(larger_in)
    body = request.raw_body
    if body is None:
        raise BadRequest("Request body could not be decoded (base64).", field="body")
    if len(body) > MAX_API_UPLOAD_BYTES:
        raise _too_large(larger_in)
    if not body:
        raise ValidationError("file: the body is empty; send the file's bytes", field="file")
    filename = request.query.get("filename") or ""
    if len(filename) > 255:
        raise ValidationError("filename: at most 255 characters", field="filename")
    return filename, body


def _too_large(larger_in: str) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"body: the API takes files up to {MAX_API_UPLOAD_BYTES // 1024} KB; upload larger ones in {larger_in}",
        field="body",
    )
