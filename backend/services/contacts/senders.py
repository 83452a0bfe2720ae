"""The contact behind an inbound message: found by its address through the unique-key rows, or created."""
from __future__ import annotations

from pynamodb.exceptions import PutError

from backend.models.base import utcnow
from backend.models.contact import ContactModel
from backend.services.platform.access import Actor
from backend.services.platform.audit import audit_row
from backend.services.contacts.address_consent import read_suppressions, suppression_keys
from backend.services.contacts.contacts import RESOURCE, ContactFields, claim_unique_keys, index_for_search, new_contact_row, owner_of
from backend.services.storage.expiring_map import ExpiringMap
from backend.services.storage.unit_of_work import UnitOfWork, WriteConflict


def contact_for_sender(actor: Actor, kind: str, address: str, *, display_name: str | None, via: str) -> ContactModel:
    """The live contact owning `address` (kind "phone" or "email"); created, audited, if nobody does.

    Two first messages from a new number racing each other create one contact: the loser's unique-key
    claim fails and it reads the winner's row.
    """
    for _ in range(3):
        owner = owner_of(kind, address)
        if owner:
            try:
                row = ContactModel.get(owner)
            except ContactModel.DoesNotExist:
                continue
            _adopt_profile_name(row, address, display_name)
            return row
        try:
            return _create(actor, kind, address, display_name, via)
        except WriteConflict:
            continue
    raise RuntimeError(f"could not resolve the contact of an inbound {kind} after 3 attempts")


def _create(actor: Actor, kind: str, address: str, display_name: str | None, via: str) -> ContactModel:
    now = utcnow()
    fields = ContactFields(
        name=(display_name or "").strip()[:200] or address,
        phone=address if kind == "phone" else None,
        email=address if kind == "email" else None,
        tags=(),
        consent={},
    )
    suppressed = read_suppressions(suppression_keys(fields.phone, fields.email))  # a returning customer's opt-outs
    row = new_contact_row(actor, fields, via, via, now, suppressed)
    work = UnitOfWork()
    work.save(row, ContactModel.contactId.does_not_exist())
    claim_unique_keys(work, row)
    work.save(audit_row(actor, "contact.create", RESOURCE, row.contactId, ["name", kind], {"via": via}, at=now))
    work.commit()
    return row


def _adopt_profile_name(row: ContactModel, address: str, display_name: str | None) -> None:
    """A contact created from a bare number takes the customer's profile name once it is known."""
    name = (display_name or "").strip()[:200]
    if not name or row.name != address:
        return
    row.name = name
    index_for_search(row)
    row.updatedAt = utcnow()
    try:
        row.save()
    except PutError:  # a concurrent edit wins; the name is cosmetic and the next message retries
        row.refresh()


# Address → contact id for a few minutes, so a busy conversation skips the lookup. Callers make their writes
# conditional on the contact still owning the address and `forget` it when that fails: a stale entry costs
# one retry, never a misfiled message.
sender_ids: ExpiringMap[str] = ExpiringMap(capacity=50_000, ttl_seconds=300.0)
