"""Writing an import's rows: new contacts in all-or-nothing chunks, existing ones updated from their rows.

Audit: each chunk of new contacts is one audit row in the import's trail (resource contact_import#<id>, action
contact.import.created, naming each contact and its line), written in the chunk's transaction; the new contact
itself carries where it came from (`imported`: the file, the line, who ran it), so its page shows "Imported
from file.csv (line 12)" from the row it already reads. A contact an import changes gets its own audit row
(action contact.import, outcome updated, with the fields it changed), in the same transaction as the change.

A new contact with a phone and an email is three writes (the contact, two unique keys) and a transaction holds at
most 100 (storage/unit_of_work.MAX_ITEMS) with the chunk's audit row: a chunk is CHUNK_ROWS = 33 rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from backend.errors import OptedOut
from backend.models.audit import AuditLogModel
from backend.models.base import utcnow
from backend.models.contact import ContactModel, ContactUniqueKey
from backend.services.platform.access import Actor
from backend.services.platform.audit import audit_row
from backend.services.rules.consent import check_business_opt_in, reason_of
from backend.services.contacts.address_consent import apply_suppressions, reset_for_new_address, set_consent
from backend.services.contacts.contacts import (
    IMPORT_ACTION,
    IMPORT_CREATED as CREATED,
    RESOURCE as CONTACT_RESOURCE,
    claim_unique_keys,
    filled_fields,
    index_for_search,
    new_contact_row,
    owner_of,
    unique_key_row,
)
from backend.services.contacts.import_rows import ImportRow
from backend.services.contacts.schemas import CONSENT_FIELDS
from backend.services.storage.unit_of_work import UnitOfWork, WriteConflict

CHUNK_ROWS = 33
UPDATED = "updated"
IMPORT_RESOURCE = "contact_import"  # the import's own trail: its chunks and its summary
CHUNK_ACTION = "contact.import.created"
__all__ = ["CHUNK_ROWS", "CREATED", "IMPORT_ACTION", "UPDATED", "ImportSource", "create_chunk", "update_chunk"]


@dataclass(frozen=True)
class ImportSource:
    """The import a write belongs to, as each contact's audit row and consent records name it."""

    import_id: str
    file_name: str | None = None

    @property
    def via(self) -> str:
        return f"import:{self.import_id}"


@dataclass
class ChunkResult:
    written: int = 0  # contacts created or updated
    lost: list[ImportRow] = field(default_factory=list)  # new rows whose phone/email someone took after the preview
    failed: list[dict] = field(default_factory=list)  # line, reason: refused opt-ins, rows not written


def contact_audit(actor: Actor, source: ImportSource, row: ImportRow, contact_id: str, outcome: str,
                  changed: list[str], at: datetime) -> AuditLogModel:
    """The contact's own record of the import: which file, which line, created or updated, and what changed."""
    details = {"importId": source.import_id, "file": source.file_name, "line": row.line, "outcome": outcome}
    return audit_row(actor, IMPORT_ACTION, CONTACT_RESOURCE, contact_id, changed, details, at=at)


def _imported(actor: Actor, source: ImportSource, row: ImportRow, contact: ContactModel) -> dict:
    """What a new contact keeps of the import that made it (its history's first entry)."""
    return {"importId": source.import_id, "file": source.file_name, "line": row.line, "fields": filled_fields(contact),
            "by": actor.email, "role": actor.role.value if actor.role else None}


def chunk_audit(actor: Actor, source: ImportSource, created: list[tuple[str, int]], at: datetime) -> AuditLogModel:
    """One audit row for a chunk of new contacts: each contact's id and its line in the file."""
    details = {"file": source.file_name, "contacts": [{"contactId": cid, "line": line} for cid, line in created]}
    return audit_row(actor, CHUNK_ACTION, IMPORT_RESOURCE, source.import_id, [], details, at=at)


