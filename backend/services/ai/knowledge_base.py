"""The knowledge base's documents: uploaded into the media store, indexed in the background, listed with their
state, re-indexed and deleted (Admins manage; every role with AI access reads the list).

A document is a MediaFile row under the KNOWLEDGE partition of the byLibrary index (never in the media
library) with `kbStatus` queued → indexing → indexed | failed (`kbError` says why in words). Each queueing bumps
`kbVersion`; the indexer claims the version it was given and finishes only that version, so a re-index or a
delete during indexing wins. The local index (backend/adapters/knowledge_index.py) keeps each document's
passages under `<data_dir>/knowledge`; a change re-reads only that document.

Indexing runs on one background thread of the process that queued it. A process that starts picks up what a
stopped one left queued or half-done (`resume_indexing`), and re-queues indexed documents the local index does
not hold (a wiped data directory).

In AWS (`ai_knowledge_base_id` and `ai_data_source_id` set, media in S3) answers come from the Bedrock knowledge
base whose S3 data source is the media bucket, so indexing a document there means: extract it here as locally (an
unreadable or encrypted file fails with the same reasons, and the passage count is shown), write its metadata
sidecar (document id and title, which citations carry back), ingest that one document
(IngestKnowledgeBaseDocuments) and follow its state until Bedrock reports it indexed or failed (with Bedrock's
reason), for at most INGEST_WAIT_SECONDS. A delete removes it from the knowledge base as well. No full sync runs,
and the local index is not written.
"""
from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from pynamodb.exceptions import UpdateError

from backend.adapters.channels import providers
from backend.errors import Conflict, NotFound, ValidationError
from backend.models.base import utcnow
from backend.models.messaging import KNOWLEDGE_PARTITION, MediaFileModel
from backend.services.ai.kb_text import KINDS, ExtractionError, mime_type_for, passages_of
from backend.services.ai.sample import sample_documents
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.api_model import ApiView
from backend.services.platform.audit import audit_row
from backend.services.storage.batch_reads import rows_by_key
from backend.services.storage.unit_of_work import UnitOfWork, WriteConflict
from backend.settings import get_settings

log = logging.getLogger(__name__)

RESOURCE = "knowledge_document"
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_TITLE = 200
MAX_DOCUMENTS = 500  # listed on one page
STATUSES = ("queued", "indexing", "indexed", "failed")
TYPES_TEXT = "PDF, DOCX, TXT, Markdown or HTML"


class KnowledgeDocument(ApiView):
    document_id: str
    title: str
    filename: str
    mime_type: str
    size_bytes: int
    status: str  # queued | indexing | indexed | failed
    error: str | None = None
    passages: int = 0
    uploaded_by: str | None = None
    created_at: datetime
    indexed_at: datetime | None = None
    sample: bool = False
    can_manage: bool = False  # re-index and delete (Admins)


class KnowledgeBase(ApiView):
    documents: list[KnowledgeDocument]
    counts: dict[str, int]  # per status
    passages: int  # in the local index now (Bedrock: the indexed documents' passages as extracted here)
    retrieval: str  # where answers are retrieved from, in words
    can_manage: bool
    manage_reason: str
    can_load_sample: bool  # the base is empty and the caller may manage it


class SampleLoad(ApiView):
    added: int
    already: int
    documents: list[KnowledgeDocument]


# ---------------------------------------------------------------- the index and the worker


@lru_cache(maxsize=4)
def _index_at(root: Path):
    from backend.adapters.knowledge_index import LocalKnowledgeIndex  # bm25s and numpy: only where it indexes

    return LocalKnowledgeIndex(root)


def local_index():
    return _index_at(Path(get_settings().data_dir).resolve() / "knowledge")


INGEST_WAIT_SECONDS = 600
INGEST_POLL_SECONDS = 5.0


def bedrock_documents():
    """The Bedrock knowledge base's documents when this deployment answers from one (and keeps media in S3); else
    None: the local index is the knowledge base."""
    settings = get_settings()
    if not (settings.ai_knowledge_base_id and settings.ai_data_source_id and providers.media_store().bucket):
        return None
    from backend.adapters.bedrock_ai import BedrockDocuments

    return BedrockDocuments(settings.ai_knowledge_base_id, settings.ai_data_source_id, region=settings.aws_region,
                            timeout=settings.ai_timeout_seconds)


def _token(document_id: str, version: int, action: str) -> str:
    """An idempotency token Bedrock accepts (33+ characters): a retried call of one version is one ingestion."""
    return hashlib.sha256(f"{document_id}:{version}:{action}".encode()).hexdigest()


