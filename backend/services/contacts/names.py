"""Who a contact id is, by name, for many ids at once: the lists that show messages (the message log, its CSV
export) name each message's contact without one read per row.

One BatchGetItem (in pages of 100, as DynamoDB takes them) for all the ids; a contact deleted since the message
(soft deleted, or gone) reads "Deleted contact", and a contact without a name is shown by its address, as it
is everywhere else.
"""
from __future__ import annotations


from backend.models.contact import ContactModel
from backend.services.platform.validation import check_row_ids
from backend.services.platform.access import Actor, Operation, require
from backend.services.storage.batch_reads import rows_by_key

DELETED_CONTACT = "Deleted contact"
NAMES_MAX = 500  # ids one lookup takes (a log page names at most 200 messages)


def contact_names(actor: Actor, contact_ids: list[str]) -> dict[str, str]:
    """Each distinct id's display name. Ids must be contact ids: anything else is refused before a read, so an
    address row of the same table (`phone#…`) can never be read as a contact."""
    require(actor, Operation.CONTACTS_READ)
    ids = check_row_ids(contact_ids, "contactIds", NAMES_MAX)
    rows = rows_by_key(ContactModel, ids)
    return {contact_id: display_name(row) for contact_id, row in zip(ids, rows)}


def display_name(row: ContactModel | None) -> str:
    """How a contact is named on every list: its name, else its address; "Deleted contact" once it is gone."""
    if row is None or row.deletedAt is not None:
        return DELETED_CONTACT
    return (row.name or "").strip() or row.phone or row.email or "Unnamed contact"
