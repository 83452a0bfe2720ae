"""The media library: every stored file, what operators upload to send and what customers sent, newest first,
filtered by kind and source and searched by name; one file with where it is used; a short-lived download link;
delete when nothing uses it any more.

Reads: the library is the sparse `byLibrary` index of MediaFile (one partition, newest first; it carries the
kind, the source and the folded name, so filters and the search test the index entries), then the page's rows
by key (one BatchGetItem). A request reads at most EXAMINE_MAX index entries: a search that stops there says so
(`examined`, `truncated`) and its `nextToken` searches on. Never a Scan.

Roles: every role lists and opens files (MEDIA_READ) and gets their links; Operators and Admins upload and
delete (MEDIA_WRITE). The views carry `canDelete` and `deleteReason`, so no page works the rule out. What "in
use" means is services/media/uses.py.
"""
from __future__ import annotations

from datetime import datetime, timezone

from pydantic import Field

from backend.errors import Conflict, NotFound, ValidationError
from backend.models.base import utcnow
from backend.models.campaigns import BulkJobModel
from backend.models.messaging import LIBRARY_PARTITION, MediaFileModel
from backend.services.contacts.names import contact_names
from backend.services.media import files, links, uses
from backend.services.media.rules import MB, RULES
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.api_model import ApiView
from backend.services.platform import system_config
from backend.services.platform.audit import audit_row
from backend.services.platform.team import team_members
from backend.services.platform.validation import check_choice
from backend.services.storage import page_tokens
from backend.services.storage.batch_reads import rows_by_key
from backend.services.storage.unit_of_work import UnitOfWork, WriteConflict

KINDS = ("image", "video", "audio", "document", "sticker")
SOURCES = ("upload", "inbound")
PAGE_MAX = 100
EXAMINE_MAX = 1_000  # index entries one list request reads, whatever it asks
QUERY_MAX_CHARS = 100
NAMED_USES = 5  # uses a refusal names one by one ("… and 3 more")
_READ_AHEAD = 250  # index entries per Query call while filtering (most may not match)
_KEYS = ("fileId", "libraryPartition", "createdAt")
_INDEX_TAG = "media-library"
CANNOT_DELETE_ROLE = "Deleting files needs the Operator or Admin role."

# What an upload may be, in words, for the page to state (declared once, from the rules the upload checks).
_FORMATS = {
    "image": "JPEG or PNG",
    "video": "MP4 or 3GPP",
    "audio": "AAC, AMR, MP3, M4A or OGG (Opus)",
    "document": "PDF, Word, Excel, PowerPoint, plain text or CSV",
}
_EXTENSIONS = {
    "image/jpeg": [".jpg", ".jpeg"], "image/png": [".png"], "video/mp4": [".mp4"], "video/3gpp": [".3gp"],
    "audio/aac": [".aac"], "audio/amr": [".amr"], "audio/mpeg": [".mp3"], "audio/mp4": [".m4a"], "audio/ogg": [".ogg", ".opus"],
    "application/pdf": [".pdf"], "text/plain": [".txt"], "text/csv": [".csv"], "application/msword": [".doc"],
    "application/vnd.ms-excel": [".xls"], "application/vnd.ms-powerpoint": [".ppt"],
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": [".docx"],
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": [".xlsx"],
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": [".pptx"],
}
UPLOAD_KINDS: tuple[dict, ...] = tuple(
    {"kind": kind, "formats": formats, "limit": f"up to {RULES[kind].max_bytes // MB} MB"} for kind, formats in _FORMATS.items()
)
# The file chooser's filter (MIME type → extensions), for what WhatsApp takes; the service checks the bytes.
UPLOAD_ACCEPT: dict[str, list[str]] = {
    mime: _EXTENSIONS.get(mime, []) for kind in _FORMATS for mime in sorted(RULES[kind].mime_types)
}


class FileUse(ApiView):
    """One thing that still holds the file: a message (sent, queued, or the one it was received with), a
    campaign, or the older uses only counted."""

    kind: str  # message | received | campaign | more
    label: str  # in words: "WhatsApp to Ada Lovelace · delivered"
    at: datetime | None = None
    message_id: str | None = None
    contact_id: str | None = None  # the message's conversation
    channel: str | None = None
    status: str | None = None
    job_id: str | None = None  # the campaign
    count: int = 1