def _ingest(bedrock, row: MediaFileModel, version: int) -> tuple[str, str | None]:
    """Ingest one document into the Bedrock knowledge base and wait for its state: ("indexed", None) or
    ("failed", the reason in words)."""
    from backend.adapters.bedrock_ai import METADATA_SUFFIX, AiUnavailable, metadata_sidecar, s3_uri

    store = providers.media_store()
    sidecar = row.storageKey + METADATA_SUFFIX
    uri = s3_uri(store.bucket, row.storageKey)
    try:
        store.put(sidecar, metadata_sidecar(row.fileId, row.title or row.filename or row.fileId), "application/json")
        state = bedrock.ingest(uri, s3_uri(store.bucket, sidecar), _token(row.fileId, version, "ingest"))
        deadline = time.monotonic() + INGEST_WAIT_SECONDS
        while not (state.indexed or state.failed):
            if time.monotonic() >= deadline:
                return "failed", (f"Bedrock had not finished indexing the document after {INGEST_WAIT_SECONDS // 60} "
                                  "minutes; re-index it to check again.")
            time.sleep(INGEST_POLL_SECONDS)
            state = bedrock.state(uri)
    except AiUnavailable as failure:
        return "failed", f"Bedrock could not take the document: {failure.reason}"
    if state.failed:
        return "failed", f"Bedrock could not index the document ({state.status.lower().replace('_', ' ')})" + (
            f": {state.reason}" if state.reason else ".")
    return "indexed", None


def _remove_from_bedrock(bedrock, row: MediaFileModel) -> None:
    from backend.adapters.bedrock_ai import METADATA_SUFFIX, AiUnavailable, s3_uri

    store = providers.media_store()
    try:
        bedrock.delete(s3_uri(store.bucket, row.storageKey), _token(row.fileId, int(row.kbVersion or 0), "delete"))
    except AiUnavailable:
        log.warning("removing knowledge document %s from the Bedrock knowledge base failed; a data source sync "
                    "removes it (its file is gone)", row.fileId)
    store.delete(row.storageKey + METADATA_SUFFIX)


_worker_lock = threading.Lock()
_worker: ThreadPoolExecutor | None = None
_pending: set[Future] = set()


def _queue(document_id: str, version: int) -> None:
    global _worker
    with _worker_lock:
        if _worker is None:
            _worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kb-index")
        future = _worker.submit(index_document, document_id, version)
        _pending.add(future)
    future.add_done_callback(_pending.discard)


def wait_idle(timeout: float = 60.0) -> None:
    """Until every queued indexing has finished (tests, the CLI)."""
    for future in list(_pending):
        future.result(timeout=timeout)


def index_document(document_id: str, version: int) -> str:
    """Index one version of a document; returns the status it ended in ("superseded" when another version or
    a delete overtook it)."""
    try:
        row = MediaFileModel.get(document_id, consistent_read=True)
        row.update(actions=[MediaFileModel.kbStatus.set("indexing")],
                   condition=(MediaFileModel.kbVersion == version) & (MediaFileModel.kbStatus == "queued"))
    except (MediaFileModel.DoesNotExist, UpdateError):
        return "superseded"
    status, error, count = "indexed", None, 0
    bedrock = bedrock_documents()
    try:
        data = providers.media_store().get(row.storageKey)
        passages = passages_of(row.filename or "", data, row.mimeType)
        if bedrock is None:
            count = local_index().replace_document(document_id, row.title or row.filename or document_id, passages)
        else:
            count = len(passages)
            status, error = _ingest(bedrock, row, version)
    except ExtractionError as failure:
        status, error = "failed", failure.reason
    except FileNotFoundError:
        status, error = "failed", "The document's file is missing from the media store; upload it again."
    except Exception as failure:  # noqa: BLE001 — a document must end failed, never stuck "indexing"
        log.exception("indexing knowledge document %s failed", document_id)
        status, error = "failed", f"Indexing failed unexpectedly ({type(failure).__name__}); try re-indexing."
    if status == "failed" and bedrock is None:
        _forget_quietly(document_id)
    actions = [MediaFileModel.kbStatus.set(status), MediaFileModel.kbPassages.set(count)]
    actions += [MediaFileModel.kbIndexedAt.set(utcnow()), MediaFileModel.kbError.remove()] if status == "indexed" \
        else [MediaFileModel.kbError.set(error)]
    try:
        row.update(actions=actions, condition=MediaFileModel.kbVersion == version)
    except UpdateError:
        if not _exists(document_id):
            _forget_quietly(document_id)  # deleted while indexing: its passages go too
        return "superseded"
    return status


def _forget_quietly(document_id: str) -> None:
    try:
        local_index().remove_document(document_id)
    except Exception:  # noqa: BLE001 — the row is gone already; a damaged index is logged, re-indexing mends it
        log.exception("removing knowledge document %s from the index failed", document_id)


