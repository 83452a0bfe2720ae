"""CSV import of contacts: parse and validate every row first (a plan the user can preview), then write.

The plan reads, in the same BatchGetItem calls, who holds each row's phone and email and the customer's
opt-outs kept for them: a contact imported onto an address that said STOP starts opted out, whatever the
file says (the refused opt-ins are reported per line).

Writes go in transactions of up to 32 contacts (contact + unique keys, all conditional, plus one audit
row), so a chunk lands whole or not at all. A concurrent create that takes a phone or email between the
preview and the write is detected by the transaction's conditions and reported on that row.
"""
from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import Enum

from backend.errors import OptedOut, ValidationError
from backend.models.base import utcnow
from backend.models.contact import ContactModel, ContactUniqueKey
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.audit import audit_row
from backend.services.platform.validation import normalise_email
from backend.services.rules.consent import check_business_opt_in, reason_of
from backend.services.rules.file_types import refuse_binary
from backend.services.contacts.fields import name_or_address, normalise_phone, normalise_tags
from backend.services.contacts.address_consent import (
    Suppressions,
    apply_suppressions,
    reset_for_new_address,
    suppression_keys,
)
from backend.services.contacts.contacts import (
    ContactFields,
    claim_unique_keys,
    index_for_search,
    new_contact_row,
    set_consent,
    unique_key_row,
)
from backend.services.contacts.schemas import CHANNELS, CONSENT_FIELDS
from backend.services.storage.unit_of_work import UnitOfWork, WriteConflict
from backend.settings import get_settings

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000
MAX_FIELD = 2_000
CHUNK_ROWS = 32
RESOURCE = "contact_import"

_HEADER_ALIASES = {
    "name": "name", "fullname": "name", "contactname": "name", "displayname": "name",
    "firstname": "first_name", "givenname": "first_name", "lastname": "last_name", "surname": "last_name", "familyname": "last_name",
    "phone": "phone", "phonenumber": "phone", "mobile": "phone", "mobilenumber": "phone", "msisdn": "phone", "cell": "phone", "tel": "phone",
    "email": "email", "emailaddress": "email", "mail": "email",
    "tags": "tags", "tag": "tags", "labels": "tags",
    "optinwhatsapp": "whatsapp", "whatsappoptin": "whatsapp", "whatsappconsent": "whatsapp", "consentwhatsapp": "whatsapp",
    "optinsms": "sms", "smsoptin": "sms", "smsconsent": "sms", "consentsms": "sms",
    "optinemail": "email_consent", "emailoptin": "email_consent", "emailconsent": "email_consent", "consentemail": "email_consent",
    "optinvoice": "voice", "voiceoptin": "voice", "voiceconsent": "voice", "consentvoice": "voice",
}
_CONSENT_COLUMNS = {"whatsapp": "whatsapp", "sms": "sms", "email_consent": "email", "voice": "voice"}
_TRUE = {"1", "true", "yes", "y", "x", "opt-in", "optin", "on"}
_FALSE = {"0", "false", "no", "n", "opt-out", "optout", "off"}


class RowStatus(str, Enum):
    NEW = "new"
    EXISTING = "existing"
    DUPLICATE = "duplicate_in_file"
    INVALID = "invalid"


class DuplicatePolicy(str, Enum):
    SKIP = "skip"
    UPDATE = "update"


@dataclass
class ImportRow:
    line: int
    raw: dict[str, str]
    fields: ContactFields | None = None
    consent_given: dict[str, bool] = field(default_factory=dict)  # only the channels the file states
    status: RowStatus = RowStatus.NEW
    errors: list[dict] = field(default_factory=list)
    existing_id: str | None = None
    named: bool = True  # False: the file gave no name, so the contact is shown by its address
    suppressed: Suppressions = field(default_factory=dict)  # the customer's opt-outs kept for its addresses


@dataclass
class ImportPlan:
    import_id: str
    rows: list[ImportRow]
    columns: dict[str, str]  # file header -> field it fills
    ignored_columns: list[str]
    delimiter: str

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


# ---------------------------------------------------------------- reading the file


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _header_key(name: str) -> str:
    return "".join(ch for ch in name.strip().lower() if ch.isalnum())


