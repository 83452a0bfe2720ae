"""Whom a dead letter was for, carried by its view (DeadLetter.recipientName / recipientAddress), so that the
page and REST clients look nothing up: the contact's name and the address of the kind its channel sends to, a
deleted contact as "Deleted contact" with the address, and one batch read of the contacts per listing."""
from __future__ import annotations

from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from backend.api.asgi_door import build_api
from backend.models.base import utcnow
from backend.models.contact import ContactModel
from backend.models.messaging import DLQMessageModel
from backend.services.contacts.contacts import delete_contact
from backend.services.messaging import dlq
from backend.services.contacts.names import DELETED_CONTACT
from backend.services.platform import users
from tests.unit.people import contact


def filed(dlq_id: str, queue: str, contact_id: str | None, payload: dict | None = None, minutes: int = 0) -> str:
    """A waiting dead letter on `queue` for `contact_id`, failed `minutes` ago."""
    now = utcnow() - timedelta(minutes=minutes)
    DLQMessageModel(dlqId=dlq_id, queue=queue, messageId=f"m-{dlq_id}", contactId=contact_id, payload=payload or {},
                    error="Rate exceeded", errorCode="THROTTLED", failedAt=now, expiresAt=now + timedelta(days=7)).save()
    return dlq_id


def listed(admin) -> dict[str, dlq.DeadLetter]:
    return {entry.dlq_id: entry for entry in dlq.list_dead_letters(admin)}


def recipient(entry: dlq.DeadLetter) -> tuple[str, str | None, bool]:
    return entry.recipient_name, entry.recipient_address, entry.recipient_deleted


def test_an_entry_carries_its_contact_s_name_and_the_address_its_channel_sends_to(admin):
    ann = contact(admin, "Ann Lee", email=True)
    filed("whatsapp#1", "whatsapp", ann.contact_id, minutes=2)
    filed("email#1", "email", ann.contact_id, minutes=1)
    entries = listed(admin)
    assert recipient(entries["whatsapp#1"]) == ("Ann Lee", ann.phone, False)
    assert recipient(entries["email#1"]) == ("Ann Lee", ann.email, False)
    assert recipient(dlq.get_dead_letter(admin, "email#1")) == ("Ann Lee", ann.email, False)
    shown = entries["whatsapp#1"].to_api()  # camelCase, as GET /dlq gives it
    assert (shown["recipientName"], shown["recipientAddress"], shown["recipientDeleted"]) == ("Ann Lee", ann.phone, False)


def test_a_deleted_contact_reads_deleted_contact_with_the_address(admin):
    bob = contact(admin, "Bob Ray")
    filed("sms#1", "sms", bob.contact_id)
    delete_contact(admin, bob.contact_id)
    assert recipient(listed(admin)["sms#1"]) == (DELETED_CONTACT, bob.phone, True)
    assert DELETED_CONTACT == "Deleted contact"


def test_a_contact_gone_altogether_falls_back_to_the_address_the_entry_recorded(admin):
    filed("sms#1", "sms", "no-such-contact", {"address": "+447700900123"}, minutes=1)
    filed("sms#2", "sms", None)
    entries = listed(admin)
    assert recipient(entries["sms#1"]) == (DELETED_CONTACT, "+447700900123", True)
    assert recipient(entries["sms#2"]) == (DELETED_CONTACT, None, True)


def test_the_address_the_entry_recorded_wins_over_the_contact_s_current_one(admin):
    """A contact renumbered since: the message was for the old number, and a replay sends it there."""
    cy = contact(admin, "Cy Dee")
    filed("sms#1", "sms", cy.contact_id, {"address": "+447700900999"})
    assert recipient(listed(admin)["sms#1"]) == ("Cy Dee", "+447700900999", False)


def test_a_listing_reads_the_contacts_of_its_entries_in_one_batch(admin, monkeypatch):
    ann, bob = contact(admin, "Ann Lee"), contact(admin, "Bob Ray")
    for n, owner in enumerate((ann.contact_id, bob.contact_id, ann.contact_id, "no-such-contact")):
        filed(f"sms#{n}", "sms", owner, minutes=n)
    batches: list[list[str]] = []
    real_batch_get = ContactModel.batch_get

    def counted(keys, **kwargs):
        batches.append(list(keys))
        return real_batch_get(keys, **kwargs)

    def no_single_reads(*args, **kwargs):
        raise AssertionError("a contact read one by one")

    monkeypatch.setattr(ContactModel, "batch_get", counted)
    monkeypatch.setattr(ContactModel, "get", no_single_reads)
    entries = listed(admin)
    assert [entries[f"sms#{n}"].recipient_name for n in range(4)] == ["Ann Lee", "Bob Ray", "Ann Lee", DELETED_CONTACT]
    assert len(batches) == 1 and sorted(batches[0]) == sorted({ann.contact_id, bob.contact_id, "no-such-contact"})


def test_the_view_says_when_a_replay_failed_again(admin):
    entry = dlq.DeadLetter(dlq_id="sms#1", queue="sms", error="boom", state="waiting", failed_at=utcnow(), payload={})
    assert entry.failed_again is False and entry.to_api()["failedAgain"] is False  # never replayed
    replayed = entry.model_copy(update={"last_replay_at": entry.failed_at - timedelta(minutes=1), "replay_count": 1})
    assert replayed.failed_again is True  # filed again after its replay
    assert replayed.model_copy(update={"state": "discarded"}).failed_again is False


@pytest.fixture
def api(admin, messaging):
    users.create_user(admin, "dlq-recipient@example.com", "Admin", "correct horse battery")
    client = TestClient(build_api(), raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {users.sign_in('dlq-recipient@example.com', 'correct horse battery').token}"
    return client


def test_rest_lists_the_recipient_in_camel_case(api, admin):
    ann = contact(admin, "Ann Lee")
    filed("whatsapp#1", "whatsapp", ann.contact_id)
    [item] = api.get("/api/dlq").json()["items"]
    assert (item["recipientName"], item["recipientAddress"], item["recipientDeleted"], item["failedAgain"]) == ("Ann Lee", ann.phone, False, False)