def create_chunk(actor: Actor, source: ImportSource, chunk: list[ImportRow]) -> ChunkResult:
    """Create a chunk in one transaction. Rows whose phone/email got taken meanwhile come back as `lost` and
    the rest is written again without them; opt-ins the customer's own opt-out refused are in `failed`."""
    pending = list(chunk)
    lost: list[ImportRow] = []
    while pending:
        now = utcnow()
        work = UnitOfWork()
        refused: list[dict] = []
        created: list[tuple[str, int]] = []
        for index, row in enumerate(pending):
            reasons: list[str] = []
            contact = new_contact_row(actor, row.fields, source.via, source.via, now, row.suppressed, reasons)
            contact.imported = _imported(actor, source, row, contact)
            refused.extend({"line": row.line, "reason": reason} for reason in reasons)
            work.save(contact, ContactModel.contactId.does_not_exist())
            for kind in ("phone", "email"):
                value = getattr(contact, kind)
                if value:
                    work.save(unique_key_row(kind, value, contact.contactId), ContactUniqueKey.contactId.does_not_exist(), label=index)
            created.append((contact.contactId, row.line))
        work.save(chunk_audit(actor, source, created, now))
        try:
            work.commit()
            return ChunkResult(written=len(pending), lost=lost, failed=refused)
        except WriteConflict as conflict:
            taken = {label for label in conflict.labels if isinstance(label, int)}
            if not taken:
                raise
            lost.extend(pending[i] for i in sorted(taken))
            pending = [row for i, row in enumerate(pending) if i not in taken]
    return ChunkResult(lost=lost)


def update_chunk(actor: Actor, source: ImportSource, chunk: list[ImportRow]) -> ChunkResult:
    """Apply rows to the contacts that already hold their phone/email (name, added tags, stated consent) in one
    transaction; a contact the rows leave as it was gets no write and no audit row."""
    ids = [row.existing_id or _owner_of_row(row) for row in chunk]
    rows_by_id = {c.contactId: c for c in ContactModel.batch_get([i for i in ids if i], consistent_read=True)}
    now = utcnow()
    work = UnitOfWork()
    result = ChunkResult()
    touched: set[str] = set()
    for row, contact_id in zip(chunk, ids):
        contact = rows_by_id.get(contact_id) if contact_id else None
        if contact is None or contact.deletedAt is not None:
            result.failed.append({"line": row.line, "reason": "the matching contact was deleted meanwhile"})
            continue
        if contact_id in touched:
            continue
        refused: list[str] = []
        changed = _apply_row(contact, row, work, source, now, refused)
        if changed:
            contact.updatedAt = now
            work.save(contact)
            work.save(contact_audit(actor, source, row, contact_id, UPDATED, changed, now))
            touched.add(contact_id)
        result.failed.extend({"line": row.line, "reason": reason} for reason in refused)
    try:
        work.commit()
    except WriteConflict:
        result.failed.extend({"line": row.line, "reason": "changed by someone else during the import; not updated"} for row in chunk)
        return result
    result.written = len(touched)
    return result


def _owner_of_row(row: ImportRow) -> str | None:
    """Who holds the row's phone or email now (a row that lost its create to a concurrent one)."""
    for kind in ("phone", "email"):
        value = getattr(row.fields, kind)
        owner = owner_of(kind, value) if value else None
        if owner:
            return owner
    return None


def _apply_row(contact: ContactModel, row: ImportRow, work: UnitOfWork, source: ImportSource, now: datetime,
               refused: list[str]) -> list[str]:
    """Update the contact from the row; the fields it changed. A consent the customer withdrew themselves stays
    withdrawn (the reason goes into `refused`)."""
    changed: list[str] = []
    fields = row.fields
    if row.named and fields.name != contact.name:
        contact.name = fields.name
        index_for_search(contact)
        changed.append("name")
    tags = set(contact.tags or ()) | set(fields.tags)
    if tags != set(contact.tags or ()):
        contact.tags = tags
        changed.append("tags")
    for kind in ("phone", "email"):
        value = getattr(fields, kind)
        if value and not getattr(contact, kind):
            setattr(contact, kind, value)
            claim_unique_keys(work, contact, kinds=(kind,))
            changed.append(kind)
            changed += reset_for_new_address(contact, kind, now)  # a record left from a removed address is not for this one
    changed += apply_suppressions(contact, row.suppressed)
    for channel, wanted in row.consent_given.items():
        if bool(getattr(contact, CONSENT_FIELDS[channel])) != wanted:
            if wanted:
                try:
                    check_business_opt_in(contact, channel)
                except OptedOut as error:
                    refused.append(reason_of(error))
                    continue
            set_consent(contact, channel, wanted, source.via, now)
            changed.append(CONSENT_FIELDS[channel])
    return list(dict.fromkeys(changed))
