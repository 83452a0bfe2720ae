"""Reading messages: the inbox, a conversation, the message log (with CSV export); deleting one."""
from __future__ import annotations

import re
from datetime import date

from backend.errors import NotFound, ValidationError
from backend.models.base import utcnow
from backend.models.contact import INBOX_PARTITION, ContactModel
from backend.models.messaging import MessageModel
from backend.services.storage import page_tokens
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.audit import audit_row
from backend.services.storage.batch_reads import rows_by_key
from backend.services.rules.channels import CHANNEL_NAMES
from backend.services.contacts.contacts import live_contact_row
from backend.services.messaging.log import EXAMINE_MAX, CsvExport, LogPage, check_filters, csv_export, log_page
from backend.services.messaging.log import check_limit as _check_limit
from backend.services.messaging.schemas import Conversation, Message, Page, to_conversation, to_message
from backend.services.storage.unit_of_work import UnitOfWork

INBOX_EXAMINE_MAX = 1_000  # conversations one inbox request reads, most recent first, to find its page
_MESSAGE_ID = re.compile(r"^[0-9a-f]{32}$")


def _check_choice(field: str, value: str | None, choices) -> None:
    if value is not None and value not in choices:
        raise ValidationError(f"{field}: one of {', '.join(choices)}", field=field)


# ---------------------------------------------------------------- inbox


def inbox(
    actor: Actor,
    *,
    q: str = "",
    channel: str | None = None,
    unread_only: bool = False,
    limit: int = 50,
    fresh_contact_ids: tuple[str, ...] = (),
) -> list[Conversation]:
    """Conversations, most recent activity first (the byActivity index), filtered as asked among the
    INBOX_EXAMINE_MAX most recent (a filter never reads every conversation).

    An index is updated after its table (in AWS, asynchronously): contacts a caller knows just changed (from
    the change feed) are read by key, consistently, and take precedence over what the index returned.
    """
    require(actor, Operation.MESSAGES_READ)
    _check_limit(limit)
    _check_choice("channel", channel, CHANNEL_NAMES)
    needle = q.strip().casefold()

    def wanted(row: ContactModel) -> bool:
        if row.deletedAt is not None or row.lastActivityAt is None or (channel and row.lastChannel != channel):
            return False
        if unread_only and not row.unreadCount:
            return False
        return not needle or needle in row.name.casefold() or needle in (row.phone or "") or needle in (row.email or "")

    fresh = {row.contactId: row for row in rows_by_key(ContactModel, list(fresh_contact_ids), consistent=True) if row}
    found: list[ContactModel] = [row for row in fresh.values() if wanted(row)]
    for row in ContactModel.by_activity.query(INBOX_PARTITION, scan_index_forward=False, page_size=100, limit=INBOX_EXAMINE_MAX):
        if row.contactId in fresh or not wanted(row):
            continue
        found.append(row)
        if len(found) >= limit + len(fresh):
            break
    found.sort(key=lambda row: row.lastActivityAt, reverse=True)
    return [to_conversation(row) for row in found[:limit]]


def conversation_summary(actor: Actor, contact_id: str) -> Conversation | None:
    require(actor, Operation.MESSAGES_READ)
    row = live_contact_row(contact_id)
    return to_conversation(row) if row.lastActivityAt else None


def mark_conversation_read(actor: Actor, contact_id: str) -> None:
    """Clear the unread count (an operator has seen the conversation; a Viewer's visit changes nothing)."""
    require(actor, Operation.MESSAGES_SEND)
    row = live_contact_row(contact_id)
    if row.unreadCount:
        row.update(actions=[ContactModel.unreadCount.set(0)], add_version_condition=False)
        audit_row(actor, "conversation.read", "contact", contact_id, ["unreadCount"]).save()


# ---------------------------------------------------------------- one conversation


