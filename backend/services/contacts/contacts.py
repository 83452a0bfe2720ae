"""Contacts: create, read, update, soft delete and search, with unique phone/email and per-channel consent.

Uniqueness is enforced by unique-key rows written in the same transaction as the contact (see
`backend.models.contact`), never by a read-then-write check. Search uses keys and indexes only.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from backend.errors import Conflict, NotFound, OptedOut, ValidationError
from backend.models.base import utcnow
from backend.models.contact import LIVE_PARTITION, ChannelConsents, ContactModel, ContactUniqueKey
from backend.services.rules.channels import channel_info
from backend.services.rules.consent import check_business_opt_in, reason_of
from backend.services.contacts.address_consent import (
    Suppressions,
    apply_suppressions,
    read_suppressions,
    reset_for_new_address,
    set_consent,
    suppression_keys,
)
from backend.services.storage import page_tokens
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.audit import AuditEntry, audit_row, resource_history
from backend.services.storage.batch_reads import rows_by_key
from backend.services.contacts.fields import (
    fold_name,
    looks_like_phone,
    name_or_address,
    normalise_phone,
    normalise_tags,
)
from backend.services.contacts.schemas import (
    CHANNELS,
    CONSENT_FIELDS,
    Contact,
    ContactCreate,
    ContactPage,
    ContactUpdate,
)
from backend.services.contacts.views import to_contact
from backend.services.storage.unit_of_work import UnitOfWork, WriteConflict
from backend.services.platform.validation import is_row_id, normalise_email, parse_input
from backend.services.platform.settings_catalog import default_region

RESOURCE = "contact"
PAGE_MAX = 100
_UNIQUE_FIELDS = ("phone", "email")


@dataclass(frozen=True)
class ContactFields:
    """A contact's validated, normalised values (what a create, an update or an import row resolves to)."""

    name: str
    phone: str | None
    email: str | None
    tags: tuple[str, ...]
    consent: dict[str, bool]


# ---------------------------------------------------------------- validation


def clean_create(data: ContactCreate) -> ContactFields:
    """Normalise a create request; every field error is reported, not only the first."""
    address_errors: list[dict] = []
    phone = _collect(address_errors, lambda: normalise_phone(data.phone, default_region())) if data.phone else None
    email = _collect(address_errors, lambda: normalise_email(data.email)) if data.email else None
    errors: list[dict] = []
    name = _collect(errors, lambda: name_or_address(data.name, phone, email))
    errors.extend(address_errors)
    tags = _collect(errors, lambda: normalise_tags(data.tags)) or []
    if not errors and not phone and not email:
        errors.append({"field": "phone", "reason": "a contact needs a phone number or an email address"})
    _raise_if(errors)
    consent = {channel: getattr(data, f"opt_in_{channel}") for channel in CHANNELS}
    for channel, wanted in consent.items():
        if wanted and not _reachable(channel, phone, email):
            errors.append({"field": CONSENT_FIELDS[channel], "reason": needs_address(channel)})
    _raise_if(errors)
    return ContactFields(name=name, phone=phone, email=email, tags=tuple(tags), consent=consent)


def _reachable(channel: str, phone: str | None, email: str | None) -> bool:
    return bool(email) if channel_info(channel).address == "email" else bool(phone)


def needs_address(channel: str) -> str:
    return "needs an email" if channel_info(channel).address == "email" else "needs a phone"


def _collect(errors: list[dict], produce):
    try:
        return produce()
    except ValidationError as error:
        errors.append({"field": error.field, "reason": error.message})
        return None


def _raise_if(errors: list[dict]) -> None:
    if errors:
        first = errors[0]
        raise ValidationError(f"{first['field']}: {first['reason']}", field=first["field"], details=errors)


# ---------------------------------------------------------------- rows and unique keys


def index_for_search(row: ContactModel) -> None:
    folded = fold_name(row.name)
    row.nameBucket = folded[:1] or "_"
    row.nameSort = f"{folded}#{row.contactId}"
    row.listPartition = LIVE_PARTITION


