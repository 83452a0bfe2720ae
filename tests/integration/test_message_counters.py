"""The message counters equal a recount of the Message rows after a mixed run (sends on every channel,
retries, a dead letter, permanent failures, duplicate, late and out-of-order status events, customers' messages
and first responses), counted by readers that stop, restart and run side by side; and they stay right after
the rows are gone (expired rows leave the stream as REMOVE records)."""
from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest

from backend.models.base import utcnow
from backend.models.messaging import MessageModel
from backend.runtime.change_feed import feed_for
from backend.services.analytics import counters
from backend.services.channels.email.send import send_email
from backend.services.channels.sms.send import send_sms
from backend.services.channels.whatsapp.send import send_whatsapp
from backend.services.contacts.contacts import create_contact
from backend.services.messaging.statuses import ProviderStatus, apply_status
from backend.settings import get_settings
from tests.conftest import unique_phone
from tests.unit.conftest import messaging  # noqa: F401 - the fixture
from tests.unit.people import contact, customer_writes


def reader():
    """A counter reader as the local runtime starts one (runtime/counters_feed.py), not yet started."""
    return feed_for(get_settings(), lambda changes: None, on_records=counters.count_records,
                    start_from=counters.checkpoint, poll_interval=0.02)


def message_rows() -> list[MessageModel]:
    return [row for row in MessageModel.scan() if row.kind not in ("note", "event")]  # a test's recount may scan


def stored(days) -> dict[str, Counter]:
    return {day: Counter(values) for day, values in counters.read_days(days).items()}


def settle(expected: dict[str, Counter], timeout: float = 30.0) -> dict[str, Counter]:
    """The stored counters once they equal `expected` (or whatever they are at the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        found = stored(expected)
        if found == expected or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def status(row_id: str, provider_id: str, name: str, *, code: str | None = None, minutes: int = 0) -> bool:
    return apply_status(ProviderStatus("whatsapp", provider_id, name, utcnow() + timedelta(minutes=minutes),
                                       error_code=code, message_id=row_id))


@pytest.fixture
def readers():
    made = []

    def start():
        feed = reader().start()
        assert feed.wait_ready(10)
        made.append(feed)
        return feed

    yield start
    for feed in made:
        feed.stop()


def test_counters_equal_a_recount_of_the_rows_after_a_mixed_run_and_outlive_them(operator, messaging, readers):  # noqa: F811
    first = readers()
    people = [contact(operator, f"Customer {i}", email=True, optInWhatsApp=True, optInSms=True, optInEmail=True)
              for i in range(6)]
    for person in people[:4]:
        customer_writes(person.phone, "Hello, is my order on its way?")  # inbound, and a wait to answer
    sent = []
    for i, person in enumerate(people):
        message = {"type": "text", "text": "Yes, it arrives tomorrow."} if i < 4 else \
            {"type": "template", "template": {"name": "welcome_back", "language": "en_US"}}  # no window open
        sent.append(send_whatsapp(operator, {"contactId": person.contact_id, **message}))
        sent.append(send_sms(operator, {"contactId": person.contact_id, "body": "Your code is 1234"}))
    sent.append(send_email(operator, {"contactId": people[0].contact_id, "subject": "Receipt", "text": "Thanks"}))
    # a number that always fails (permanent) and one that meets an outage on every try (retries, then dead)
    broken = create_contact(operator, {"name": "Broken", "phone": unique_phone()[:-4] + "0000", "optInSms": True})
    failing = send_sms(operator, {"contactId": broken.contact_id, "body": "never arrives"})
    outage = create_contact(operator, {"name": "Outage", "phone": unique_phone()[:-4] + "0500", "optInSms": True})
    dead = send_sms(operator, {"contactId": outage.contact_id, "body": "retried, then dead-lettered"})
    messaging.drain()

    first.stop()  # the reader stops half-way: a new one goes on from its checkpoint, a third runs beside it
    second, third = readers(), readers()

    whatsapp = [MessageModel.get(m.message_id) for m in sent if m.channel == "whatsapp"]
    a, b, c, d, e, f = whatsapp
    assert status(a.messageId, a.providerMessageId, "DELIVERED") and status(a.messageId, a.providerMessageId, "READ", minutes=1)
    assert not status(a.messageId, a.providerMessageId, "DELIVERED")  # a duplicate, late: changes nothing
    assert status(b.messageId, b.providerMessageId, "READ")  # the read receipt overtook the delivery
    assert not status(b.messageId, b.providerMessageId, "DELIVERED")
    assert status(c.messageId, c.providerMessageId, "SENT") and status(c.messageId, c.providerMessageId, "FAILED", code="131047")
    assert not status(c.messageId, c.providerMessageId, "FAILED", code="131047")  # repeated
    assert status(d.messageId, d.providerMessageId, "DELIVERED")
    for _ in range(3):
        status(e.messageId, e.providerMessageId, "SENT")  # repeated SENT: the first moves it, the rest do nothing
    third.stop()

    rows = message_rows()
    recount = counters.recount(rows)
    by_name = sum(recount.values(), Counter())
    # the run is what it says: the recount is not empty and has every kind of count in it
    assert by_name["whatsapp|outbound|total"] == 6 and by_name["whatsapp|inbound|total"] == 4
    assert by_name["whatsapp|outbound|read"] == 2 and by_name["whatsapp|outbound|delivered"] == 3
    assert by_name["whatsapp|outbound|failed"] == 1 and by_name["whatsapp|outbound|reason:131047"] == 1
    assert by_name["sms|outbound|failed"] == 2 and by_name["email|outbound|sent"] == 1
    assert by_name["whatsapp|outbound|responses"] == 4  # the four customers who wrote first were answered
    assert MessageModel.get(failing.message_id).status == "FAILED" and MessageModel.get(dead.message_id).status == "DEAD"
    assert MessageModel.get(dead.message_id).attempts > 1

    assert settle(recount) == recount

    for row in rows:  # the rows expire (TTL deletes them: REMOVE records)
        row.delete()
    time.sleep(1.5)  # the readers see the REMOVE records
    assert not message_rows()
    assert stored(recount) == recount


def test_a_batch_read_twice_is_counted_once():
    now = utcnow()
    row = MessageModel(messageId="m-twice", channel="sms", direction="outbound", status="PENDING", createdAt=now,
                       updatedAt=now, day=now.strftime("%Y-%m-%d"))
    image = row.serialize(null_check=False)
    records = [{"eventName": "INSERT", "dynamodb": {"SequenceNumber": "100", "NewImage": image}}]
    assert counters.count_records("shard-x", records) == 1
    assert counters.count_records("shard-x", records) == 0  # read again (a retry, or another process)
    assert counters.read_days([row.day])[row.day] == {"sms|outbound|total": 1}
    assert counters.checkpoint("shard-x") == "100"
