"""The team inbox: who owns a conversation and where it stands, kept on the contact's conversation summary.

A conversation is open, pending (waiting on the customer), snoozed until a time, or resolved; it may have an
assignee (an active Operator or Admin) and labels (from the Admin's catalog, inbox_settings.py). The views:
Mine, Unassigned and All are the open and pending conversations (mine, nobody's, everyone's); Snoozed and
Resolved the others. A customer's message re-opens a conversation and wakes a snoozed one (rows.py); a
snooze that ends wakes it too (`wake_snoozed`, every minute). Every change here is audited and shows in the
thread as an event (timeline.py); a private note is a timeline row that is never sent.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from pydantic import Field

from backend.errors import ValidationError
from backend.models.base import utcnow
from backend.models.contact import ContactModel
from backend.models.messaging import TimelineEntryModel
from backend.services.contacts.contacts import live_contact_row
from backend.services.messaging.inbox_settings import label_names
from backend.services.messaging.log import PAGE_MAX, check_limit
from backend.services.messaging.schemas import Conversation, TimelineEntry, to_conversation, to_entry
from backend.services.messaging.timeline import NOTE_MAX_CHARS, event_row, note_row
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.api_model import ApiModel, ApiView
from backend.services.platform import system_config
from backend.services.platform.audit import audit_row
from backend.services.platform.team import assignable_member
from backend.services.platform.validation import check_choice, parse_input
from backend.services.rules.channels import CHANNEL_NAMES
from backend.services.storage.batch_reads import rows_by_key
from backend.services.storage.expiring_map import ExpiringMap
from backend.services.storage.unit_of_work import UnitOfWork, WriteConflict

OPEN, PENDING, SNOOZED, RESOLVED = "open", "pending", "snoozed", "resolved"
STATUSES = (OPEN, PENDING, SNOOZED, RESOLVED)
ACTIVE = (OPEN, PENDING)
STATUS_LABELS = {OPEN: "Open", PENDING: "Pending", SNOOZED: "Snoozed", RESOLVED: "Resolved"}
VIEW_STATUSES = {"mine": ACTIVE, "unassigned": ACTIVE, "all": ACTIVE, "snoozed": (SNOOZED,), "resolved": (RESOLVED,)}
VIEWS = tuple(VIEW_STATUSES)
VIEW_LABELS = {"mine": "Mine", "unassigned": "Unassigned", "all": "All", "snoozed": "Snoozed", "resolved": "Resolved"}
LIMIT_MAX = PAGE_MAX  # the most conversations one view answers
EXAMINE_MAX = 1_000  # conversations one view reads, most recent first (its count says "1000+" beyond)
SNOOZE_MAX = timedelta(days=90)


class InboxCounts(ApiView):
    mine: int = 0
    unassigned: int = 0
    all: int = 0
    snoozed: int = 0
    resolved: int = 0
    capped: list[str] = []  # views whose count stopped at EXAMINE_MAX ("1000+")


class InboxPage(ApiView):
    view: str
    items: list[Conversation]
    counts: InboxCounts


# ---------------------------------------------------------------- the views


# Every open inbox page refreshes when the change feed names a contact: 20 operators' pages at 50 messages/s
# would read the same partitions hundreds of times a second. For those live refreshes (`live=True`), one read
# of a status partition serves every page of the process for SNAPSHOT_SECONDS (the pages that find it stale
# meanwhile wait for the one read under way, never start their own: reads that each took longer than a
# snapshot lives would otherwise pile up), and the rows read by key since (the pages' fresh contacts) lie over
# it for RECENT_SECONDS, longer than a snapshot lives plus its read and the index's lag, so a page never sees a
# change go back. Any other call (a page's first load, REST) reads afresh.
SNAPSHOT_SECONDS = 1.0
RECENT_SECONDS = 3.0
_snapshots: dict[str, tuple[float, list[ContactModel], bool]] = {}
_reading: dict[str, threading.Event] = {}  # status -> set when the live read under way has stored its snapshot
_snapshot_lock = threading.Lock()
_recent: ExpiringMap[tuple[float, ContactModel]] = ExpiringMap(capacity=10_000, ttl_seconds=RECENT_SECONDS)  # (read at, row)


def _index_partition(status: str, live: bool) -> tuple[list[ContactModel], bool]:
    """The index's rows of one status (≤ EXAMINE_MAX, newest first) and whether it stopped at the cap; for a
    live refresh, one read per SNAPSHOT_SECONDS for the whole process."""
    if live:
        with _snapshot_lock:
            hit = _snapshots.get(status)
            if hit and time.monotonic() - hit[0] < SNAPSHOT_SECONDS:
                return hit[1], hit[2]
            under_way = _reading.get(status)
            if under_way is None:
                _reading[status] = threading.Event()
        if under_way is not None:
            under_way.wait(30)
            with _snapshot_lock:
                stored = _snapshots.get(status)
            if stored and stored is not hit:  # the read that was under way (the overlay's newer rows lie over it)
                return stored[1], stored[2]
            return _read_partition(status)  # it failed
        try:
            return _read_partition(status)
        finally:
            with _snapshot_lock:
                _reading.pop(status).set()
    return _read_partition(status)


def _read_partition(status: str) -> tuple[list[ContactModel], bool]:
    started = time.monotonic()
    rows = list(ContactModel.by_conversation_status.query(status, scan_index_forward=False, page_size=200, limit=EXAMINE_MAX))
    capped = len(rows) >= EXAMINE_MAX
    with _snapshot_lock:
        hit = _snapshots.get(status)
        if hit is None or hit[0] <= started:
            _snapshots[status] = (started, rows, capped)
    return rows, capped


def forget_snapshots() -> None:
    with _snapshot_lock:
        _snapshots.clear()
        _summary_snapshots.clear()
    _recent.forget()


def _partition(status: str, overlay: dict[str, ContactModel], live: bool, *,
               counting: bool = False) -> tuple[list[ContactModel], bool]:
    """The live conversations in `status`, newest first, the rows read by key lately (`overlay`) standing in
    for (or added to) what the index returned; and whether the read stopped at EXAMINE_MAX. `counting`: only
    the attributes a count needs (`_summary_partition`)."""
    indexed, capped = _summary_partition(status) if counting else _index_partition(status, live)
    rows = [row for row in indexed if row.contactId not in overlay and row.deletedAt is None]
    rows += [row for row in overlay.values() if row.conversationStatus == status and row.deletedAt is None and row.lastActivityAt]
    rows.sort(key=lambda row: row.lastActivityAt, reverse=True)
    return rows, capped


def _overlay(fresh_contact_ids: tuple[str, ...], live: bool, fresh_since: float | None) -> dict[str, ContactModel]:
    """The contacts the caller knows just changed, read by key (consistently); for a live refresh, with those
    read so lately by any page that the shared snapshot may not show them yet. A deleted contact stays in as
    deleted (it leaves the views). `fresh_since` (time.monotonic() when the changes were published): a row read
    by key since then already shows them, so the pages that heard the same batch share one read."""
    recent = _recent.items()
    wanted = [c for c in dict.fromkeys(fresh_contact_ids) if fresh_since is None or c not in recent or recent[c][0] < fresh_since]
    read_at = time.monotonic()  # taken before the read: the row shows every change published before it
    fresh = {row.contactId: row for row in rows_by_key(ContactModel, wanted, consistent=True) if row} if wanted else {}
    for contact_id, row in fresh.items():
        _recent.put(contact_id, (read_at, row))
    if not live:
        return fresh
    return {**{c: row for c, (_, row) in recent.items()}, **fresh}


def team_inbox(
    actor: Actor,
    *,
    view: str = "all",
    q: str = "",
    channel: str | None = None,
    label: str | None = None,
    unread_only: bool = False,
    limit: int = 50,
    fresh_contact_ids: tuple[str, ...] = (),
    live: bool = False,
    fresh_since: float | None = None,
) -> InboxPage:
    """One view of the team inbox, filtered, with every view's count. The open and pending conversations are
    read once for Mine, Unassigned and All; the snoozed and resolved ones are counted from their partitions.
    Contacts the caller knows just changed (the change feed) are read by key, consistently. `live`: a page's
    refresh after a change batch, which may share the process's snapshot of the index (see SNAPSHOT_SECONDS)
    and, with `fresh_since`, the key reads of the other pages that heard the same batch."""
    require(actor, Operation.MESSAGES_READ)
    check_choice("view", view, VIEWS)
    check_choice("channel", channel, CHANNEL_NAMES)
    check_limit(limit)
    overlay = _overlay(fresh_contact_ids, live, fresh_since if live else None)
    partitions: dict[str, tuple[list[ContactModel], bool]] = {status: _partition(status, overlay, live) for status in STATUSES}
    active = sorted(partitions[OPEN][0] + partitions[PENDING][0], key=lambda row: row.lastActivityAt, reverse=True)
    in_view = {
        "mine": [row for row in active if row.assigneeId and row.assigneeId == actor.user_id],
        "unassigned": [row for row in active if not row.assigneeId],
        "all": active,
        "snoozed": partitions[SNOOZED][0],
        "resolved": partitions[RESOLVED][0],
    }
    capped = [view for view, statuses in VIEW_STATUSES.items() if any(partitions[s][1] for s in statuses)]
    counts = InboxCounts(**{v: len(rows) for v, rows in in_view.items()}, capped=capped)
    needle = q.strip().casefold()

    def wanted(row: ContactModel) -> bool:
        if channel and row.lastChannel != channel or label and label not in (row.labels or ()):
            return False
        if unread_only and not row.unreadCount:
            return False
        return not needle or needle in row.name.casefold() or needle in (row.phone or "") or needle in (row.email or "").casefold()

    items = [to_conversation(row) for row in [row for row in in_view[view] if wanted(row)][:limit]]
    return InboxPage(view=view, items=items, counts=counts)


class InboxSummary(ApiView):
    """The team inbox at a glance (the dashboard): conversations waiting on the team."""

    open: int
    pending: int
    unread: int  # open or pending conversations with a message nobody has read
    unassigned: int
    capped: bool = False  # a partition held more than EXAMINE_MAX: the counts are at least these


SUMMARY_ATTRIBUTES = ["contactId", "conversationStatus", "lastActivityAt", "unreadCount", "assigneeId", "deletedAt"]


_summary_snapshots: dict[str, tuple[float, list[ContactModel], bool]] = {}


def _summary_partition(status: str) -> tuple[list[ContactModel], bool]:
    """A status partition for counting: the live pages' snapshot while it is fresh, else only the attributes a
    count needs (a fifth of each row), shared by the process's dashboards for SNAPSHOT_SECONDS too (kept apart
    from the pages' snapshot, which needs whole rows)."""
    now = time.monotonic()
    with _snapshot_lock:
        hit = max((s for s in (_snapshots.get(status), _summary_snapshots.get(status)) if s), key=lambda s: s[0], default=None)
    if hit and now - hit[0] < SNAPSHOT_SECONDS:
        return hit[1], hit[2]
    rows = list(ContactModel.by_conversation_status.query(status, scan_index_forward=False, page_size=500,
                                                          limit=EXAMINE_MAX, attributes_to_get=SUMMARY_ATTRIBUTES))
    capped = len(rows) >= EXAMINE_MAX
    with _snapshot_lock:
        _summary_snapshots[status] = (now, rows, capped)
    return rows, capped


