"""CSV import: every row gets a verdict with reasons; writes are whole chunks; duplicates as chosen."""
import pytest

from backend.errors import PermissionDenied, ValidationError
from backend.services.contacts import importer as contact_import
from backend.services.contacts import contacts
from backend.services.contacts.importer import DuplicatePolicy, RowStatus


def _csv(text: str) -> bytes:
    return text.encode()


def test_bom_semicolons_blank_lines_and_verdicts(operator):
    data = "\ufeffFull Name;Mobile;E-Mail;Labels;SMS opt-in;Notes\n\nAnn Lee;07911 123456;ANN@example.com;a|b;yes;x\n;;;;;\nBob;07911 123456;;;;\nCid;123;bad;;maybe;\n"
    plan = contact_import.plan_import(operator, _csv(data))
    assert plan.delimiter == ";"
    assert plan.ignored_columns == ["Notes"]
    assert [(r.line, r.status) for r in plan.rows] == [(3, RowStatus.NEW), (5, RowStatus.DUPLICATE), (6, RowStatus.INVALID)]
    assert plan.rows[1].errors == [{"field": "phone", "reason": "same phone as line 3: merged into line 3"}]
    assert {e["field"] for e in plan.rows[2].errors} == {"phone", "email", "optInSms"}
    summary = contact_import.run_import(operator, plan)
    assert (summary.created, summary.merged, summary.invalid) == (1, 1, 1)
    ann = contacts.search_contacts(operator, "ann@example.com").items[0]
    assert (ann.phone, ann.tags, ann.opt_in_sms, ann.created_via) == ("+447911123456", ["a", "b"], True, f"import:{plan.import_id}")


def test_existing_contacts_are_skipped_or_updated(operator):
    ann = contacts.create_contact(operator, {"name": "Ann", "phone": "+447911123456", "tags": ["old"]})
    data = "name,phone,tags,whatsapp opt-in\nAnn Lee,+447911123456,new,yes\nBob,+447911123457,,\n"
    plan = contact_import.plan_import(operator, _csv(data))
    assert [r.status for r in plan.rows] == [RowStatus.EXISTING, RowStatus.NEW]
    skipped = contact_import.run_import(operator, plan, DuplicatePolicy.SKIP)
    assert (skipped.created, skipped.skipped, skipped.updated) == (1, 1, 0)
    assert contacts.get_contact(operator, ann.contact_id).name == "Ann"
    plan = contact_import.plan_import(operator, _csv(data))
    updated = contact_import.run_import(operator, plan, DuplicatePolicy.UPDATE)
    assert (updated.created, updated.updated) == (0, 1)  # Bob matches but nothing of his changes
    after = contacts.get_contact(operator, ann.contact_id)
    assert (after.name, after.tags, after.opt_in_whatsapp) == ("Ann Lee", ["new", "old"], True)


def test_whole_file_problems_are_one_clear_error(operator):
    for data, reason in [(b"", "empty"), (b"name,notes\nAnn,x\n", "phone or an email")]:
        with pytest.raises(ValidationError, match=reason) as raised:
            contact_import.plan_import(operator, data)
        assert raised.value.field == "file"


def test_oversize_field_is_a_row_error(operator):
    plan = contact_import.plan_import(operator, _csv(f"name,phone\n{'x' * 3000},+447911123456\n"))
    assert plan.rows[0].status is RowStatus.INVALID and plan.rows[0].errors[0]["field"] == "name"


def test_viewer_cannot_import(viewer):
    with pytest.raises(PermissionDenied):
        contact_import.plan_import(viewer, b"name,phone\nAnn,+447911123456\n")


def test_a_row_taken_after_the_preview_is_not_duplicated(operator):
    plan = contact_import.plan_import(operator, _csv("name,phone\nAnn,+447911123456\nBob,+447911123457\n"))
    contacts.create_contact(operator, {"name": "Racer", "phone": "+447911123456"})
    summary = contact_import.run_import(operator, plan, DuplicatePolicy.SKIP)
    assert (summary.created, summary.skipped) == (1, 1)
    assert [c.name for c in contacts.search_contacts(operator, "+447911123456").items] == ["Racer"]


def test_progress_reaches_the_total(operator):
    rows = "\n".join(f"P{i},+4479111{i:05d}" for i in range(70))
    plan = contact_import.plan_import(operator, _csv("name,phone\n" + rows))
    seen = []
    contact_import.run_import(operator, plan, progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 70) and seen[-1] == (70, 70)
    assert len(contacts.search_contacts(operator, "p", limit=100).items) == 70


def test_duplicates_in_the_file_merge_their_tags_into_the_first_line(operator):
    data = "name,phone,email,tags\nAnn,+447911123456,,red\nAnn L,07911 123456,,blue;red\nAnn E,,ann@example.com,x\nAnn,+447911123457,ANN@example.com,green\n"
    plan = contact_import.plan_import(operator, _csv(data))
    assert [r.status for r in plan.rows] == [RowStatus.NEW, RowStatus.DUPLICATE, RowStatus.NEW, RowStatus.DUPLICATE]
    assert plan.rows[1].errors == [{"field": "phone", "reason": "same phone as line 2: merged into line 2 (tags added: blue)"}]
    assert plan.rows[3].errors[0]["reason"] == "same email as line 4: merged into line 4 (tags added: green)"
    summary = contact_import.run_import(operator, plan)
    assert (summary.created, summary.merged, summary.invalid) == (2, 2, 0)
    assert contacts.search_contacts(operator, "+447911123456").items[0].tags == ["blue", "red"]
    assert contacts.search_contacts(operator, "ann@example.com").items[0].tags == ["green", "x"]


def test_a_row_without_a_name_is_shown_by_its_address_and_one_without_any_is_refused(operator):
    plan = contact_import.plan_import(operator, _csv("name,phone,email\n,+447911123456,\n,,bo@example.com\n,x,\n"))
    assert [r.status for r in plan.rows[:2]] == [RowStatus.NEW, RowStatus.NEW]
    assert [r.fields.name for r in plan.rows[:2]] == ["+447911123456", "bo@example.com"]
    assert plan.rows[2].status is RowStatus.INVALID and {e["field"] for e in plan.rows[2].errors} == {"name", "phone"}
    assert contact_import.run_import(operator, plan).created == 2
    assert contacts.search_contacts(operator, "bo@example.com").items[0].name == "bo@example.com"


def test_a_file_with_only_a_phone_column_imports(operator):
    plan = contact_import.plan_import(operator, b"phone\n+447911123456\n")
    assert plan.rows[0].status is RowStatus.NEW and plan.rows[0].fields.name == "+447911123456"


def test_an_unnamed_row_does_not_rename_the_existing_contact(operator):
    ann = contacts.create_contact(operator, {"name": "Ann", "phone": "+447911123456"})
    plan = contact_import.plan_import(operator, b"name,phone,tags\n,+447911123456,new\n")
    assert contact_import.run_import(operator, plan, DuplicatePolicy.UPDATE).updated == 1
    after = contacts.get_contact(operator, ann.contact_id)
    assert (after.name, after.tags) == ("Ann", ["new"])