class LibraryFile(ApiView):
    file_id: str
    filename: str | None = None
    name: str  # what to call it: its file name, else its kind and id
    mime_type: str
    kind: str | None = None
    size_bytes: int
    source: str  # upload | inbound
    created_at: datetime
    uploaded_by: str | None = None
    contact_id: str | None = None  # inbound: who sent it
    preview_url: str | None = None  # a short-lived link to show it (a thumbnail in the list: images only)
    use_count: int = 0
    in_use: bool = False
    can_delete: bool = False
    delete_reason: str | None = None


class LibraryFileDetail(LibraryFile):
    sha256: str | None = None
    uploaded_by_name: str | None = None  # who uploaded it, by name
    uses: list[FileUse] = Field(default_factory=list)
    preview_fetch: bool = False  # the preview link downloads (a local PDF): fetch it and show the bytes
    download_url: str
    download_expires_at: datetime


class LibraryPage(ApiView):
    items: list[LibraryFile]
    next_token: str | None = None
    examined: int = 0  # index entries this request read
    truncated: bool = False  # stopped at the read limit: `nextToken` searches on


class DownloadLink(ApiView):
    url: str  # absolute (S3), or a path under the app's API (`/api/media/…`)
    filename: str
    expires_at: datetime


# ---------------------------------------------------------------- list


def list_files(actor: Actor, *, kind: str | None = None, source: str | None = None, q: str | None = None,
               limit: int = 24, next_token: str | None = None) -> LibraryPage:
    """Files newest first; `kind` and `source` filter, `q` is a part of the file name (any case)."""
    require(actor, Operation.MEDIA_READ)
    check_choice("kind", kind, KINDS)
    check_choice("source", source, SOURCES)
    q = q or ""
    if not isinstance(q, str) or len(q) > QUERY_MAX_CHARS:
        raise ValidationError(f"q: at most {QUERY_MAX_CHARS} characters", field="q")
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= PAGE_MAX:
        raise ValidationError(f"limit: between 1 and {PAGE_MAX}", field="limit")
    needle = q.strip().casefold()
    tag = f"{_INDEX_TAG}|{kind}|{source}|{needle}"
    start = page_tokens.decode(next_token, tag, _KEYS) if next_token else None
    filtering = bool(kind or source or needle)
    entries = MediaFileModel.by_library.query(
        LIBRARY_PARTITION, scan_index_forward=False, last_evaluated_key=start,
        page_size=_READ_AHEAD if filtering else limit + 1,
    )
    matched, examined, last, token = [], 0, None, None
    for entry in entries:
        examined, last = examined + 1, entry
        if (not kind or entry.kind == kind) and (not source or entry.source == source) and (not needle or needle in (entry.nameKey or "")):
            matched.append(entry)
            if len(matched) == limit:
                token = _token(entry, tag)
                break
        if examined == EXAMINE_MAX:
            break
    truncated = token is None and examined == EXAMINE_MAX
    if truncated and last is not None:
        token = _token(last, tag)
    now = utcnow()
    rows = rows_by_key(MediaFileModel, [entry.fileId for entry in matched])
    present = [row for row in rows if row is not None]
    sending = uses.campaigns_sending([row.fileId for row in present])
    items = [_library_file(actor, row, now, sending.get(row.fileId, [])) for row in present]
    return LibraryPage(items=items, next_token=token, examined=examined, truncated=truncated)


def _token(entry: MediaFileModel, tag: str) -> str:
    serialized = entry.serialize(null_check=False)
    return page_tokens.encode({name: serialized[name] for name in _KEYS}, tag)


def _library_file(actor: Actor, row: MediaFileModel, now: datetime, sending: list[BulkJobModel]) -> LibraryFile:
    count = uses.recorded_use_count(row, now, sending)
    thumbnail = row.mimeType in links.INLINE_IMAGES
    preview = links.file_link(actor, row, seconds=links.PREVIEW_SECONDS).url if thumbnail else None
    can_delete, reason = _delete_verdict(actor, count, f"In use: {_count_words(count)}." if count else None)
    return LibraryFile(**_common(row), preview_url=preview, use_count=count, in_use=count > 0,
                       can_delete=can_delete, delete_reason=reason)


