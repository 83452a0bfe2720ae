"""Who a dead letter was for: the contact's name and the address the message was for, worked out here so that
no page or client does. A listing reads the contacts of all its entries in one BatchGetItem, never one per entry.

The address is the one the entry recorded, when it did (the payload's `address`); otherwise the contact's, of
the kind the channel sends to (phone or email). A deleted contact keeps its row for the audit trail, with its
phone and email: it reads as "Deleted contact" and that address."""
from __future__ import annotations

from dataclasses import dataclass

from backend.models.contact import ContactModel
from backend.models.messaging import DLQMessageModel
from backend.services.contacts.names import display_name
from backend.services.rules.channels import channel_info
from backend.services.storage.batch_reads import rows_by_key


@dataclass(frozen=True)
class Recipient:
    name: str
    address: str | None
    deleted: bool


def recipients(rows: list[DLQMessageModel]) -> dict[str, Recipient]:
    """Each entry's recipient, by dlqId, from one batch read of the entries' contacts."""
    contact_ids = [row.contactId for row in rows if row.contactId]
    contacts = {contact.contactId: contact for contact in rows_by_key(ContactModel, contact_ids) if contact is not None}
    return {row.dlqId: recipient(row, contacts.get(row.contactId or "")) for row in rows}


def recipient(row: DLQMessageModel, contact: ContactModel | None) -> Recipient:
    recorded = (row.payload or {}).get("address")
    address = recorded if isinstance(recorded, str) and recorded else _address_of(contact, row.queue)
    return Recipient(display_name(contact), address, contact is None or contact.deletedAt is not None)


def _address_of(contact: ContactModel | None, queue: str) -> str | None:
    """The contact's phone or email, whichever the queue's channel sends to."""
    if contact is None:
        return None
    return getattr(contact, channel_info(queue).address, None)
