"""Reading a contacts CSV and judging each row, before anything is written: the file's columns mapped to fields
(by common header names), every row parsed into a contact's fields or an invalid verdict with reasons, and later
rows repeating an earlier row's phone or email merged into it. No table is read here (importer.py asks who already
holds each address)."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, replace
from enum import Enum

from backend.errors import ValidationError
from backend.services.platform.validation import normalise_email
from backend.services.rules.file_types import refuse_binary
from backend.services.contacts.address_consent import Suppressions
from backend.services.contacts.contacts import ContactFields
from backend.services.contacts.fields import name_or_address, normalise_phone, normalise_tags
from backend.services.contacts.schemas import CHANNELS, CONSENT_FIELDS

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000
MAX_FIELD = 2_000
MAX_FILE_NAME = 120

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


def parse_row(line: int, raw: dict[str, str], region: str) -> ImportRow:
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


def merge_in_file_duplicates(rows: list[ImportRow]) -> None:
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


def file_label(name: str | None) -> str | None:
    """The uploaded file's own name as the contacts' history shows it: no folders (a browser may send a path), no
    control characters, at most MAX_FILE_NAME characters; None when the caller gave none."""
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()
    return cleaned[:MAX_FILE_NAME] or None
