"""Media files: what operators upload to send, and what customers sent us, in the media store."""
from __future__ import annotations

import hashlib
import time
import uuid

from backend.adapters.channels import providers
from backend.errors import NotFound, ValidationError
from backend.models.base import utcnow
from backend.models.messaging import LIBRARY_PARTITION, MediaFileModel
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.api_model import ApiView
from backend.services.platform.audit import audit_row
from backend.services.media.rules import check_media, kind_for_mime
from backend.services.rules.file_types import content_type
from backend.services.storage.unit_of_work import UnitOfWork
from backend.services.platform.users import server_signer

MAX_FILENAME = 240


class MediaFile(ApiView):
    file_id: str
    mime_type: str
    size_bytes: int
    filename: str | None = None
    kind: str | None = None
    contact_id: str | None = None
    message_id: str | None = None


def file_kind(mime_type: str | None) -> str | None:
    """What a stored file is: the kind it is sent as, or a sticker (received only)."""
    return kind_for_mime(mime_type) or ("sticker" if mime_type == "image/webp" else None)


def to_media_file(row: MediaFileModel) -> MediaFile:
    return MediaFile(
        file_id=row.fileId,
        mime_type=row.mimeType,
        size_bytes=int(row.sizeBytes),
        filename=row.filename,
        kind=file_kind(row.mimeType),
        contact_id=row.contactId,
        message_id=row.messageId,
    )


def new_media_row(*, file_id: str, mime_type: str, data: bytes, storage_key: str, **attributes) -> MediaFileModel:
    """A stored file's row, listed in the media library (byLibrary): what an operator uploads, and what a
    customer sent (the row names its message)."""
    filename = attributes.get("filename")
    return MediaFileModel(
        fileId=file_id,
        mimeType=mime_type,
        sizeBytes=len(data),
        storageKey=storage_key,
        sha256=hashlib.sha256(data).hexdigest(),
        createdAt=utcnow(),
        libraryPartition=LIBRARY_PARTITION,
        kind=file_kind(mime_type),
        source="inbound" if attributes.get("messageId") else "upload",
        nameKey=filename.casefold() if filename else None,
        uses={},
        **attributes,
    )


def upload(actor: Actor, filename: str, data: bytes, mime_type: str) -> MediaFile:
    """Store a file an operator will send. Its type is read from its bytes (the declared type and the name must
    agree with them), then checked with its size against WhatsApp's limits."""
    require(actor, Operation.MEDIA_WRITE)
    sniffed = content_type(filename, mime_type, data, field="file")
    kind = kind_for_mime(sniffed)
    if kind is None:
        raise ValidationError(f"file: {sniffed} cannot be sent; use JPEG/PNG, MP4, audio or a document", field="file")
    mime = check_media(kind, sniffed, len(data), field="file")
    file_id = uuid.uuid4().hex
    key = f"uploads/{file_id}"
    providers.media_store().put(key, data, mime)
    row = new_media_row(file_id=file_id, mime_type=mime, data=data, storage_key=key, filename=(filename or "")[:MAX_FILENAME] or None,
                        uploadedBy=actor.user_id)
    work = UnitOfWork()
    work.save(row, MediaFileModel.fileId.does_not_exist())
    work.save(audit_row(actor, "media.upload", "media", file_id, ["file"], {"mimeType": mime, "sizeBytes": len(data)}))
    work.commit()
    return to_media_file(row)


def media_row(file_id: str) -> MediaFileModel:
    if not isinstance(file_id, str) or not file_id or len(file_id) > 64:
        raise NotFound("No such media file.", field="fileId")
    try:
        return MediaFileModel.get(file_id)
    except MediaFileModel.DoesNotExist:
        raise NotFound(f"No media file {file_id!r}.", field="fileId") from None


LINK_SECONDS = 3600


def media_link(actor: Actor, file_id: str, now: float | None = None, *, seconds: int = LINK_SECONDS) -> str:
    """A link a browser can open without a bearer header (an <img src>): signed, valid for an hour (or
    `seconds`: a download's link lives a few minutes)."""
    require(actor, Operation.MEDIA_READ)
    expires = int((now or time.time()) + seconds)
    signature = server_signer().sign_text(f"media:{file_id}:{expires}")
    return f"/api/media/{file_id}?expires={expires}&signature={signature}"


def open_media_link(file_id: str, expires: str, signature: str, now: float | None = None) -> tuple[MediaFile, bytes]:
    """The file behind a signed link; NotFound for a forged, altered or expired link (nothing is revealed)."""
    try:
        expires_at = int(expires)
    except (TypeError, ValueError):
        raise NotFound("No such media file.", field="fileId") from None
    if expires_at < (now or time.time()) or not server_signer().text_signed(f"media:{file_id}:{expires_at}", signature):
        raise NotFound("No such media file (the link is invalid or expired).", field="fileId")
    row = media_row(file_id)
    return to_media_file(row), providers.media_store().get(row.storageKey)


def read_media(actor: Actor, file_id: str) -> tuple[MediaFile, bytes]:
    require(actor, Operation.MEDIA_READ)
    row = media_row(file_id)
    return to_media_file(row), providers.media_store().get(row.storageKey)