def _exists(document_id: str) -> bool:
    try:
        MediaFileModel.get(document_id, consistent_read=True, attributes_to_get=["fileId"])
        return True
    except MediaFileModel.DoesNotExist:
        return False


def resume_indexing() -> int:
    """Queue what a stopped process left: queued or half-indexed documents, and indexed ones the local index
    lacks. Returns how many were queued."""
    held = local_index().document_ids() if bedrock_documents() is None else None  # Bedrock keeps its own
    queued = 0
    for row in _rows():
        if row.kbStatus in ("queued", "indexing") or (
                row.kbStatus == "indexed" and held is not None and row.fileId not in held):
            version = _requeue(row)
            if version is not None:
                _queue(row.fileId, version)
                queued += 1
    return queued


# ---------------------------------------------------------------- reading


def _rows() -> list[MediaFileModel]:
    entries = MediaFileModel.by_library.query(KNOWLEDGE_PARTITION, scan_index_forward=False, limit=MAX_DOCUMENTS)
    return [row for row in rows_by_key(MediaFileModel, [entry.fileId for entry in entries]) if row is not None]


def _view(actor: Actor, row: MediaFileModel) -> KnowledgeDocument:
    return KnowledgeDocument(
        document_id=row.fileId, title=row.title or row.filename or row.fileId, filename=row.filename or "",
        mime_type=row.mimeType, size_bytes=int(row.sizeBytes), status=row.kbStatus or "queued", error=row.kbError,
        passages=int(row.kbPassages or 0), uploaded_by=row.uploadedBy, created_at=row.createdAt,
        indexed_at=row.kbIndexedAt, sample=row.fileId.startswith(_SAMPLE_PREFIX),
        can_manage=actor.can(Operation.AI_ADMIN),
    )


def retrieval_source_text() -> str:
    kb_id = get_settings().ai_knowledge_base_id
    return f"Bedrock knowledge base {kb_id}" if kb_id else "Local index (BM25 over the knowledge base's documents)"


def list_documents(actor: Actor) -> KnowledgeBase:
    require(actor, Operation.AI_READ)
    documents = [_view(actor, row) for row in _rows()]
    counts = {status: sum(1 for d in documents if d.status == status) for status in STATUSES}
    manage = actor.can(Operation.AI_ADMIN)
    return KnowledgeBase(
        documents=documents, counts=counts, retrieval=retrieval_source_text(),
        passages=local_index().size() if bedrock_documents() is None else sum(
            d.passages for d in documents if d.status == "indexed"),
        can_manage=manage, manage_reason="" if manage else f"Your role ({actor.role.value if actor.role else 'none'}) "
                                                          "cannot change the knowledge base; an Admin can.",
        can_load_sample=manage and not documents,
    )