def conversation(
    actor: Actor, contact_id: str, *, limit: int = 50, next_token: str | None = None, fresh_message_ids: tuple[str, ...] = ()
) -> Page:
    """A contact's messages on every channel, newest first. Messages the caller knows just changed are read
    by key, consistently, over what the (eventually consistent) index returned."""
    require(actor, Operation.MESSAGES_READ)
    _check_limit(limit)
    live_contact_row(contact_id)
    keys = ("messageId", "contactId", "createdAt")
    start = page_tokens.decode(next_token, contact_id, keys) if next_token else None
    rows = list(
        MessageModel.by_contact.query(
            contact_id, scan_index_forward=False, limit=limit + 1, page_size=limit + 1, last_evaluated_key=start
        )
    )
    now = utcnow()
    token = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1].serialize()
        token = page_tokens.encode({k: last[k] for k in keys}, contact_id)
    if fresh_message_ids and not next_token:
        fresh = {
            r.messageId: r
            for r in rows_by_key(MessageModel, list(fresh_message_ids), consistent=True)
            if r is not None and r.contactId == contact_id
        }
        rows = [fresh.pop(r.messageId, r) for r in rows]
        rows = sorted(rows + list(fresh.values()), key=lambda r: r.createdAt, reverse=True)[: max(limit, len(rows))]
    return Page(items=[to_message(r) for r in rows if r.is_live(now)], next_token=token)


def get_message(actor: Actor, message_id: str) -> Message:
    require(actor, Operation.MESSAGES_READ)
    return to_message(_live_message(message_id))


def _live_message(message_id: str) -> MessageModel:
    if not isinstance(message_id, str) or not _MESSAGE_ID.match(message_id):
        raise NotFound(f"No message {message_id!r}.", field="messageId")
    try:
        row = MessageModel.get(message_id, consistent_read=True)
    except MessageModel.DoesNotExist:
        raise NotFound(f"No message {message_id!r}.", field="messageId") from None
    if not row.is_live():
        raise NotFound(f"No message {message_id!r}.", field="messageId")
    return row


def delete_message(actor: Actor, message_id: str, *, via: str = "api") -> None:
    """Delete one message (a PENDING one is thereby cancelled: the outbox finds nothing to send)."""
    require(actor, Operation.MESSAGES_DELETE)
    row = _live_message(message_id)
    work = UnitOfWork()
    work.delete(row, MessageModel.messageId.exists())
    details = {"channel": row.channel, "direction": row.direction, "status": row.status, "contactId": row.contactId, "via": via}
    work.save(audit_row(actor, "message.delete", "message", message_id, ["deleted"], details))
    work.commit()


# ---------------------------------------------------------------- the log (backend/services/messaging/log.py)


def message_log(
    actor: Actor,
    *,
    day: date | None = None,
    channel: str | None = None,
    direction: str | None = None,
    status: str | None = None,
    q: str = "",
    limit: int = 50,
    next_token: str | None = None,
) -> LogPage:
    """Every message of the last month (or of `day`), newest first, filtered and searched: one page, found in
    at most EXAMINE_MAX index entries (the page says how many it read and how far back)."""
    require(actor, Operation.MESSAGES_READ)
    _check_limit(limit)
    filters = check_filters(day, channel, direction, status, q, utcnow().date())
    return log_page(filters, limit=limit, next_token=next_token, budget=EXAMINE_MAX)


def export_csv(actor: Actor, **filters) -> CsvExport:
    """The filtered log as CSV (text, rows, whether it is complete: a read limit may stop it), audited."""
    require(actor, Operation.MESSAGES_READ)
    chosen = check_filters(
        filters.get("day"), filters.get("channel"), filters.get("direction"), filters.get("status"), filters.get("q"), utcnow().date()
    )
    export = csv_export(chosen)
    details = {"rows": export.count, "filters": {k: str(v) for k, v in filters.items() if v not in (None, "")}}
    if not export.complete:
        details["complete"] = False
    audit_row(actor, "messages.export", "messages", "log", (), details).save()
    return export
