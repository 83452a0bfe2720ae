"""CSV import of contacts: parse and validate every row first (a plan the user can preview), then write.

Reading and judging the rows is import_rows.py; writing them (and each contact's audit row) is import_writes.py.
This module joins them: the plan reads, in the same BatchGetItem calls, who holds each row's phone and email and
the customer's opt-outs kept for them: a contact imported onto an address that said STOP starts opted out,
whatever the file says (the refused opt-ins are reported per line).

Writes go in transactions of up to import_writes.CHUNK_ROWS contacts (contact + unique keys, all conditional, plus
one audit row for the chunk naming each contact and its line), so a chunk lands whole or not at all. A concurrent
create that takes a phone or email between the preview and the write is detected by the transaction's conditions
and reported on that row. One more audit row (resource contact_import) sums the import up.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import Enum

from backend.models.contact import ContactUniqueKey
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.audit import audit_row
from backend.services.contacts.address_consent import suppression_keys
from backend.services.contacts.import_rows import (
    MAX_BYTES,
    ImportRow,
    RowStatus,
    file_label,
    merge_in_file_duplicates,
    parse_row,
    read_csv,
)
from backend.services.contacts.import_writes import CHUNK_ROWS, IMPORT_RESOURCE, ImportSource, create_chunk, update_chunk
from backend.services.storage.unit_of_work import UnitOfWork
from backend.settings import get_settings
from backend.services.platform.settings_catalog import default_region

__all__ = ["MAX_BYTES", "DuplicatePolicy", "ImportPlan", "ImportRow", "ImportSummary", "RowStatus", "plan_import", "run_import"]

RESOURCE = IMPORT_RESOURCE


class DuplicatePolicy(str, Enum):
    SKIP = "skip"
    UPDATE = "update"


@dataclass
class ImportPlan:
    import_id: str
    rows: list[ImportRow]
    columns: dict[str, str]  # file header -> field it fills
    ignored_columns: list[str]
    delimiter: str
    file_name: str | None = None  # as the contacts' history names the file

    def count(self, status: RowStatus) -> int:
        return sum(1 for row in self.rows if row.status is status)


@dataclass
class ImportSummary:
    import_id: str
    created: int = 0
    updated: int = 0
    skipped: int = 0
    merged: int = 0  # rows merged into an earlier line of the file with the same phone or email
    invalid: int = 0
    failed: list[dict] = field(default_factory=list)  # rows that lost a race or failed to write: line, reason


Progress = Callable[[int, int], None]


# ---------------------------------------------------------------- planning


def _address_rows(keys: list[str]) -> dict[str, ContactUniqueKey]:
    """Key -> the stored row, for the keys that exist: claims and kept opt-outs (BatchGetItem, in parallel)."""
    groups = [keys[i : i + 100] for i in range(0, len(keys), 100)]

    def fetch(group: list[str]) -> list[ContactUniqueKey]:
        return list(ContactUniqueKey.batch_get(group))

    with ThreadPoolExecutor(max_workers=4) as pool:
        return {item.contactId: item for result in pool.map(fetch, groups) for item in result}


def _mark_existing(rows: list[ImportRow]) -> None:
    """Who holds each row's phone and email, and the opt-outs kept for them, in the same batched reads."""
    candidates = [r for r in rows if r.status is RowStatus.NEW]
    claims = [
        ContactUniqueKey.key_for(kind, getattr(r.fields, kind))
        for r in candidates
        for kind in ("phone", "email")
        if getattr(r.fields, kind)
    ]
    opt_outs = {key: row for row in candidates for key in suppression_keys(row.fields.phone, row.fields.email)}
    found = _address_rows(claims + list(opt_outs)) if candidates else {}  # their addresses are unique in the file
    owners = {key: item.ownerId for key, item in found.items() if item.record is None}
    for key, row in opt_outs.items():
        if key in found:
            row.suppressed[key] = found[key].record
    for row in candidates:
        by_phone = owners.get(ContactUniqueKey.key_for("phone", row.fields.phone)) if row.fields.phone else None
        by_email = owners.get(ContactUniqueKey.key_for("email", row.fields.email)) if row.fields.email else None
        if by_phone and by_email and by_phone != by_email:
            row.status = RowStatus.INVALID
            row.errors.append({"field": "email", "reason": "phone and email belong to two different existing contacts"})
        elif by_phone or by_email:
            row.status = RowStatus.EXISTING
            row.existing_id = by_phone or by_email


