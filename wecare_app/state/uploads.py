"""Reading an uploaded file into memory without trusting it: the size it declares is checked first, then it is
read in chunks and refused as soon as it passes the limit, so a file that lies about its size costs at most the
limit plus one chunk. (The upload guard, backend/api/upload_guard.py, has already capped the request.)"""
from __future__ import annotations

import reflex as rx

from backend.errors import ValidationError

CHUNK_BYTES = 1024 * 1024


def _too_large(limit: int) -> ValidationError:
    return ValidationError(f"file: larger than {limit / (1024 * 1024):g} MB", field="file")


async def read_upload(upload: rx.UploadFile, limit: int) -> bytes:
    """The file's bytes, or a ValidationError once it is known to be larger than `limit`."""
    if upload.size is not None and upload.size > limit:
        raise _too_large(limit)
    data = bytearray()
    while chunk := await upload.read(min(CHUNK_BYTES, limit + 1 - len(data))):
        data += chunk
        if len(data) > limit:
            raise _too_large(limit)
    return bytes(data)