def new_contact_row(actor: Actor, fields: ContactFields, via: str, source: str, now: datetime,
                    suppressed: Suppressions | None = None, refused: list[str] | None = None) -> ContactModel:
    """A new contact with the consent asked for, after the customer's opt-outs kept for its addresses. An opt-in
    the customer's opt-out forbids is refused: raised, or (an import's rows) noted in `refused` and left off."""
    row = ContactModel(
        contactId=uuid.uuid4().hex,
        name=fields.name,
        phone=fields.phone,
        email=fields.email,
        tags=set(fields.tags) or None,
        createdAt=now,
        updatedAt=now,
        createdBy=actor.user_id,
        createdVia=via,
        consent=ChannelConsents(),
    )
    apply_suppressions(row, suppressed or {})
    for channel, opted_in in fields.consent.items():
        if not opted_in:
            continue
        try:
            check_business_opt_in(row, channel)
        except OptedOut as error:
            if refused is None:
                raise
            refused.append(reason_of(error))
            continue
        set_consent(row, channel, True, source, now)
    index_for_search(row)
    return row


def filled_fields(row: ContactModel) -> list[str]:
    """What a new contact was given, for its creation's audit row: the fields set and the channels opted in."""
    changed = [name for name in ("name", "phone", "email", "tags") if getattr(row, name)]
    return changed + [CONSENT_FIELDS[c] for c in CHANNELS if getattr(row, CONSENT_FIELDS[c])]


def unique_key_row(kind: str, value: str, owner_id: str) -> ContactUniqueKey:
    return ContactUniqueKey(contactId=ContactUniqueKey.key_for(kind, value), ownerId=owner_id)


def claim_unique_keys(work: UnitOfWork, row: ContactModel, kinds=_UNIQUE_FIELDS) -> None:
    for kind in kinds:
        value = getattr(row, kind)
        if value:
            work.save(unique_key_row(kind, value, row.contactId), ContactUniqueKey.contactId.does_not_exist(), label=kind)


def _release_unique_key(work: UnitOfWork, kind: str, value: str, owner_id: str) -> None:
    work.delete(unique_key_row(kind, value, owner_id), ContactUniqueKey.ownerId == owner_id)


def owner_of(kind: str, value: str) -> str | None:
    """The live contact holding a phone or email, by key (GetItem), or None."""
    try:
        return ContactUniqueKey.get(ContactUniqueKey.key_for(kind, value), consistent_read=True).ownerId
    except ContactUniqueKey.DoesNotExist:
        return None


def _conflict_for(labels: list, fields: dict[str, str | None]) -> Conflict:
    for kind in _UNIQUE_FIELDS:
        if kind in labels and fields.get(kind):
            owner = owner_of(kind, fields[kind])
            return Conflict(
                f"A contact with this {kind} already exists ({fields[kind]}).",
                field=kind,
                details=[{"field": kind, "reason": "already used", "contactId": owner}],
            )
    return Conflict("The contact was changed by someone else; reload it and try again.", field=None)


# ---------------------------------------------------------------- services


def create_contact(actor: Actor, data: ContactCreate | dict, *, via: str = "api") -> Contact:
    require(actor, Operation.CONTACTS_WRITE)
    request = parse_input(ContactCreate, data)
    fields = clean_create(request)
    now = utcnow()
    suppressed = read_suppressions(suppression_keys(fields.phone, fields.email))
    row = new_contact_row(actor, fields, via, via, now, suppressed)  # sources are the system's words, not the caller's
    work = UnitOfWork()
    work.save(row, ContactModel.contactId.does_not_exist())
    claim_unique_keys(work, row)
    work.save(audit_row(actor, "contact.create", RESOURCE, row.contactId, filled_fields(row), {"via": via}, at=now))
    try:
        work.commit()
    except WriteConflict as conflict:
        raise _conflict_for(conflict.labels, {"phone": row.phone, "email": row.email}) from None
    return to_contact(row)


def live_contact_row(contact_id: str, consistent: bool = False) -> ContactModel:
    if not is_row_id(contact_id):
        raise NotFound(f"No contact {contact_id!r}.", field="contactId")
    try:
        row = ContactModel.get(contact_id, consistent_read=consistent)
    except ContactModel.DoesNotExist:
        raise NotFound(f"No contact {contact_id!r}.", field="contactId") from None
    if row.deletedAt is not None:
        raise NotFound(f"No contact {contact_id!r}.", field="contactId")
    return row


def get_contact(actor: Actor, contact_id: str) -> Contact:
    require(actor, Operation.CONTACTS_READ)
    return to_contact(live_contact_row(contact_id))


