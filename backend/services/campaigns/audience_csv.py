"""A campaign audience from a CSV file: each row's phone or email is matched to the contact that holds it (the
unique-key rows, read by key in batches: no scan), so a list kept elsewhere can be sent to without importing it
first. A row that matches nobody, or is not a phone or email, is reported with its line and the reason; the
same contact twice counts once. Who of the matched contacts can be reached is the wizard's usual count
(`jobs.preview_audience`), and the job is created with the matched ids (`contactIds`), as if they were picked.

The file is bounded before it is read (MAX_BYTES, and at most jobs.MAX_CONTACT_IDS matched contacts).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from backend.errors import DomainError, ValidationError
from backend.models.contact import ContactUniqueKey
from backend.services.campaigns.jobs import MAX_CONTACT_IDS
from backend.services.contacts.fields import normalise_phone
from backend.services.contacts.import_rows import read_csv
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.validation import normalise_email
from backend.services.platform.settings_catalog import default_region

MAX_BYTES = 2 * 1024 * 1024
UNMATCHED_SHOWN = 200  # rows reported back by line (the count covers them all)


@dataclass
class CsvAudience:
    contact_ids: list[str]
    rows: int  # data rows read
    unmatched_count: int = 0
    unmatched: list[dict] = field(default_factory=list)  # {line, value, reason}, the first UNMATCHED_SHOWN


def match_csv(actor: Actor, data: bytes) -> CsvAudience:
    """The contacts a CSV file's phones and emails name (ValidationError field "file" for a file it cannot use)."""
    require(actor, Operation.BULK_WRITE)
    if len(data) > MAX_BYTES:
        raise ValidationError(f"file: larger than {MAX_BYTES // (1024 * 1024)} MB", field="file")
    rows, _mapping, _ignored, _delimiter = read_csv(data)
    if not rows:
        raise ValidationError("file: has a header but no rows", field="file")
    region = default_region()
    wanted: list[tuple[int, str, str | None]] = []  # line, what the row said, its key (None: not an address)
    problems: list[dict] = []
    for line, raw in rows:
        key, value, reason = _row_key(raw, region)
        if key is None:
            problems.append({"line": line, "value": value, "reason": reason})
        else:
            wanted.append((line, value, key))
    owners = _owners(sorted({key for _, _, key in wanted}))
    ids: dict[str, None] = {}
    for line, value, key in wanted:
        owner = owners.get(key)
        if owner is None:
            problems.append({"line": line, "value": value, "reason": "no contact has this address"})
        else:
            ids.setdefault(owner)
    if len(ids) > MAX_CONTACT_IDS:
        raise ValidationError(f"file: names more than {MAX_CONTACT_IDS:,} contacts; send to a tag instead", field="file")
    problems.sort(key=lambda p: p["line"])
    return CsvAudience(contact_ids=list(ids), rows=len(rows), unmatched_count=len(problems), unmatched=problems[:UNMATCHED_SHOWN])


def _row_key(raw: dict[str, str], region: str) -> tuple[str | None, str, str]:
    """The unique key a row names (its phone, else its email), what it said, and why not when it names none."""
    phone, email = (raw.get("phone") or "").strip(), (raw.get("email") or "").strip()
    if not phone and not email:
        return None, "", "no phone or email"
    try:
        if phone:
            return ContactUniqueKey.key_for("phone", normalise_phone(phone, region)), phone, ""
        return ContactUniqueKey.key_for("email", normalise_email(email)), email, ""
    except DomainError as error:
        return None, phone or email, error.message


def _owners(keys: list[str]) -> dict[str, str]:
    """Unique key → the contact holding it (opt-out records under the same table are not owners)."""
    found: dict[str, str] = {}
    for start in range(0, len(keys), 100):
        for item in ContactUniqueKey.batch_get(keys[start:start + 100]):
            if item.record is None and item.ownerId:
                found[item.contactId] = item.ownerId
    return found