def inbox_summary(actor: Actor, *, fresh_contact_ids: tuple[str, ...] = (), fresh_since: float | None = None) -> InboxSummary:
    """Counts of the open and pending conversations. Contacts the caller knows just changed (the change feed)
    are read by key, consistently, over what the index says (see `team_inbox`)."""
    require(actor, Operation.MESSAGES_READ)
    overlay = _overlay(fresh_contact_ids, True, fresh_since)
    (opened, open_capped), (pending, pending_capped) = (_partition(status, overlay, True, counting=True)
                                                         for status in (OPEN, PENDING))
    active = opened + pending
    return InboxSummary(open=len(opened), pending=len(pending), unread=sum(1 for row in active if row.unreadCount),
                        unassigned=sum(1 for row in active if not row.assigneeId), capped=open_capped or pending_capped)


# ---------------------------------------------------------------- changing a conversation


def _conversation_row(contact_id: str) -> ContactModel:
    row = live_contact_row(contact_id, consistent=True)
    if row.lastActivityAt is None:
        raise ValidationError(f"contactId: there is no conversation with {row.name} yet", field="contactId")
    return row


def _change(actor: Actor, row: ContactModel, actions: list, *, action: str, body: str, fields: list[str], details: dict) -> Conversation:
    """Commit a change of the conversation with its event in the timeline and its audit row, all or nothing;
    the conversation as it is now. The contact must still be live."""
    now = utcnow()
    work = UnitOfWork()
    work.update(ContactModel(contactId=row.contactId, version=0), actions, condition=ContactModel.deletedAt.does_not_exist() & ContactModel.lastActivityAt.exists())
    work.save(event_row(actor, row.contactId, action, body, now, **details))
    work.save(audit_row(actor, f"conversation.{action}", "contact", row.contactId, fields, details, at=now))
    try:
        work.commit()
    except WriteConflict:
        live_contact_row(row.contactId, consistent=True)  # NotFound when it was deleted meanwhile
        raise
    return to_conversation(live_contact_row(row.contactId, consistent=True))