def read_csv(data: bytes) -> tuple[list[tuple[int, dict[str, str]]], dict[str, str], list[str], str]:
    """Rows as (line number, {field: value}), the column mapping, ignored columns and the delimiter."""
    if len(data) > MAX_BYTES:
        raise ValidationError(f"file: larger than {MAX_BYTES // (1024 * 1024)} MB", field="file")
    refuse_binary(data, "a CSV file")
    text = _decode(data)
    if not text.strip():
        raise ValidationError("file: is empty", field="file")
    sample = text[:8192]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    # strict: an unbalanced quote is an error naming its line, not the rest of the file read as one cell
    reader = csv.reader(io.StringIO(text.replace("\x00", ""), newline=""), delimiter=delimiter, strict=True)
    try:
        return _read_rows(reader, delimiter)
    except csv.Error as error:
        raise ValidationError(
            f"file: line {reader.line_num}: {error} (a quote that is opened but never closed?)", field="file"
        ) from None


def _read_rows(reader, delimiter: str) -> tuple[list[tuple[int, dict[str, str]]], dict[str, str], list[str], str]:
    header: list[str] | None = None
    for row in reader:
        if any(cell.strip() for cell in row):
            header = row
            break
    if header is None:
        raise ValidationError("file: has no header row", field="file")
    columns: dict[int, str] = {}
    mapping: dict[str, str] = {}
    ignored: list[str] = []
    for index, name in enumerate(header):
        target = _HEADER_ALIASES.get(_header_key(name))
        if target and target not in columns.values():
            columns[index] = target
            mapping[name.strip()] = target
        elif name.strip():
            ignored.append(name.strip())
    targets = set(columns.values())
    if "phone" not in targets and "email" not in targets:
        raise ValidationError("file: needs a phone or an email column (e.g. 'phone', 'email')", field="file")
    rows: list[tuple[int, dict[str, str]]] = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        if len(rows) >= MAX_ROWS:
            raise ValidationError(f"file: more than {MAX_ROWS:,} rows; split it into smaller files", field="file")
        rows.append((reader.line_num, {target: (row[i] if i < len(row) else "") for i, target in columns.items()}))
    return rows, mapping, ignored, delimiter


# ---------------------------------------------------------------- validating rows


def _parse_row(line: int, raw: dict[str, str], region: str) -> ImportRow:
    row = ImportRow(line=line, raw=raw)
    errors = row.errors
    oversize = [name for name, value in raw.items() if len(value) > MAX_FIELD]
    if oversize:
        errors.extend({"field": name, "reason": f"longer than {MAX_FIELD} characters"} for name in oversize)
        row.status = RowStatus.INVALID
        return row
    name_text = raw.get("name") or " ".join(filter(None, (raw.get("first_name", "").strip(), raw.get("last_name", "").strip())))
    address_errors: list[dict] = []
    phone = _attempt(address_errors, lambda: normalise_phone(raw["phone"], region)) if raw.get("phone", "").strip() else None
    email = _attempt(address_errors, lambda: normalise_email(raw["email"])) if raw.get("email", "").strip() else None
    row.named = bool(name_text.strip())
    name = _attempt(errors, lambda: name_or_address(name_text, phone, email))
    errors.extend(address_errors)
    tag_text = raw.get("tags", "")
    tags = _attempt(errors, lambda: normalise_tags([t for t in _split_tags(tag_text)])) or []
    for column, channel in _CONSENT_COLUMNS.items():
        value = raw.get(column, "").strip().lower()
        if not value:
            continue
        if value in _TRUE:
            row.consent_given[channel] = True
        elif value in _FALSE:
            row.consent_given[channel] = False
        else:
            errors.append({"field": CONSENT_FIELDS[channel], "reason": f"'{value}' is not yes/no"})
    if not errors and not phone and not email:
        errors.append({"field": "phone", "reason": "a contact needs a phone number or an email address"})
    for channel, wanted in row.consent_given.items():
        if wanted and not (email if channel == "email" else phone):
            errors.append({"field": CONSENT_FIELDS[channel], "reason": f"needs a{'n email' if channel == 'email' else ' phone'}"})
    if errors:
        row.status = RowStatus.INVALID
        return row
    consent = {channel: row.consent_given.get(channel, False) for channel in CHANNELS}
    row.fields = ContactFields(name=name, phone=phone, email=email, tags=tuple(tags), consent=consent)
    return row


def _split_tags(text: str) -> list[str]:
    for separator in (";", "|"):
        text = text.replace(separator, ",")
    return [t for t in text.split(",") if t.strip()]


def _attempt(errors: list[dict], produce):
    try:
        return produce()
    except ValidationError as error:
        errors.append({"field": error.field, "reason": error.message})
        return None


