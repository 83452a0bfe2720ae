"""contact_names: who many contact ids are, in one batch read, for anyone who may read contacts; a deleted
contact reads "Deleted contact", a nameless one its address, and bad ids are refused before any read."""
from __future__ import annotations

import uuid

import pytest

from backend.errors import PermissionDenied, Unauthenticated, ValidationError
from backend.models.base import utcnow
from backend.models.contact import ContactModel
from backend.services.contacts.contacts import create_contact, delete_contact
from backend.services.contacts.names import DELETED_CONTACT, NAMES_MAX, contact_names
from backend.services.platform.access import Actor, Role
from tests.conftest import unique_email, unique_phone


def _stored(name: str, *, phone: str | None = None, email: str | None = None) -> str:
    """A contact row written directly (fast, and able to hold what older rows hold, such as a blank name)."""
    now = utcnow()
    contact_id = uuid.uuid4().hex
    ContactModel(contactId=contact_id, name=name, phone=phone, email=email, createdAt=now, updatedAt=now).save()
    return contact_id


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR, Role.ADMIN])
def test_every_role_that_reads_contacts_gets_names(role, admin):
    ann = create_contact(admin, {"name": "Ann Example", "phone": unique_phone()})
    actor = Actor(user_id=f"u-{role.value}", role=role)
    assert contact_names(actor, [ann.contact_id]) == {ann.contact_id: "Ann Example"}


@pytest.mark.parametrize(
    "actor, error",
    [
        (Actor.anonymous(), Unauthenticated),
        (Actor(user_id="u-norole"), PermissionDenied),
        (Actor(user_id="u-new", role=Role.VIEWER, must_change_password=True), PermissionDenied),
    ],
)
def test_no_names_without_a_role_that_reads_contacts(actor, error, admin, monkeypatch):
    ann = create_contact(admin, {"name": "Ann Example", "phone": unique_phone()})
    monkeypatch.setattr(ContactModel, "batch_get", lambda *a, **k: pytest.fail("read before the role was checked"))
    with pytest.raises(error):
        contact_names(actor, [ann.contact_id])


def test_a_deleted_or_missing_contact_reads_deleted(admin, viewer):
    gone = create_contact(admin, {"name": "Gone Person", "phone": unique_phone()})
    delete_contact(admin, gone.contact_id)
    never = uuid.uuid4().hex
    assert contact_names(viewer, [gone.contact_id, never]) == {gone.contact_id: DELETED_CONTACT, never: DELETED_CONTACT}


def test_a_contact_without_a_name_is_shown_by_its_address(admin, viewer):
    phone, email = unique_phone(), unique_email()
    created = create_contact(admin, {"phone": phone})  # no name given: the service names it by its number
    legacy_phone = _stored("  ", phone=unique_phone(), email=unique_email())
    legacy_email = _stored("", email=email)
    names = contact_names(viewer, [created.contact_id, legacy_phone, legacy_email])
    assert names[created.contact_id] == phone
    assert names[legacy_phone] == ContactModel.get(legacy_phone).phone
    assert names[legacy_email] == email


def test_more_than_a_hundred_ids_in_one_lookup(viewer, monkeypatch):
    ids = [_stored(f"Person {n:03d}", phone=f"+4479000{n:05d}") for n in range(130)]
    calls = []
    batch_get = ContactModel.batch_get
    monkeypatch.setattr(ContactModel, "batch_get", lambda keys, **k: calls.append(len(keys)) or batch_get(keys, **k))
    names = contact_names(viewer, ids + ids[:5])  # repeats are read once
    assert names == {contact_id: f"Person {n:03d}" for n, contact_id in enumerate(ids)}
    assert calls == [130]  # one batch read (PynamoDB pages it by 100 for DynamoDB)


def test_bad_ids_are_refused_before_any_read(viewer, monkeypatch):
    monkeypatch.setattr(ContactModel, "batch_get", lambda *a, **k: pytest.fail("read a bad id"))
    for bad in (["phone#+447700900123"], ["x" * 32], [None], "not-a-list", [uuid.uuid4().hex for _ in range(NAMES_MAX + 1)]):
        with pytest.raises(ValidationError) as error:
            contact_names(viewer, bad)
        assert error.value.field == "contactIds"
    assert contact_names(viewer, []) == {}