class Assignment(ApiModel):
    assignee_id: str | None = Field(default=None, max_length=64)


def assign(actor: Actor, contact_id: str, data: Assignment | dict) -> Conversation:
    """Give the conversation to an active Operator or Admin, or to nobody (`assigneeId` null)."""
    require(actor, Operation.MESSAGES_SEND)
    request = parse_input(Assignment, data)
    row = _conversation_row(contact_id)
    if request.assignee_id == row.assigneeId:
        return to_conversation(row)
    if request.assignee_id is None:
        actions, body = [ContactModel.assigneeId.remove()], "Unassigned"
    else:
        member = assignable_member(request.assignee_id)
        if member is None:
            raise ValidationError("assigneeId: not an active Operator or Admin", field="assigneeId")
        actions, body = [ContactModel.assigneeId.set(member.user_id)], f"Assigned to {member.name}"
    details = {"from": row.assigneeId, "to": request.assignee_id}
    return _change(actor, row, actions, action="assigned", body=body, fields=["assigneeId"], details=details)


class StatusChange(ApiModel):
    status: str
    snoozed_until: datetime | None = None


def set_status(actor: Actor, contact_id: str, data: StatusChange | dict) -> Conversation:
    """Open, pending, resolved, or snoozed until a time in the next SNOOZE_MAX (which is then required)."""
    require(actor, Operation.MESSAGES_SEND)
    request = parse_input(StatusChange, data)
    check_choice("status", request.status, STATUSES)
    now = utcnow()
    until = request.snoozed_until
    if request.status == SNOOZED:
        if until is None or until.tzinfo is None:
            raise ValidationError("snoozedUntil: a time with its time zone is needed to snooze", field="snoozedUntil")
        if not now < until <= now + SNOOZE_MAX:
            raise ValidationError("snoozedUntil: between now and 90 days from now", field="snoozedUntil")
    elif until is not None:
        raise ValidationError("snoozedUntil: only with status snoozed", field="snoozedUntil")
    row = _conversation_row(contact_id)
    current = row.conversationStatus or OPEN
    if current == request.status and row.snoozedUntil == until:
        return to_conversation(row)
    actions = [ContactModel.conversationStatus.set(request.status)]
    actions.append(ContactModel.snoozedUntil.set(until) if until else ContactModel.snoozedUntil.remove())
    body = f"Snoozed until {until:%d %b %H:%M} UTC" if until else f"Marked {STATUS_LABELS[request.status].lower()}"
    if request.status == OPEN and current != OPEN:
        body = "Re-opened"
    details = {"from": current, "to": request.status, **({"snoozedUntil": until.isoformat()} if until else {})}
    return _change(actor, row, actions, action="status", body=body, fields=["conversationStatus"], details=details)


