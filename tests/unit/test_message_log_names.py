"""The message log names each message's contact (issue 11): the service's log rows carry `contactName` (REST
included), read in one batch as the caller, "Deleted contact" once the contact is gone; the page shows the name
linking to the conversation with the address under it, and the CSV export has a contactName column."""
from __future__ import annotations

import csv
import io

import pytest

from backend.errors import PermissionDenied
from backend.models.base import utcnow
from backend.services.contacts.contacts import delete_contact
from backend.services.contacts.names import DELETED_CONTACT
from backend.services.messaging import log
from backend.services.platform.access import Actor, Role
from tests.unit.people import contact, customer_writes
from wecare_app.pages.messages_log import message_row

FILTERS = log.LogFilters()


def _page(actor, limit: int = 50) -> log.LogPage:
    """The log as messages.message_log reads it, with the caller passed on for the names."""
    return log.log_page(FILTERS, limit=limit, next_token=None, budget=log.EXAMINE_MAX, actor=actor)


@pytest.fixture
def two_writers(operator, messaging):
    ann = contact(operator, "Ann Writer")
    bob = contact(operator, "Bob Writer")
    customer_writes(ann.phone, "hello from ann")
    customer_writes(bob.phone, "hello from bob")
    return ann, bob


def test_log_rows_carry_the_contacts_names(viewer, two_writers):
    ann, bob = two_writers
    page = _page(viewer)
    by_body = {m.body: m for m in page.items}
    assert by_body["hello from ann"].contact_name == "Ann Writer"
    assert by_body["hello from bob"].contact_name == "Bob Writer"
    assert page.to_api()["items"][0]["contactName"] in {"Ann Writer", "Bob Writer"}  # the REST shape too


def test_a_deleted_contact_reads_deleted_in_the_log(admin, viewer, two_writers):
    ann, _ = two_writers
    delete_contact(admin, ann.contact_id)
    [message] = [m for m in _page(viewer).items if m.body == "hello from ann"]
    assert message.contact_name == DELETED_CONTACT
    assert message.address == ann.phone  # the address the message used is still shown


def test_names_are_read_in_one_batch_for_the_page(viewer, two_writers, monkeypatch):
    calls = []
    monkeypatch.setattr(log, "contact_names", lambda actor, ids: calls.append(list(ids)) or {i: "x" for i in ids})
    _page(viewer)
    assert len(calls) == 1 and sorted(calls[0]) == sorted(c.contact_id for c in two_writers)


def test_names_need_a_caller_who_may_read_contacts(two_writers):
    with pytest.raises(PermissionDenied):
        _page(Actor(user_id="u-new", role=Role.VIEWER, must_change_password=True))


def test_the_page_shows_the_name_linking_to_the_thread_with_the_address_under_it(viewer, two_writers):
    ann, _ = two_writers
    [message] = [m for m in _page(viewer).items if m.body == "hello from ann"]
    row = message_row(message)
    assert (row["contact_label"], row["contact_href"], row["contact_address"]) == (
        "Ann Writer", f"/inbox/{ann.contact_id}", ann.phone)


def test_a_contact_named_by_its_address_shows_it_once(viewer):
    now = utcnow()
    entry = log.LogEntry(message_id="m1", contact_id="c1", channel="sms", direction="inbound", kind="text",
                         status="RECEIVED", address="+447700900123", contact_name="+447700900123",
                         created_at=now, updated_at=now)
    row = message_row(entry)
    assert (row["contact_label"], row["contact_address"]) == ("+447700900123", "")


def test_the_export_names_each_contact(viewer, two_writers):
    text, count, complete = log.csv_export(FILTERS, viewer)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert count == 2 and complete
    assert {(r["contactName"], r["body"]) for r in rows} == {("Ann Writer", "hello from ann"), ("Bob Writer", "hello from bob")}
