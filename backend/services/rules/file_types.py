"""What an uploaded file is, read from its bytes: a browser's content type comes from the file's name, so a
renamed file claims to be what it is not. The type we store and send is one its first bytes confirm
(`filetype` reads the signatures)."""
from __future__ import annotations

import mimetypes
import os

import filetype

from backend.errors import ValidationError

TEXT_TYPES = frozenset({"text/plain", "text/csv"})
UNDECLARED = frozenset({"", "application/octet-stream"})  # what a browser sends when the name tells it nothing
_CSV_AS_EXCEL = "application/vnd.ms-excel"  # what Windows browsers declare for a .csv when Excel is installed
_OLE = "application/x-ole-storage"  # Office 97-2003 files whose kind the sniffer cannot tell apart

# One container holds several declared types: the bytes show the container, the declared type names what is
# inside it, so within a family the declared type stands.
_FAMILIES = (
    frozenset({
        "application/zip",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    }),
    frozenset({_OLE, "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint"}),
    frozenset({"video/mp4", "audio/mp4", "video/x-m4v", "video/3gpp"}),
)
_CHECKABLE = frozenset({kind.mime for kind in filetype.types}).union(TEXT_TYPES, *_FAMILIES)


def base_mime(mime_type: str | None) -> str:
    """"audio/ogg; codecs=opus" → "audio/ogg"."""
    return (mime_type or "").split(";")[0].strip().lower()


def sniff(data: bytes) -> str | None:
    """The type the first bytes show, or None for bytes with no known signature (plain text among them)."""
    head = data[:8192]
    found = filetype.guess_mime(head)
    if found is None and head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _OLE
    return found


def _agree(claimed: str, sniffed: str) -> bool:
    return claimed == sniffed or any(claimed in family and sniffed in family for family in _FAMILIES)


def _looks_like(sniffed: str | None, claimed: str, field: str, why: str = "") -> ValidationError:
    return ValidationError(f"{field}: the file looks like {sniffed or 'unrecognised data'}, not {claimed}{why}", field=field)


def refuse_binary(data: bytes, claimed: str, *, field: str = "file") -> None:
    """A text file (CSV, plain text) must not carry a binary format's signature."""
    sniffed = sniff(data)
    if sniffed is not None:
        raise _looks_like(sniffed, claimed, field)


def _named_type(filename: str | None) -> tuple[str, str | None]:
    """The file name's extension and the type it names, when that is a type the bytes can confirm or refute
    (system MIME tables spell the rest in several ways)."""
    extension = os.path.splitext(filename or "")[1].lower()
    named = mimetypes.types_map.get(extension)
    return extension, named if named in _CHECKABLE else None


def content_type(filename: str | None, declared: str | None, data: bytes, *, field: str = "file") -> str:
    """The type to store for an upload: the declared type when the bytes and the name's extension agree with
    it (a text type: when the bytes show no binary format), the sniffed one when nothing was declared. A
    ValidationError says what the file looks like."""
    claimed = base_mime(declared)
    sniffed = sniff(data)
    extension, named = _named_type(filename)
    if sniffed is None and named in TEXT_TYPES and claimed in UNDECLARED | {_CSV_AS_EXCEL}:
        claimed = named
    elif claimed in UNDECLARED:
        if sniffed is None:
            raise ValidationError(f"{field}: the type of this file cannot be recognised", field=field)
        claimed = sniffed
    if claimed in TEXT_TYPES:
        if sniffed is not None:
            raise _looks_like(sniffed, claimed, field)
    elif sniffed is None or not _agree(claimed, sniffed):
        raise _looks_like(sniffed, claimed, field)
    if named and not _agree(named, claimed):
        raise _looks_like(sniffed or claimed, named, field, f" (its name ends in {extension})")
    return claimed
