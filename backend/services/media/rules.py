"""What WhatsApp media may be: MIME types and size limits per kind, checked on the way in and out."""
from __future__ import annotations

from dataclasses import dataclass

from backend.errors import ValidationError
from backend.services.rules.file_types import base_mime

MB = 1024 * 1024


@dataclass(frozen=True)
class MediaRule:
    max_bytes: int
    mime_types: frozenset[str]


RULES: dict[str, MediaRule] = {
    "image": MediaRule(5 * MB, frozenset({"image/jpeg", "image/png"})),
    "video": MediaRule(16 * MB, frozenset({"video/mp4", "video/3gpp"})),
    "audio": MediaRule(16 * MB, frozenset({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"})),
    "document": MediaRule(
        100 * MB,
        frozenset(
            {
                "application/pdf",
                "text/plain",
                "text/csv",
                "application/msword",
                "application/vnd.ms-excel",
                "application/vnd.ms-powerpoint",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            }
        ),
    ),
    "sticker": MediaRule(500 * 1024, frozenset({"image/webp"})),
}
# The largest file an operator may upload to send (stickers are only ever received).
MAX_UPLOAD_BYTES = max(RULES[kind].max_bytes for kind in ("image", "video", "audio", "document"))


def check_media(kind: str, mime_type: str | None, size_bytes: int, *, field: str = "media") -> str:
    """The normalised MIME type, or a ValidationError naming what is wrong."""
    rule = RULES.get(kind)
    if rule is None:
        raise ValidationError(f"{field}: unknown media kind {kind!r}", field=field)
    mime = base_mime(mime_type)
    if mime not in rule.mime_types:
        allowed = ", ".join(sorted(rule.mime_types))
        raise ValidationError(f"{field}: {kind} must be one of {allowed}, not {mime or 'unknown'}", field=field)
    if size_bytes > rule.max_bytes:
        raise ValidationError(
            f"{field}: {kind} is {size_bytes / MB:.1f} MB, the limit is {rule.max_bytes / MB:g} MB", field=field
        )
    return mime


def kind_for_mime(mime_type: str | None) -> str | None:
    """The media kind an uploaded file would be sent as (stickers are only ever received)."""
    mime = base_mime(mime_type)
    for kind in ("image", "video", "audio", "document"):
        if mime in RULES[kind].mime_types:
            return kind
    return None
