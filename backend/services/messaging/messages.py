"""Reading messages: a conversation's timeline, one message, the message log (with CSV export); deleting one. (The team
inbox's views are conversations.py.)"""
from __future__ import annotations

from datetime import date

from backend.errors import NotFound
from backend.models.base import utcnow
from backend.models.contact import ContactModel
from backend.models.messaging import TIMELINE_KINDS, MessageModel
from backend.services.storage import page_tokens
from backend.services.platform.validation import is_row_id
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.audit import audit_row
from backend.services.storage.batch_reads import rows_by_key
from backend.services.contacts.contacts import live_contact_row
from backend.services.messaging.log import EXAMINE_MAX, CsvExport, LogPage, check_filters, csv_export, log_page
from backend.services.messaging.log import check_limit as _check_limit
from backend.services.messaging.schemas import (
    Conversation, Message, Page, TimelineEntry, to_conversation, to_entry, to_message,
)
from backend.services.storage.unit_of_work import UnitOfWork



# ---------------------------------------------------------------- the conversation (the team inbox: conversations.py)


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
    """A contact's timeline, newest first: its messages on every channel, with the team's private notes and
    the conversation's events (assigned, resolved, …) among them. Messages the caller knows just changed are
    read by key, consistently, over what the (eventually consistent) index returned."""
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
    return Page(items=[_timeline_item(r) for r in rows if r.is_live(now)], next_token=token)


def _timeline_item(row: MessageModel) -> Message | TimelineEntry:
    """A message, or a note or event of the conversation (same table, told apart by kind)."""
    return to_entry(row) if row.kind in TIMELINE_KINDS else to_message(row)


def get_message(actor: Actor, message_id: str) -> Message:
    require(actor, Operation.MESSAGES_READ)
    return to_message(_live_message(message_id))


def _live_message(message_id: str) -> MessageModel:
    if not is_row_id(message_id):
        raise NotFound(f"No message {message_id!r}.", field="messageId")
    try:
        row = MessageModel.get(message_id, consistent_read=True)
    except MessageModel.DoesNotExist:
        raise NotFound(f"No message {message_id!r}.", field="messageId") from None
    if not row.is_live() or row.kind in TIMELINE_KINDS:  # a note or an event is not a message
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
    return log_page(filters, limit=limit, next_token=next_token, budget=EXAMINE_MAX, actor=actor)


def export_csv(actor: Actor, **filters) -> CsvExport:
    """The filtered log as CSV (text, rows, whether it is complete: a read limit may stop it), audited."""
    require(actor, Operation.MESSAGES_READ)
    chosen = check_filters(
        filters.get("day"), filters.get("channel"), filters.get("direction"), filters.get("status"), filters.get("q"), utcnow().date()
    )
    export = csv_export(chosen, actor)
    details = {"rows": export.count, "filters": {k: str(v) for k, v in filters.items() if v not in (None, "")}}
    if not export.complete:
        details["complete"] = False
    audit_row(actor, "messages.export", "messages", "log", (), details).save()
    return export