def _merge_in_file_duplicates(rows: list[ImportRow]) -> None:
    """A later row with the phone or email of an earlier one is the same person, not a second contact: its tags
    go onto the earlier row (a file listing someone once per group keeps every group) and its verdict says so."""
    first_seen: dict[tuple[str, str], ImportRow] = {}
    for row in rows:
        if row.status is not RowStatus.NEW:
            continue
        match = next(
            ((kind, first_seen[(kind, value)]) for kind in ("phone", "email")
             if (value := getattr(row.fields, kind)) and (kind, value) in first_seen),
            None,
        )
        if match is None:
            for kind in ("phone", "email"):
                if getattr(row.fields, kind):
                    first_seen[(kind, getattr(row.fields, kind))] = row
            continue
        kind, first = match
        row.status = RowStatus.DUPLICATE
        row.errors.append({"field": kind, "reason": f"same {kind} as line {first.line}: {_merge_tags(first, row)}"})


def _merge_tags(first: ImportRow, duplicate: ImportRow) -> str:
    """Add the duplicate's tags to the first row; the verdict's wording for the preview."""
    added = [tag for tag in duplicate.fields.tags if tag not in first.fields.tags]
    if not added:
        return f"merged into line {first.line}"
    try:
        tags = normalise_tags([*first.fields.tags, *added])
    except ValidationError as error:
        return f"merged into line {first.line}; its tags were not added ({error.message})"
    first.fields = replace(first.fields, tags=tuple(tags))
    return f"merged into line {first.line} (tags added: {', '.join(added)})"


def _address_rows(keys: list[str]) -> dict[str, ContactUniqueKey]:
    """Key -> the stored row, for the keys that exist: claims and kept opt-outs (BatchGetItem, in parallel)."""
    groups = [keys[i : i + 100] for i in range(0, len(keys), 100)]

    def fetch(group: list[str]) -> list[ContactUniqueKey]:
        return list(ContactUniqueKey.batch_get(group))

    with ThreadPoolExecutor(max_workers=4) as pool:
        return {item.contactId: item for result in pool.map(fetch, groups) for item in result}


def _owners(keys: list[str]) -> dict[str, str]:
    """Unique key -> owning contact id, for the keys that are taken."""
    return {key: item.ownerId for key, item in _address_rows(keys).items()}


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


def plan_import(actor: Actor, data: bytes) -> ImportPlan:
    """Read and check the whole file without writing anything; the plan is what the preview shows."""
    require(actor, Operation.CONTACTS_IMPORT)
    raw_rows, mapping, ignored, delimiter = read_csv(data)
    region = get_settings().default_region
    rows = [_parse_row(line, raw, region) for line, raw in raw_rows]
    _merge_in_file_duplicates(rows)
    _mark_existing(rows)
    return ImportPlan(import_id=uuid.uuid4().hex, rows=rows, columns=mapping, ignored_columns=ignored, delimiter=delimiter)


# ---------------------------------------------------------------- writing


def run_import(
    actor: Actor, plan: ImportPlan, policy: DuplicatePolicy = DuplicatePolicy.SKIP, progress: Progress | None = None
) -> ImportSummary:
    """Write the plan's rows; `progress(done, total)` is called as chunks land."""
    require(actor, Operation.CONTACTS_IMPORT)
    policy = DuplicatePolicy(policy)
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
    chunks = [new_rows[i : i + CHUNK_ROWS] for i in range(0, len(new_rows), CHUNK_ROWS)]
    with ThreadPoolExecutor(max_workers=get_settings().import_writers) as pool:
        for created, lost, refused in pool.map(lambda chunk: _create_chunk(actor, plan.import_id, chunk), chunks):
            summary.created += created
            summary.failed.extend(refused)
            for row in lost:  # someone created this phone/email after the preview
                row.status = RowStatus.EXISTING
                if policy is DuplicatePolicy.UPDATE:
                    existing.append(row)
                else:
                    summary.skipped += 1
            done += created + len(lost)
            if progress:
                progress(done, total)
    for chunk in (existing[i : i + CHUNK_ROWS] for i in range(0, len(existing), CHUNK_ROWS)):
        summary.updated += _update_chunk(actor, plan.import_id, chunk, summary)
        done += len(chunk)
        if progress:
            progress(min(done, total), total)
    audit = UnitOfWork()
    audit.save(
        audit_row(
            actor,
            "contact.import",
            RESOURCE,
            plan.import_id,
            details={"created": summary.created, "updated": summary.updated, "skipped": summary.skipped, "merged": summary.merged, "invalid": summary.invalid, "policy": policy.value},
        )
    )
    audit.commit()
    return summary