def update_contact(actor: Actor, contact_id: str, data: ContactUpdate | dict, *, via: str = "api") -> Contact:
    """Apply a partial update to the contact as it is now. The patch is applied to a fresh read; if the row
    changes between that read and the write (e.g. a message arrives and bumps its conversation summary),
    the patch is simply applied again, up to three times. A phone or email taken by another contact is a 409."""
    require(actor, Operation.CONTACTS_WRITE)
    request = parse_input(ContactUpdate, data)
    for attempt in range(3):
        row = live_contact_row(contact_id, consistent=True)
        now = utcnow()
        work = UnitOfWork()
        changed = _apply_update(row, request, work, via, now)
        if not changed:
            return to_contact(row)
        row.updatedAt = now
        work.save(row)  # the version attribute makes this fail if the row changed since the read
        work.save(audit_row(actor, "contact.update", RESOURCE, row.contactId, changed, {"via": via}, at=now))
        try:
            work.commit()
        except WriteConflict as conflict:
            if any(label in _UNIQUE_FIELDS for label in conflict.labels) or attempt == 2:
                raise _conflict_for(conflict.labels, {"phone": row.phone, "email": row.email}) from None
            continue
        return to_contact(row)
    raise AssertionError("unreachable")


def _apply_update(row: ContactModel, request: ContactUpdate, work: UnitOfWork, via: str, now: datetime) -> list[str]:
    """Validate the patch against the row, mutate the row, queue key claims/releases; return changed fields."""
    present = request.model_fields_set
    errors: list[dict] = []
    changed: list[str] = []
    had = {attr: bool(getattr(row, attr)) for attr in CONSENT_FIELDS.values()}  # the opt-ins before this patch
    new_values = {}
    for kind, normalise in (("phone", lambda v: normalise_phone(v, default_region())), ("email", normalise_email)):
        if kind in present:
            raw = getattr(request, kind)
            new_values[kind] = _collect(errors, lambda: normalise(raw)) if raw else None
    if "name" in present:  # a cleared name shows the contact by its address, as on create
        phone, email = new_values.get("phone", row.phone), new_values.get("email", row.email)
        name = _collect(errors, lambda: name_or_address(request.name, phone, email))
        if name and name != row.name:
            row.name = name
            index_for_search(row)
            changed.append("name")
    if "tags" in present:
        tags = _collect(errors, lambda: normalise_tags(request.tags or []))
        if tags is not None and set(tags) != set(row.tags or ()):
            row.tags = set(tags) or None
            changed.append("tags")
    _raise_if(errors)
    moved = []
    for kind, value in new_values.items():
        old = getattr(row, kind)
        if value == old:
            continue
        if old:
            _release_unique_key(work, kind, old, row.contactId)
        setattr(row, kind, value)
        if value:
            work.save(unique_key_row(kind, value, row.contactId), ContactUniqueKey.contactId.does_not_exist(), label=kind)
        changed.append(kind)
        changed += [a for a in reset_for_new_address(row, kind, now) if a not in changed]  # consent was for the old one
        moved.append(kind)
    if not row.phone and not row.email:
        raise ValidationError("phone: a contact needs a phone number or an email address", field="phone")
    if moved:
        suppressed = read_suppressions(suppression_keys(*(getattr(row, kind) if kind in moved else None for kind in _UNIQUE_FIELDS)))
        changed += [a for a in apply_suppressions(row, suppressed) if a not in changed]
    source = via  # consent sources are the system's words, not the caller's
    for channel, attr in CONSENT_FIELDS.items():
        wanted = getattr(request, f"opt_in_{channel}")
        if wanted is None or wanted == had[attr] or bool(getattr(row, attr)) == wanted:
            continue  # not asked, or the switch as it was (a new address does not inherit it)
        if wanted and not _reachable(channel, row.phone, row.email):
            raise ValidationError(f"{attr}: {needs_address(channel)}", field=attr)
        if wanted:
            check_business_opt_in(row, channel)  # the customer's own opt-out is theirs to lift
        set_consent(row, channel, wanted, source, now)
        changed.append(attr)
    return changed