def plan_import(actor: Actor, data: bytes, file_name: str | None = None) -> ImportPlan:
    """Read and check the whole file without writing anything; the plan is what the preview shows. `file_name`
    (the upload's name) is what each imported contact's history will say it came from."""
    require(actor, Operation.CONTACTS_IMPORT)
    raw_rows, mapping, ignored, delimiter = read_csv(data)
    region = default_region()
    rows = [parse_row(line, raw, region) for line, raw in raw_rows]
    merge_in_file_duplicates(rows)
    _mark_existing(rows)
    return ImportPlan(import_id=uuid.uuid4().hex, rows=rows, columns=mapping, ignored_columns=ignored,
                      delimiter=delimiter, file_name=file_label(file_name))


# ---------------------------------------------------------------- writing


def run_import(
    actor: Actor, plan: ImportPlan, policy: DuplicatePolicy = DuplicatePolicy.SKIP, progress: Progress | None = None
) -> ImportSummary:
    """Write the plan's rows; `progress(done, total)` is called as chunks land."""
    require(actor, Operation.CONTACTS_IMPORT)
    policy = DuplicatePolicy(policy)
    source = ImportSource(plan.import_id, plan.file_name)
    summary = ImportSummary(import_id=plan.import_id)
    summary.invalid = plan.count(RowStatus.INVALID)
    summary.merged = plan.count(RowStatus.DUPLICATE)
    new_rows = [r for r in plan.rows if r.status is RowStatus.NEW]
    existing = [r for r in plan.rows if r.status is RowStatus.EXISTING]
    if policy is DuplicatePolicy.SKIP:
        summary.skipped += len(existing)
        existing = []
    total = len(new_rows) + len(existing)
    done = 0
    if progress:
        progress(0, total)
    with ThreadPoolExecutor(max_workers=get_settings().import_writers) as pool:
        for result in pool.map(lambda chunk: create_chunk(actor, source, chunk), _chunks(new_rows)):
            summary.created += result.written
            summary.failed.extend(result.failed)
            for row in result.lost:  # someone created this phone/email after the preview
                row.status = RowStatus.EXISTING
                if policy is DuplicatePolicy.UPDATE:
                    existing.append(row)
                else:
                    summary.skipped += 1
            done += result.written + len(result.lost)
            if progress:
                progress(done, total)
    for chunk in _chunks(existing):
        result = update_chunk(actor, source, chunk)
        summary.updated += result.written
        summary.failed.extend(result.failed)
        done += len(chunk)
        if progress:
            progress(min(done, total), total)
    _audit_summary(actor, plan, policy, summary)
    return summary


def _chunks(rows: list[ImportRow]) -> list[list[ImportRow]]:
    return [rows[i : i + CHUNK_ROWS] for i in range(0, len(rows), CHUNK_ROWS)]


def _audit_summary(actor: Actor, plan: ImportPlan, policy: DuplicatePolicy, summary: ImportSummary) -> None:
    """The import as a whole, in its own trail (each contact's row is in the contact's)."""
    counts = {"created": summary.created, "updated": summary.updated, "skipped": summary.skipped,
              "merged": summary.merged, "invalid": summary.invalid}
    work = UnitOfWork()
    work.save(audit_row(actor, "contact.import", RESOURCE, plan.import_id,
                        details={**counts, "policy": policy.value, "file": plan.file_name}))
    work.commit()