def _row(document_id: str) -> MediaFileModel:
    if not isinstance(document_id, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", document_id):
        raise NotFound("No such document.", field="documentId")
    try:
        row = MediaFileModel.get(document_id, consistent_read=True)
    except MediaFileModel.DoesNotExist:
        raise NotFound(f"No knowledge-base document {document_id!r}.", field="documentId") from None
    if row.libraryPartition != KNOWLEDGE_PARTITION:
        raise NotFound(f"No knowledge-base document {document_id!r}.", field="documentId")
    return row


def get_document(actor: Actor, document_id: str) -> KnowledgeDocument:
    require(actor, Operation.AI_READ)
    return _view(actor, _row(document_id))


# ---------------------------------------------------------------- changing


def _check_upload(filename: str, data: bytes, declared: str | None) -> str:
    if not isinstance(filename, str) or not filename.strip() or len(filename) > 240 or any(ord(c) < 32 for c in filename):
        raise ValidationError("filename: the document's file name (at most 240 characters)", field="filename")
    if not data:
        raise ValidationError("file: the document is empty", field="file")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise ValidationError(f"file: {len(data):,} bytes; a document may have at most {MAX_DOCUMENT_BYTES // 1024 // 1024} MB",
                              field="file")
    mime = mime_type_for(filename, declared)
    if mime is None:
        raise ValidationError(f"file: {filename} is not a {TYPES_TEXT} document", field="file")
    kind = KINDS[mime]
    if kind == "pdf" and not data.startswith(b"%PDF-"):
        raise ValidationError("file: the file is named .pdf but is not a PDF", field="file")
    if kind == "docx" and not data.startswith(b"PK\x03\x04"):
        raise ValidationError("file: the file is named .docx but is not a Word document", field="file")
    if kind in ("text", "markdown", "html") and b"\x00" in data[:8192]:
        raise ValidationError(f"file: the file is named as text ({filename}) but holds binary data", field="file")
    return mime


def _title(title: str | None, filename: str) -> str:
    text = " ".join((title or "").split()) or re.sub(r"[-_]+", " ", Path(filename).stem).strip().capitalize() or filename
    if len(text) > MAX_TITLE:
        raise ValidationError(f"title: at most {MAX_TITLE} characters", field="title")
    return text


def upload_document(actor: Actor, filename: str, data: bytes, mime_type: str | None = None, *,
                    title: str | None = None, document_id: str | None = None) -> KnowledgeDocument:
    """Store a document and queue it for indexing."""
    require(actor, Operation.AI_ADMIN)
    mime = _check_upload(filename, data, mime_type)
    document_id = document_id or uuid.uuid4().hex
    name = filename.strip()
    # Each upload its own key: a refused upload (a document id taken meanwhile) never touches another's file.
    key = f"knowledge/{document_id}/{uuid.uuid4().hex[:8]}-{re.sub(r'[^A-Za-z0-9._-]+', '-', name)[:120] or 'document'}"
    providers.media_store().put(key, data, mime)
    row = MediaFileModel(
        fileId=document_id, mimeType=mime, sizeBytes=len(data), storageKey=key, filename=name,
        sha256=hashlib.sha256(data).hexdigest(), createdAt=utcnow(), libraryPartition=KNOWLEDGE_PARTITION,
        kind="document", source="knowledge", nameKey=name.casefold(), uploadedBy=actor.user_id,
        title=_title(title, name), kbStatus="queued", kbVersion=1, kbPassages=0,
    )
    work = UnitOfWork()
    work.save(row, MediaFileModel.fileId.does_not_exist())
    work.save(audit_row(actor, "ai.document.upload", RESOURCE, document_id, ["file"],
                        {"filename": name, "mimeType": mime, "sizeBytes": len(data)}))
    try:
        work.commit()
    except WriteConflict:
        providers.media_store().delete(key)
        raise Conflict(f"A document {document_id!r} is already in the knowledge base.", field="documentId") from None
    _queue(document_id, 1)
    return _view(actor, row)


def _requeue(row: MediaFileModel, audit=None) -> int | None:
    """Queue the document's next version (with the audit row, when a person asked); None if it changed meanwhile."""
    version = int(row.kbVersion or 0) + 1
    work = UnitOfWork()
    work.update(row, [MediaFileModel.kbStatus.set("queued"), MediaFileModel.kbVersion.set(version)],
                MediaFileModel.kbVersion == row.kbVersion if row.kbVersion is not None
                else MediaFileModel.kbVersion.does_not_exist())
    if audit is not None:
        work.save(audit)
    try:
        work.commit()
    except (UpdateError, WriteConflict):
        return None
    return version


def reindex_document(actor: Actor, document_id: str) -> KnowledgeDocument:
    """Extract, cut and index the document again (after a failure, or when the extraction improved)."""
    require(actor, Operation.AI_ADMIN)
    row = _row(document_id)
    version = _requeue(row, audit_row(actor, "ai.document.reindex", RESOURCE, document_id, ["kbStatus"],
                                      {"before": row.kbStatus, "after": "queued"}))
    if version is None:
        raise Conflict("The document changed meanwhile; reload and try again.", field="documentId")
    _queue(document_id, version)
    return _view(actor, _row(document_id))


def delete_document(actor: Actor, document_id: str) -> None:
    """The document, its file and its passages go; answers stop citing it at once."""
    require(actor, Operation.AI_ADMIN)
    row = _row(document_id)
    work = UnitOfWork()
    work.delete(row, MediaFileModel.fileId.exists())
    work.save(audit_row(actor, "ai.document.delete", RESOURCE, document_id, ["file"],
                        {"filename": row.filename, "title": row.title}))
    try:
        work.commit()
    except WriteConflict:
        raise NotFound(f"No knowledge-base document {document_id!r} (deleted meanwhile).", field="documentId") from None
    bedrock = bedrock_documents()
    if bedrock is None:
        _forget_quietly(document_id)
    else:
        _remove_from_bedrock(bedrock, row)
    providers.media_store().delete(row.storageKey)


_SAMPLE_PREFIX = "sample-"


def load_sample(actor: Actor) -> SampleLoad:
    """Add the sample handbook's documents that are not there yet (loading twice adds nothing)."""
    require(actor, Operation.AI_ADMIN)
    documents = sample_documents()
    present = {row.fileId: row for row in rows_by_key(MediaFileModel, [d.document_id for d in documents], consistent=True)
               if row is not None}
    added, views = 0, []
    for document in documents:
        if document.document_id in present:
            views.append(_view(actor, present[document.document_id]))
            continue
        views.append(upload_document(actor, document.filename, document.data, document.mime_type,
                                     title=document.title, document_id=document.document_id))
        added += 1
    if added:
        audit_row(actor, "ai.sample.load", RESOURCE, "sample", [], {"added": added}).save()
    return SampleLoad(added=added, already=len(documents) - added, documents=views)