def _common(row: MediaFileModel) -> dict:
    kind = row.kind or files.file_kind(row.mimeType)
    return {
        "file_id": row.fileId,
        "filename": row.filename,
        "name": row.filename or f"{(kind or 'file').capitalize()} {row.fileId[:8]}",
        "mime_type": row.mimeType,
        "kind": kind,
        "size_bytes": int(row.sizeBytes),
        "source": row.source or ("inbound" if row.messageId else "upload"),
        "created_at": row.createdAt,
        "uploaded_by": row.uploadedBy,
        "contact_id": row.contactId,
    }


def _delete_verdict(actor: Actor, count: int, in_use_reason: str | None) -> tuple[bool, str | None]:
    if not actor.can(Operation.MEDIA_WRITE):
        return False, CANNOT_DELETE_ROLE
    if count:
        return False, in_use_reason
    return True, None


def _count_words(count: int) -> str:
    return "1 message or campaign" if count == 1 else f"{count} messages or campaigns"


# ---------------------------------------------------------------- one file


def get_file(actor: Actor, file_id: str) -> LibraryFileDetail:
    """The file with where it is used (its messages and campaigns read afresh), a preview link where the
    browser can show it, and a download link (five minutes)."""
    require(actor, Operation.MEDIA_READ)
    row = _row(file_id)
    now = utcnow()
    current = [_use_view(use) for use in uses.current_uses(row, now)]
    _name_contacts(actor, current)
    count = sum(use.count for use in current)
    preview = links.file_link(actor, row, seconds=links.PREVIEW_SECONDS) if links.previewable(row.mimeType) else None
    download = links.file_link(actor, row, seconds=links.DOWNLOAD_SECONDS, download=True)
    can_delete, reason = _delete_verdict(actor, count, _in_use_reason(current) if current else None)
    uploader = next((m.name for m in team_members(actor) if m.user_id == row.uploadedBy), None) if row.uploadedBy else None
    return LibraryFileDetail(
        **_common(row), sha256=row.sha256, uploaded_by_name=uploader, uses=current, use_count=count, in_use=bool(current),
        can_delete=can_delete, delete_reason=reason,
        preview_url=preview.url if preview else None, preview_fetch=bool(preview and preview.fetch_to_show),
        download_url=download.url, download_expires_at=datetime.fromtimestamp(download.expires_at, timezone.utc),
    )


def download_link(actor: Actor, file_id: str) -> DownloadLink:
    """A link that downloads the file, valid for five minutes (S3 presigned in AWS, signed by the app locally)."""
    require(actor, Operation.MEDIA_READ)
    row = _row(file_id)
    link = links.file_link(actor, row, seconds=links.DOWNLOAD_SECONDS, download=True)
    return DownloadLink(url=link.url, filename=row.filename or row.fileId,
                        expires_at=datetime.fromtimestamp(link.expires_at, timezone.utc))


def _row(file_id: str) -> MediaFileModel:
    if not isinstance(file_id, str) or not file_id or len(file_id) > 64 or "#" in file_id:
        raise NotFound("No such media file.", field="fileId")
    try:
        return MediaFileModel.get(file_id, consistent_read=True)
    except MediaFileModel.DoesNotExist:
        raise NotFound(f"No media file {file_id!r}.", field="fileId") from None


def _use_view(use: uses.Use) -> FileUse:
    if use.kind == "campaign":
        job = use.job
        return FileUse(kind="campaign", label=f"Campaign “{job.name}” · {job.status}", at=use.at, job_id=job.jobId,
                       channel=job.channel, status=job.status)
    if use.kind == "more":
        until = f"{use.until:%d %b %Y}" if use.until else "later"
        return FileUse(kind="more", label=f"{use.count} earlier message(s), kept until {until}", count=use.count)
    message = use.message
    return FileUse(kind=use.kind, label="", at=use.at, message_id=message.messageId, contact_id=message.contactId,
                   channel=message.channel, status=message.status)