class LabelsChange(ApiModel):
    labels: list[str] = Field(max_length=20)


def set_labels(actor: Actor, contact_id: str, data: LabelsChange | dict) -> Conversation:
    """The conversation's labels, each from the Admin's catalog."""
    require(actor, Operation.MESSAGES_SEND)
    request = parse_input(LabelsChange, data)
    known = set(label_names())
    unknown = [name for name in request.labels if name not in known]
    if unknown:
        raise ValidationError(f"labels: {', '.join(unknown)} is not a label; an Admin adds labels in the inbox settings", field="labels")
    row = _conversation_row(contact_id)
    before, after = set(row.labels or ()), set(request.labels)
    if before == after:
        return to_conversation(row)
    added, removed = sorted(after - before), sorted(before - after)
    words = [f"added {', '.join(added)}"] * bool(added) + [f"removed {', '.join(removed)}"] * bool(removed)
    action = ContactModel.labels.set(after) if after else ContactModel.labels.remove()
    details = {"added": added, "removed": removed}
    return _change(actor, row, [action], action="labels", body="Labels " + "; ".join(words), fields=["labels"], details=details)


class NoteRequest(ApiModel):
    text: str = Field(max_length=NOTE_MAX_CHARS)


def add_note(actor: Actor, contact_id: str, data: NoteRequest | dict) -> TimelineEntry:
    """A private note in the contact's timeline: for the team only, never sent, never counted as a message."""
    require(actor, Operation.MESSAGES_SEND)
    request = parse_input(NoteRequest, data)
    text = request.text.strip()
    if not text:
        raise ValidationError("text: write the note first", field="text")
    contact = live_contact_row(contact_id)
    now = utcnow()
    row = note_row(actor, contact.contactId, text, now)
    work = UnitOfWork()
    work.save(row, TimelineEntryModel.messageId.does_not_exist())
    work.save(audit_row(actor, "conversation.note", "contact", contact.contactId, (), {"noteId": row.messageId, "chars": len(text)}, at=now))
    work.commit()
    return to_entry(row)