def _create_chunk(actor: Actor, import_id: str, chunk: list[ImportRow]) -> tuple[int, list[ImportRow], list[dict]]:
    """Create a chunk in one transaction; rows whose phone/email got taken meanwhile are returned as lost, and
    the opt-ins the customer's own opt-out refused as (line, reason)."""
    pending = list(chunk)
    lost: list[ImportRow] = []
    while pending:
        now = utcnow()
        work = UnitOfWork()
        contacts = []
        refused: list[dict] = []
        for index, row in enumerate(pending):
            reasons: list[str] = []
            contact = new_contact_row(actor, row.fields, f"import:{import_id}", f"import:{import_id}", now, row.suppressed, reasons)
            refused.extend({"line": row.line, "reason": reason} for reason in reasons)
            contacts.append(contact)
            work.save(contact, ContactModel.contactId.does_not_exist())
            for kind in ("phone", "email"):
                value = getattr(contact, kind)
                if value:
                    work.save(unique_key_row(kind, value, contact.contactId), ContactUniqueKey.contactId.does_not_exist(), label=index)
        work.save(audit_row(actor, "contact.import_batch", RESOURCE, import_id, ["contacts"], {"created": [c.contactId for c in contacts]}, at=now))
        try:
            work.commit()
            return len(pending), lost, refused
        except WriteConflict as conflict:
            taken = {label for label in conflict.labels if isinstance(label, int)}
            if not taken:
                raise
            lost.extend(pending[i] for i in sorted(taken))
            pending = [row for i, row in enumerate(pending) if i not in taken]
    return 0, lost, []


def _update_chunk(actor: Actor, import_id: str, chunk: list[ImportRow], summary: ImportSummary) -> int:
    """Apply rows to the contacts that already hold their phone/email: name, added tags, stated consent."""
    ids = [row.existing_id or _owner_of_row(row) for row in chunk]
    rows_by_id = {c.contactId: c for c in ContactModel.batch_get([i for i in ids if i], consistent_read=True)}
    now = utcnow()
    work = UnitOfWork()
    touched = []
    for row, contact_id in zip(chunk, ids):
        contact = rows_by_id.get(contact_id) if contact_id else None
        if contact is None or contact.deletedAt is not None:
            summary.failed.append({"line": row.line, "reason": "the matching contact was deleted meanwhile"})
            continue
        if contact_id in touched:
            continue
        refused: list[str] = []
        if _apply_row(contact, row, work, import_id, now, refused):
            contact.updatedAt = now
            work.save(contact)
            touched.append(contact_id)
        summary.failed.extend({"line": row.line, "reason": reason} for reason in refused)
    if not touched:
        return 0
    work.save(audit_row(actor, "contact.import_batch", RESOURCE, import_id, ["contacts"], {"updated": touched}, at=now))
    try:
        work.commit()
    except WriteConflict:
        summary.failed.extend({"line": row.line, "reason": "changed by someone else during the import; not updated"} for row in chunk)
        return 0
    return len(touched)


def _owner_of_row(row: ImportRow) -> str | None:
    for kind in ("phone", "email"):
        value = getattr(row.fields, kind)
        if value:
            owner = _owners([ContactUniqueKey.key_for(kind, value)]).get(ContactUniqueKey.key_for(kind, value))
            if owner:
                return owner
    return None


def _apply_row(contact: ContactModel, row: ImportRow, work: UnitOfWork, import_id: str, now, refused: list[str]) -> bool:
    """Update the contact from the row; a consent the customer withdrew themselves stays withdrawn (in `refused`)."""
    changed = False
    fields = row.fields
    if row.named and fields.name != contact.name:
        contact.name = fields.name
        index_for_search(contact)
        changed = True
    tags = set(contact.tags or ()) | set(fields.tags)
    if tags != set(contact.tags or ()):
        contact.tags = tags
        changed = True
    for kind in ("phone", "email"):
        value = getattr(fields, kind)
        if value and not getattr(contact, kind):
            setattr(contact, kind, value)
            claim_unique_keys(work, contact, kinds=(kind,))
            reset_for_new_address(contact, kind, now)  # a record left from a removed address is not for this one
            changed = True
    changed = bool(apply_suppressions(contact, row.suppressed)) or changed
    for channel, wanted in row.consent_given.items():
        if bool(getattr(contact, CONSENT_FIELDS[channel])) != wanted:
            if wanted:
                try:
                    check_business_opt_in(contact, channel)
                except OptedOut as error:
                    refused.append(reason_of(error))
                    continue
            set_consent(contact, channel, wanted, f"import:{import_id}", now)
            changed = True
    return changed
