"""Contacts through the service layer (moto DynamoDB): the rules every door relies on."""
import pytest

from backend.errors import Conflict, NotFound, PermissionDenied, Unauthenticated, ValidationError
from backend.models.audit import AuditLogModel
from backend.models.contact import ContactModel
from backend.services.contacts import contacts
from backend.services.platform.access import Actor
from tests.conftest import unique_email, unique_phone


def _count_contacts() -> int:
    return sum(1 for row in ContactModel.scan() if "#" not in row.contactId)


def test_create_normalises_and_records_consent_and_audit(operator):
    created = contacts.create_contact(
        operator,
        {"name": " Ann  Lee ", "phone": "07911 123456", "email": "Ann@Example.com", "optInSms": True, "tags": ["VIP"]},
    )
    assert (created.name, created.phone, created.email, created.tags) == ("Ann Lee", "+447911123456", "ann@example.com", ["vip"])
    assert created.opt_in_sms and not created.opt_in_whatsapp and not created.opt_in_email
    assert created.consent["sms"].source == "api"
    audit = list(AuditLogModel.query(f"contact#{created.contact_id}"))
    assert [(a.action, a.actorId) for a in audit] == [("contact.create", "u-operator")]
    assert {"name", "phone", "email", "optInSms", "tags"} <= audit[0].changedFields


def test_viewer_and_anonymous_cannot_write_and_nothing_is_written(viewer):
    with pytest.raises(PermissionDenied):
        contacts.create_contact(viewer, {"name": "X", "phone": unique_phone()})
    with pytest.raises(Unauthenticated):
        contacts.create_contact(Actor.anonymous(), {"name": "X", "phone": unique_phone()})
    assert _count_contacts() == 0
    assert list(AuditLogModel.scan()) == []


def test_bad_input_reports_every_field_and_writes_nothing(operator):
    with pytest.raises(ValidationError) as raised:
        contacts.create_contact(operator, {"name": "", "phone": "12", "email": "nope"})
    assert [d["field"] for d in raised.value.details] == ["name", "phone", "email"]
    with pytest.raises(ValidationError) as raised:
        contacts.create_contact(operator, {"name": "Ann", "phone": unique_phone(), "nickname": "A"})
    assert raised.value.field == "nickname"
    with pytest.raises(ValidationError) as raised:
        contacts.create_contact(operator, {"name": "Ann", "phone": unique_phone(), "optInSms": "yes"})
    assert raised.value.field == "optInSms"
    with pytest.raises(ValidationError, match="needs an email"):
        contacts.create_contact(operator, {"name": "Ann", "phone": unique_phone(), "optInEmail": True})
    assert _count_contacts() == 0


def test_a_contact_without_a_name_is_shown_by_its_address(operator):
    phone, email = unique_phone(), unique_email()
    by_phone = contacts.create_contact(operator, {"phone": phone, "email": email})
    by_email = contacts.create_contact(operator, {"name": "  ", "email": email.replace("@", "2@")})
    assert (by_phone.name, by_email.name) == (phone, email.replace("@", "2@"))
    assert contacts.search_contacts(operator, phone).items[0].name == phone
    for nameless in ({}, {"name": ""}, {"name": "", "phone": "12"}):
        with pytest.raises(ValidationError) as raised:
            contacts.create_contact(operator, nameless)
        assert raised.value.field == "name"
    assert _count_contacts() == 2


def test_clearing_the_name_shows_the_contact_by_its_address(operator):
    phone = unique_phone()
    ann = contacts.create_contact(operator, {"name": "Ann", "phone": phone})
    assert contacts.update_contact(operator, ann.contact_id, {"name": ""}).name == phone


def test_phone_and_email_are_unique_among_live_contacts(operator):
    phone, email = unique_phone(), unique_email()
    first = contacts.create_contact(operator, {"name": "Ann", "phone": phone, "email": email})
    with pytest.raises(Conflict) as raised:
        contacts.create_contact(operator, {"name": "Bob", "phone": phone})
    assert raised.value.field == "phone" and raised.value.details[0]["contactId"] == first.contact_id
    with pytest.raises(Conflict) as raised:
        contacts.create_contact(operator, {"name": "Bob", "email": email.upper()})
    assert raised.value.field == "email"
    assert _count_contacts() == 1


def test_update_changes_only_given_fields_and_moves_unique_keys(operator):
    old_phone = unique_phone()
    ann = contacts.create_contact(operator, {"name": "Ann", "phone": old_phone, "email": unique_email()})
    new_phone = unique_phone()
    updated = contacts.update_contact(operator, ann.contact_id, {"phone": new_phone, "optInWhatsApp": True})
    assert updated.phone == new_phone and updated.email == ann.email and updated.opt_in_whatsapp
    # the old number is free again, the new one is taken
    contacts.create_contact(operator, {"name": "Bob", "phone": old_phone})
    with pytest.raises(Conflict):
        contacts.create_contact(operator, {"name": "Cid", "phone": new_phone})
    actions = [a.action for a in AuditLogModel.query(f"contact#{ann.contact_id}")]
    assert actions == ["contact.create", "contact.update"]