# ---------------------------------------------------------------- upkeep


def wake_snoozed(now: datetime | None = None) -> int:
    """Re-open snoozed conversations whose time has come (the schedule, every minute); how many woke."""
    now = now or utcnow()
    woken = 0
    system = Actor.system("snooze")
    for row in ContactModel.by_conversation_status.query(SNOOZED, page_size=200, limit=EXAMINE_MAX):
        if row.deletedAt is not None or row.snoozedUntil is None or row.snoozedUntil > now:
            continue
        work = UnitOfWork()
        work.update(
            ContactModel(contactId=row.contactId, version=0),
            [ContactModel.conversationStatus.set(OPEN), ContactModel.snoozedUntil.remove()],
            condition=(ContactModel.conversationStatus == SNOOZED) & (ContactModel.snoozedUntil == row.snoozedUntil),
        )
        details = {"from": SNOOZED, "to": OPEN, "reason": "snooze ended"}
        work.save(event_row(system, row.contactId, "status", "Snooze ended: open again", now, **details))
        work.save(audit_row(system, "conversation.status", "contact", row.contactId, ["conversationStatus"], details, at=now))
        try:
            work.commit()
        except WriteConflict:
            continue  # someone (or the customer) changed it meanwhile: their change stands
        woken += 1
    return woken


BACKFILL_KEY = "inbox.statusBackfill"


def open_legacy_conversations() -> int:
    """Give a status (open) to conversations from before the team inbox: once per installation, at start-up
    (an offline job: the one Scan of the Contact table; a SystemConfig marker says it is done). How many."""
    if system_config.read(BACKFILL_KEY):
        return 0
    opened = 0
    earlier = ContactModel.lastActivityAt.exists() & ContactModel.conversationStatus.does_not_exist()
    for row in ContactModel.scan(earlier, page_size=500):
        if row.deletedAt is None:
            row.update(actions=[ContactModel.conversationStatus.set(ContactModel.conversationStatus | OPEN)], add_version_condition=False)
            opened += 1
    system_config.write(BACKFILL_KEY, {"done": True, "opened": opened}, updated_by="system:start-up")
    return opened
