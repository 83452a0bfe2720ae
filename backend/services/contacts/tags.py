"""Contacts by tag: a campaign's audience. Read through the `byCreated` index (a Query of the live contacts,
never a Scan) and the rows by key, a page at a time, so a large audience is expanded in steps that can resume."""
from __future__ import annotations

from backend.models.contact import LIVE_PARTITION, ContactModel
from backend.services.storage.batch_reads import rows_by_key

PAGE = 500


def tagged_page(tags: list[str], start: dict | None = None, page: int = PAGE) -> tuple[list[ContactModel], dict | None]:
    """Live contacts carrying any of `tags` among the next `page` contacts (oldest first) after `start`, and
    where the next page starts (None at the end)."""
    wanted = set(tags)
    keys = ContactModel.by_created.query(LIVE_PARTITION, scan_index_forward=True, limit=page, page_size=page,
                                         last_evaluated_key=start)
    ids = [key.contactId for key in keys]
    rows = [row for row in rows_by_key(ContactModel, ids) if row is not None and row.deletedAt is None and wanted & set(row.tags or ())]
    return rows, keys.last_evaluated_key


def contacts_with_tags(tags: list[str]) -> list[str]:
    """The ids of every live contact carrying any of `tags`."""
    found: list[str] = []
    start = None
    while True:
        rows, start = tagged_page(tags, start)
        found += [row.contactId for row in rows]
        if not start:
            return found
