"""Short-lived links to a stored file, and removing its bytes: an S3 presigned URL in AWS, the app's own signed
link (`files.media_link`, served by the API door) locally. Callers check the role first.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from urllib.parse import quote

from backend.adapters.channels import providers
from backend.models.messaging import MediaFileModel
from backend.services.media import files
from backend.services.platform.access import Actor

log = logging.getLogger(__name__)

PREVIEW_SECONDS = files.LINK_SECONDS  # thumbnails and previews: an hour, as the inbox's
DOWNLOAD_SECONDS = 300  # a download link: five minutes
# What a browser may show inline (the API door serves the same list inline, everything else as a download).
INLINE_IMAGES = frozenset({"image/jpeg", "image/png", "image/webp"})
PDF = "application/pdf"


def previewable(mime_type: str) -> bool:
    """Whether the file page shows the file itself: images, audio, video and PDF documents."""
    return mime_type in INLINE_IMAGES or mime_type.startswith(("audio/", "video/")) or mime_type == PDF


@dataclass(frozen=True)
class Link:
    url: str  # absolute (S3) or the app's path under its API (`/api/media/…`)
    expires_at: float  # epoch seconds
    fetch_to_show: bool = False  # the link downloads (a local PDF): the page fetches it and shows the bytes


def file_link(actor: Actor, row: MediaFileModel, *, seconds: int, download: bool = False, now: float | None = None) -> Link:
    """A link to the file valid for `seconds`: to show it (inline where it can be) or to download it."""
    now = now or time.time()
    store = providers.media_store()
    if store.bucket:
        inline = previewable(row.mimeType) and not download
        disposition = "inline" if inline else _attachment(row.filename or row.fileId)
        url = store.presigned_url(row.storageKey, seconds, mime_type=row.mimeType, disposition=disposition)
        return Link(url, now + seconds)
    # The local link serves images, audio and video inline and a document as an attachment (a document never
    # renders on the app's origin): the page fetches a PDF's bytes and shows them through the browser's viewer.
    return Link(files.media_link(actor, row.fileId, now, seconds=seconds), now + seconds,
                fetch_to_show=row.mimeType == PDF and not download)


def _attachment(filename: str) -> str:
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename).strip() or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def remove_bytes(key: str) -> bool:
    """Delete the stored bytes (after their row is gone: nothing can reach them any more). False, logged, when
    the store refused; the bytes are then orphaned, never a row without its file."""
    try:
        providers.media_store().delete(key)
    except Exception:  # noqa: BLE001 - the delete has committed; a leftover object is logged, not raised
        log.exception("could not remove the bytes of media %s", key)
        return False
    return True