def _name_contacts(actor: Actor, current: list[FileUse]) -> None:
    """Each message's words, naming its contact (one batch read for all of them)."""
    ids = list(dict.fromkeys(use.contact_id for use in current if use.contact_id))
    names = contact_names(actor, ids) if ids else {}
    for use in current:
        if use.kind in ("message", "received"):
            who = names.get(use.contact_id or "", "no contact")
            channel = uses.channel_label(use.channel)
            what = f"{channel} from {who}" if use.kind == "received" else f"{channel} to {who}"
            use.label = f"{what} · {(use.status or '').lower()}"


def _in_use_reason(current: list[FileUse]) -> str:
    named = [use.label for use in current[:NAMED_USES]]
    rest = sum(use.count for use in current[NAMED_USES:])
    more = f" and {rest} more" if rest else ""
    return f"In use by {'; '.join(named)}{more}. A file can be deleted once no message or campaign holds it (messages are kept 30 days)."


# ---------------------------------------------------------------- delete and upload


def delete_file(actor: Actor, file_id: str) -> None:
    """Delete an unused file: its row and audit row in one transaction, then its bytes. In use → Conflict (409)
    naming the uses; a send that records a use meanwhile makes the delete fail rather than lose its file."""
    require(actor, Operation.MEDIA_WRITE)
    row = _row(file_id)
    now = utcnow()
    current = [_use_view(use) for use in uses.current_uses(row, now)]
    if current:
        _name_contacts(actor, current)
        details = [{"kind": use.kind, "reason": use.label, **({"messageId": use.message_id} if use.message_id else {}),
                    **({"contactId": use.contact_id} if use.contact_id else {}), **({"jobId": use.job_id} if use.job_id else {})}
                   for use in current]
        raise Conflict(f"fileId: {_in_use_reason(current)}", field="fileId", details=details)
    unchanged = MediaFileModel.useCount == row.useCount if row.useCount is not None else MediaFileModel.useCount.does_not_exist()
    work = UnitOfWork()
    work.delete(row, MediaFileModel.fileId.exists() & unchanged, label="file")
    work.save(audit_row(actor, "media.delete", "media", row.fileId, ["file"], {
        "filename": row.filename, "mimeType": row.mimeType, "sizeBytes": int(row.sizeBytes), "sha256": row.sha256,
        "source": row.source, "storageKey": row.storageKey,
    }, at=now))
    try:
        work.commit()
    except WriteConflict:
        raise Conflict("fileId: the file was used or deleted while it was being deleted; open it again", field="fileId") from None
    links.remove_bytes(row.storageKey)


def upload_file(actor: Actor, filename: str, data: bytes, mime_type: str) -> LibraryFile:
    """Store an operator's file (files.upload: the type read from the bytes, WhatsApp's types and sizes) and
    return it as the library lists it."""
    stored = files.upload(actor, filename, data, mime_type)
    row = MediaFileModel.get(stored.file_id, consistent_read=True)
    return _library_file(actor, row, utcnow(), [])


# ---------------------------------------------------------------- the files stored before the library


BACKFILL_KEY = "media.libraryBackfill"


def index_earlier_files() -> int:
    """Put the files stored before the library's index in it (and give them an empty record of uses): once per
    installation, at start-up (the one Scan, an offline job; a SystemConfig marker says it is done). How many
    it indexed."""
    if system_config.read(BACKFILL_KEY):
        return 0
    indexed = 0
    for row in MediaFileModel.scan(MediaFileModel.libraryPartition.does_not_exist()):
        actions = [
            MediaFileModel.libraryPartition.set(LIBRARY_PARTITION),
            MediaFileModel.kind.set(row.kind or files.file_kind(row.mimeType) or "document"),
            MediaFileModel.source.set(row.source or ("inbound" if row.messageId else "upload")),
        ]
        if row.filename:
            actions.append(MediaFileModel.nameKey.set(row.filename.casefold()))
        if row.uses is None:
            actions.append(MediaFileModel.uses.set({}))
        try:
            row.update(actions=actions, condition=MediaFileModel.fileId.exists())
        except Exception:  # noqa: BLE001 - deleted meanwhile: nothing to index
            continue
        indexed += 1
    system_config.write(BACKFILL_KEY, {"done": True, "indexed": indexed}, updated_by="system:start-up")
    return indexed
