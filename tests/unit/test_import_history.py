"""A contact made or changed by a CSV import shows that import in its own history (its audit trail, read by key),
with the file's name, the line and who ran it; the page words it "Imported from …" / "Updated by import of …"."""
from __future__ import annotations

from backend.models.audit import AuditLogModel
from backend.services.contacts import contacts
from backend.services.contacts import importer
from backend.services.contacts.import_writes import CHUNK_ROWS
from backend.services.platform.audit import resource_history
from backend.services.storage.unit_of_work import MAX_ITEMS
from tests.conftest import unique_email, unique_phone
from wecare_app.pages.contacts.display import history_line


def _import(actor, text: str, file_name: str | None = "contacts.csv", policy=importer.DuplicatePolicy.SKIP):
    plan = importer.plan_import(actor, text.encode(), file_name)
    return plan, importer.run_import(actor, plan, policy)


def _contact_id(actor, address: str) -> str:
    return contacts.search_contacts(actor, address).items[0].contact_id


def test_an_imported_contact_s_history_names_the_file_the_line_and_who_imported_it(operator, viewer):
    phone, email = unique_phone(), unique_email()
    plan, summary = _import(operator, f"name,phone,email,sms opt-in\nSomeone Else,{unique_phone()},,\nAnn Lee,{phone},{email},yes\n")
    assert summary.created == 2
    trail = contacts.contact_history(viewer, _contact_id(operator, email))  # whoever reads the contact reads its history
    assert len(trail) == 1
    (entry,) = trail
    assert (entry.action, entry.actor_email, entry.resource_type) == ("contact.import", operator.email, "contact")
    assert entry.details == {"importId": plan.import_id, "file": "contacts.csv", "line": 3, "outcome": "created"}
    assert set(entry.changed_fields) == {"name", "phone", "email", "optInSms"}
    line = history_line(entry)
    assert line["action"] == "Imported from contacts.csv (line 3)" and line["who"] == operator.email


def test_an_import_that_updates_a_contact_adds_an_entry_with_what_it_changed(operator):
    ann = contacts.create_contact(operator, {"name": "Ann", "phone": unique_phone(), "tags": ["old"]})
    _import(operator, f"name,phone,tags\nAnn Lee,{ann.phone},vip\n", "march.csv", importer.DuplicatePolicy.UPDATE)
    newest, created = contacts.contact_history(operator, ann.contact_id)
    assert created.action == "contact.create"
    assert (newest.action, newest.details["outcome"], newest.details["file"], newest.details["line"]) == ("contact.import", "updated", "march.csv", 2)
    assert set(newest.changed_fields) == {"name", "tags"}
    assert history_line(newest)["action"] == "Updated by import of march.csv (line 2)"


def test_an_import_that_changes_nothing_and_a_skipped_row_leave_the_history_alone(operator):
    ann = contacts.create_contact(operator, {"name": "Ann", "phone": unique_phone()})
    _import(operator, f"name,phone\nAnn,{ann.phone}\n", policy=importer.DuplicatePolicy.UPDATE)
    _import(operator, f"name,phone\nAnn Lee,{ann.phone}\n", policy=importer.DuplicatePolicy.SKIP)
    assert [entry.action for entry in contacts.contact_history(operator, ann.contact_id)] == ["contact.create"]


def test_the_file_name_is_kept_without_folders_or_control_characters_and_may_be_absent(operator):
    phone = unique_phone()
    plan, _ = _import(operator, f"name,phone\nBo,{phone}\n", "C:\\Users\\me\\Desktop\\list\x07.csv")
    assert plan.file_name == "list.csv"
    cy = unique_phone()
    _import(operator, f"name,phone\nCy,{cy}\n", None)
    (entry,) = contacts.contact_history(operator, _contact_id(operator, cy))
    assert entry.details["file"] is None and history_line(entry)["action"] == "Imported from a CSV file (line 2)"


def test_every_chunk_fits_one_transaction_with_one_audit_row_naming_its_contacts(operator):
    """More rows than a chunk, each with a phone and an email: each chunk (contact and two keys per row, and one
    audit row naming the chunk's contacts and their lines) stays within DynamoDB's transaction limit, and every
    contact is in exactly one chunk's audit row."""
    assert CHUNK_ROWS * 3 + 1 <= MAX_ITEMS
    rows = [(unique_phone(), unique_email()) for _ in range(CHUNK_ROWS + 3)]
    text = "name,phone,email\n" + "".join(f"P{i},{phone},{email}\n" for i, (phone, email) in enumerate(rows))
    plan, summary = _import(operator, text)
    assert summary.created == len(rows) and not summary.failed
    trail = resource_history(importer.RESOURCE, plan.import_id)
    chunks = [entry for entry in trail if entry.action == "contact.import.created"]
    (whole,) = [entry for entry in trail if entry.action == "contact.import"]
    assert (whole.details["created"], whole.details["file"]) == (len(rows), "contacts.csv")
    listed = [(c["contactId"], c["line"]) for entry in chunks for c in entry.details["contacts"]]
    assert len(chunks) == 2 and len(listed) == len(rows)
    assert dict(listed) == {_contact_id(operator, email): line for line, (_, email) in enumerate(rows, start=2)}
    assert not any(row.resourceType == "contact" for row in AuditLogModel.scan(AuditLogModel.action == "contact.import")
                   if row.resourceId in dict(listed))  # no audit row per new contact