def test_removing_the_only_address_is_refused(operator):
    ann = contacts.create_contact(operator, {"name": "Ann", "phone": unique_phone()})
    with pytest.raises(ValidationError):
        contacts.update_contact(operator, ann.contact_id, {"phone": None})
    assert contacts.get_contact(operator, ann.contact_id).phone == ann.phone


def test_clearing_an_address_withdraws_its_consent(operator):
    ann = contacts.create_contact(operator, {"name": "Ann", "phone": unique_phone(), "email": unique_email(), "optInEmail": True})
    updated = contacts.update_contact(operator, ann.contact_id, {"email": None})
    assert updated.email is None and not updated.opt_in_email
    assert updated.consent["email"].opted_in is False


def test_soft_delete_hides_everywhere_and_frees_the_phone(operator, viewer):
    phone, email = unique_phone(), unique_email()
    ann = contacts.create_contact(operator, {"name": "Annabel", "phone": phone, "email": email})
    with pytest.raises(PermissionDenied):
        contacts.delete_contact(viewer, ann.contact_id)
    contacts.delete_contact(operator, ann.contact_id)
    with pytest.raises(NotFound):
        contacts.get_contact(viewer, ann.contact_id)
    with pytest.raises(NotFound):
        contacts.update_contact(operator, ann.contact_id, {"name": "B"})
    for q in ("annab", phone, email, ""):
        assert contacts.search_contacts(viewer, q).items == []
    assert ContactModel.get(ann.contact_id).deletedAt is not None  # kept for the audit trail
    contacts.create_contact(operator, {"name": "New owner", "phone": phone, "email": email})


def test_unique_key_rows_are_not_readable_as_contacts(operator):
    phone = unique_phone()
    contacts.create_contact(operator, {"name": "Ann", "phone": phone})
    with pytest.raises(NotFound):
        contacts.get_contact(operator, f"phone#{phone}")


def test_search_by_name_prefix_phone_email_and_paging(operator, viewer):
    names = ["Zoë Adams", "Zoe Baker", "Zola Chen", "Zoran Diaz", "Ann Lee"]
    made = {n: contacts.create_contact(operator, {"name": n, "phone": unique_phone(), "email": unique_email()}) for n in names}

    found = [c.name for c in contacts.search_contacts(viewer, "ZOE").items]
    assert sorted(found) == ["Zoe Baker", "Zoë Adams"]
    ann = made["Ann Lee"]
    spaced = f"{ann.phone[:3]} {ann.phone[3:7]} {ann.phone[7:]}"
    assert [c.contact_id for c in contacts.search_contacts(viewer, spaced).items] == [ann.contact_id]
    assert [c.contact_id for c in contacts.search_contacts(viewer, ann.email.upper()).items] == [ann.contact_id]
    first = contacts.search_contacts(viewer, "zo", limit=3)
    assert len(first.items) == 3 and first.next_token
    second = contacts.search_contacts(viewer, "zo", limit=3, next_token=first.next_token)
    assert len(second.items) == 1 and second.next_token is None
    assert {c.name for c in first.items + second.items} == {"Zoë Adams", "Zoe Baker", "Zola Chen", "Zoran Diaz"}
    everyone = contacts.search_contacts(viewer, "", limit=100).items
    assert [c.name for c in everyone] == list(reversed(names))  # newest first
    with pytest.raises(ValidationError):
        contacts.search_contacts(viewer, "zo", limit=0)
    with pytest.raises(ValidationError):
        contacts.search_contacts(viewer, "an", next_token=first.next_token)


def test_search_misses_return_empty_pages(viewer):
    assert contacts.search_contacts(viewer, "nobody").items == []
    assert contacts.search_contacts(viewer, "nobody@example.com").items == []
    assert contacts.search_contacts(viewer, "+44 7911 000000").items == []


def test_an_update_racing_a_conversation_bump_is_applied_not_refused(operator, monkeypatch):
    """A message arriving between the update's read and write bumps the row's version; the patch is re-applied."""
    from backend.models.contact import ContactModel
    from backend.services.messaging.rows import activity_actions
    from backend.models.base import utcnow

    contact = contacts.create_contact(operator, {"name": "Racing", "phone": unique_phone()})
    original = contacts.live_contact_row
    bumped = []

    def read_then_bump(contact_id, consistent=False):
        row = original(contact_id, consistent)
        if not bumped:
            bumped.append(True)
            ContactModel(contactId=contact_id, version=0).update(
                activity_actions(at=utcnow(), preview="hi", channel="whatsapp", direction="inbound"), add_version_condition=False
            )
        return row

    monkeypatch.setattr(contacts, "live_contact_row", read_then_bump)
    updated = contacts.update_contact(operator, contact.contact_id, {"name": "Racing Renamed"})
    assert updated.name == "Racing Renamed"
    stored = ContactModel.get(contact.contact_id)
    assert stored.name == "Racing Renamed" and stored.unreadCount == 1
