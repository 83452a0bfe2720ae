"""Media a customer sent: fetched from WhatsApp into the media store, checked, and recorded.

A failed fetch never loses the message: it is stored with its caption and the media marked pending, and
`retry_pending_media` (on a schedule) tries again, up to MAX_FETCH_ATTEMPTS.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from pynamodb.exceptions import UpdateError

from backend.adapters.channels import providers
from backend.errors import ValidationError
from backend.models.base import utcnow
from backend.models.messaging import PENDING_MEDIA, MessageModel
from backend.services.media.files import new_media_row
from backend.services.media.rules import check_media
from backend.services.storage.unit_of_work import UnitOfWork, WriteConflict
from backend.settings import get_settings

log = logging.getLogger(__name__)
MAX_FETCH_ATTEMPTS = 5


def fetch_media(row: MessageModel) -> str:
    """Fetch the message's media; returns the media status afterwards (stored | pending | rejected | failed), or
    "deleted" when the message was deleted meanwhile (it stays deleted)."""
    media = row.media
    key = f"inbound/{row.messageId}/{media.providerMediaId}"
    store = providers.media_store()
    try:
        fetched = providers.WHATSAPP.get().fetch_media(
            media.providerMediaId,
            origination=get_settings().whatsapp_phone_number_id,  # our number's id at AWS, not Meta's
            store=store,
            key=key,
            mime_type_hint=media.mimeType,
        )
    except Exception as error:  # noqa: BLE001 - any failure leaves the media pending, never the message lost
        return _fetch_failed(row, str(error) or type(error).__name__)
    try:
        mime = check_media(media.kind, fetched.mime_type or media.mimeType, fetched.size_bytes)
    except ValidationError as error:
        return _set_media(row, status="rejected", error=error.message, size=fetched.size_bytes)
    data = store.get(key)
    file_row = new_media_row(
        file_id=row.messageId, mime_type=mime, data=data, storage_key=key, filename=media.filename,
        contactId=row.contactId, messageId=row.messageId,
    )
    work = UnitOfWork()
    work.save(file_row)
    work.update(row, _media_actions(row, status="stored", file_id=file_row.fileId, mime=mime, size=len(data)),
                MessageModel.messageId.exists(), label="message")
    try:
        work.commit()
    except WriteConflict:
        return "deleted"  # the message was deleted meanwhile: no media row for it, and the message stays deleted
    return "stored"


def _media_actions(row: MessageModel, *, status: str, file_id=None, mime=None, size=None, error=None) -> list:
    media = row.media
    media.status = status
    media.fileId = file_id or media.fileId
    media.mimeType = mime or media.mimeType
    media.sizeBytes = size if size is not None else media.sizeBytes
    media.error = error
    actions = [MessageModel.media.set(media), MessageModel.updatedAt.set(utcnow())]
    actions.append(MessageModel.pendingWork.set(PENDING_MEDIA) if status == "pending" else MessageModel.pendingWork.remove())
    return actions


def _set_media(row: MessageModel, **changes) -> str:
    try:
        row.update(actions=_media_actions(row, **changes), condition=MessageModel.messageId.exists())
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        return "deleted"  # deleted meanwhile: it stays deleted
    return changes["status"]


def _fetch_failed(row: MessageModel, reason: str) -> str:
    attempts = int(row.media.fetchAttempts or 0) + 1
    row.media.fetchAttempts = attempts
    status = "pending" if attempts < MAX_FETCH_ATTEMPTS else "failed"
    log.warning("media fetch %d for message %s failed: %s", attempts, row.messageId, reason)
    return _set_media(row, status=status, error=f"fetch attempt {attempts} failed: {reason}"[:500])


def retry_pending_media(now: datetime | None = None, older_than: timedelta = timedelta(seconds=30)) -> int:
    """Try again every media fetch that failed at least `older_than` ago; returns how many were stored."""
    threshold = (now or utcnow()) - older_than
    stored = 0
    for key in MessageModel.by_pending_work.query(PENDING_MEDIA):
        try:
            row = MessageModel.get(key.messageId, consistent_read=True)
        except MessageModel.DoesNotExist:
            continue
        if row.media is None or row.media.status != "pending" or row.updatedAt > threshold:
            continue
        stored += fetch_media(row) == "stored"
    return stored