def delete_contact(actor: Actor, contact_id: str, *, via: str = "api") -> None:
    """Soft delete: the row stays for the audit trail, but leaves every index and frees its phone/email."""
    require(actor, Operation.CONTACTS_DELETE)
    row = live_contact_row(contact_id, consistent=True)
    now = utcnow()
    work = UnitOfWork()
    for kind in _UNIQUE_FIELDS:
        value = getattr(row, kind)
        if value:
            _release_unique_key(work, kind, value, row.contactId)
    row.deletedAt = now
    row.updatedAt = now
    row.nameBucket = None
    row.nameSort = None
    row.listPartition = None
    work.save(row)
    work.save(audit_row(actor, "contact.delete", RESOURCE, row.contactId, ["deletedAt"], {"via": via}, at=now))
    try:
        work.commit()
    except WriteConflict:
        raise Conflict("The contact was changed by someone else; reload it and try again.") from None


def search_contacts(actor: Actor, q: str | None = None, *, limit: int = 25, next_token: str | None = None) -> ContactPage:
    """Newest first with no query; exact match for an email or phone; name prefix otherwise."""
    require(actor, Operation.CONTACTS_READ)
    if not isinstance(limit, int) or not 1 <= limit <= PAGE_MAX:
        raise ValidationError(f"limit: must be between 1 and {PAGE_MAX}", field="limit")
    query = (q or "").strip()
    if len(query) > 254:
        raise ValidationError("q: at most 254 characters", field="q")
    if not query:
        return _page(ContactModel.by_created, LIVE_PARTITION, None, ("listPartition", "createdAt"), limit, next_token, query, forward=False)
    if "@" in query:
        return _exact("email", _normalise_or_none(lambda: normalise_email(query)))
    if looks_like_phone(query):
        return _exact("phone", _normalise_or_none(lambda: normalise_phone(query, default_region())))
    folded = fold_name(query)
    return _page(
        ContactModel.by_name,
        folded[:1],
        ContactModel.nameSort.startswith(folded),
        ("nameBucket", "nameSort"),
        limit,
        next_token,
        query,
        forward=True,
    )


def _normalise_or_none(produce) -> str | None:
    try:
        return produce()
    except ValidationError:
        return None


def _exact(kind: str, value: str | None) -> ContactPage:
    owner = owner_of(kind, value) if value else None
    if not owner:
        return ContactPage(items=[])
    try:
        return ContactPage(items=[to_contact(live_contact_row(owner))])
    except NotFound:
        return ContactPage(items=[])


def _page(index, hash_value, range_condition, index_keys, limit, next_token, query, forward) -> ContactPage:
    start = page_tokens.decode(next_token, query, ("contactId", *index_keys)) if next_token else None
    rows = list(
        index.query(
            hash_value,
            range_condition,
            scan_index_forward=forward,
            limit=limit + 1,
            page_size=limit + 1,
            last_evaluated_key=start,
        )
    )
    token = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1].serialize(null_check=False)  # a keys-only index row lacks the other attributes
        token = page_tokens.encode({k: last[k] for k in ("contactId", *index_keys)}, query)
    return ContactPage(items=rows_by_key(ContactModel, [row.contactId for row in rows], to_contact), next_token=token)


IMPORT_ACTION = "contact.import"  # a contact's history entry for the import that made or changed it
IMPORT_CREATED = "created"


def contact_history(actor: Actor, contact_id: str, limit: int = 50) -> list[AuditEntry]:
    """The audit trail of one contact, newest first; whoever may read the contact may read its history. A contact
    an import made starts with that import (the file, the line, who ran it), read from the contact itself."""
    require(actor, Operation.CONTACTS_READ)
    trail = resource_history(RESOURCE, contact_id, limit)
    if len(trail) < limit:
        try:
            row = ContactModel.get(contact_id, attributes_to_get=["contactId", "imported", "createdAt", "createdBy"])
        except ContactModel.DoesNotExist:
            return trail
        if row.imported:
            trail.append(_import_entry(row))
    return trail


def _import_entry(row: ContactModel) -> AuditEntry:
    imported = row.imported
    return AuditEntry(
        audit_id=f"import#{imported.get('importId')}#{row.contactId}", at=row.createdAt, actor_id=row.createdBy or "",
        actor_email=imported.get("by"), actor_role=imported.get("role"), action=IMPORT_ACTION, resource_type=RESOURCE,
        resource_id=row.contactId, changed_fields=list(imported.get("fields") or []),
        details={"importId": imported.get("importId"), "file": imported.get("file"), "line": imported.get("line"),
                 "outcome": IMPORT_CREATED},
    )
