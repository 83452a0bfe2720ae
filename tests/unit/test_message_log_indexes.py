"""The message log reads through indexes and within a bound: each filter is a Query on its own index (never a
scan), no request reads more than the cap, and paging on past the cap finds every match exactly once."""
from __future__ import annotations

import itertools
import time
from datetime import timedelta

import pytest

from backend.errors import ValidationError
from backend.models.audit import AuditLogModel
from backend.models.base import utcnow
from backend.models.messaging import MessageModel
from backend.services.messaging import log, messages
from backend.services.messaging.rows import new_message_id, new_message_row

CHANNELS = ("whatsapp", "sms", "email", "voice")


class IndexReads:
    """Which indexes a request queried and how many entries it read from them."""

    def __init__(self, monkeypatch):
        self.used: list[str] = []
        self.entries = 0
        monkeypatch.setattr(log, "_index_entries", self._counting(log._index_entries))
        monkeypatch.setattr(MessageModel, "scan", _no_scans)

    def _counting(self, index_entries):
        def counted(index, *args, **kwargs):
            self.used.append(index.Meta.index_name)
            for entry in index_entries(index, *args, **kwargs):
                self.entries += 1
                yield entry

        return counted

    def reset(self) -> None:
        self.used, self.entries = [], 0


def _no_scans(*args, **kwargs):
    raise AssertionError("the message log must not scan the table")


@pytest.fixture
def reads(monkeypatch) -> IndexReads:
    return IndexReads(monkeypatch)


def store(count: int, *, start_minutes: int = 0, needle_every: int = 0) -> list[MessageModel]:
    """`count` messages a minute apart, newest first, cycling through channels, directions and statuses; every
    `needle_every`-th body carries "needle"."""
    now = utcnow()
    rows = []
    for n, (channel, outbound) in zip(range(count), itertools.cycle(itertools.product(CHANNELS, (True, False)))):
        status = ("DELIVERED", "FAILED")[n % 3 == 0] if outbound else "RECEIVED"
        body = f"message {n}" + (" needle" if needle_every and n % needle_every == 0 else "")
        row = new_message_row(
            message_id=new_message_id(), channel=channel, direction="outbound" if outbound else "inbound", status=status,
            now=now - timedelta(minutes=start_minutes + n), body=body, address=f"+4477009{n:05d}",
        )
        row.save()
        rows.append(row)
    return rows


def expected(rows, channel=None, direction=None, status=None, q=""):
    wanted = [r for r in rows if (channel in (None, r.channel)) and (direction in (None, r.direction))
              and (status in (None, r.status)) and (q.casefold() in (r.body + r.address).casefold())]
    return [r.messageId for r in sorted(wanted, key=lambda r: r.createdAt, reverse=True)]


@pytest.mark.parametrize(
    "filters, index",
    [
        ({}, "byDay"),
        ({"channel": "sms"}, "byChannel"),
        ({"direction": "inbound"}, "byDirection"),
        ({"status": "FAILED"}, "byStatus"),
        ({"q": "NEEDLE"}, "byDay"),
        ({"status": "DELIVERED", "channel": "email"}, "byStatus"),
        ({"channel": "voice", "direction": "outbound"}, "byChannel"),
        ({"q": "needle", "status": "RECEIVED", "channel": "whatsapp"}, "byDay"),
    ],
)
def test_each_filter_is_a_query_on_its_index(viewer, reads, filters, index):
    rows = store(40, needle_every=3)
    reads.reset()
    page = messages.message_log(viewer, limit=200, **filters)
    assert [m.message_id for m in page.items] == expected(rows, **filters)
    assert set(reads.used) == {index}
    assert page.examined == reads.entries and not page.truncated and page.next_token is None


def test_a_filter_on_a_day_reads_only_that_day(viewer, reads):
    rows = store(6) + store(4, start_minutes=2 * 24 * 60)
    two_days_ago = rows[-1].createdAt.date()
    page = messages.message_log(viewer, day=two_days_ago, channel="whatsapp")
    assert [m.message_id for m in page.items] == expected(rows[6:], channel="whatsapp")
    assert reads.used == ["byChannel"] and reads.entries == len(page.items)


def test_a_request_reads_at_most_the_cap_and_paging_on_finds_each_match_once(viewer, reads, monkeypatch):
    monkeypatch.setattr(messages, "EXAMINE_MAX", 15)
    rows = store(70, needle_every=11)
    reads.reset()
    first = messages.message_log(viewer, q="needle", limit=10)
    assert first.examined == reads.entries == 15 and first.truncated and first.next_token
    assert first.searched_to == rows[14].createdAt
    found, token, requests = [m.message_id for m in first.items], first.next_token, 1
    while token:
        reads.reset()
        page = messages.message_log(viewer, q="needle", limit=10, next_token=token)
        assert reads.entries <= 15
        found += [m.message_id for m in page.items]
        token, requests = page.next_token, requests + 1
    assert found == expected(rows, q="needle") and len(found) == 7
    assert requests == 5  # 70 entries, 15 a request


def test_paging_by_page_size_and_by_cap_mix_without_gaps_or_repeats(viewer, reads, monkeypatch):
    monkeypatch.setattr(messages, "EXAMINE_MAX", 12)
    rows = store(64)
    found, token = [], None
    while True:
        reads.reset()
        page = messages.message_log(viewer, status="DELIVERED", channel="sms", limit=2, next_token=token)
        assert reads.used == ["byStatus"] and reads.entries <= 12
        found += [m.message_id for m in page.items]
        if not (token := page.next_token):
            break
    assert found == expected(rows, status="DELIVERED", channel="sms")


def test_a_status_change_moves_the_message_between_status_filters(operator, viewer, messaging):
    from backend.services.channels.whatsapp.send import send_whatsapp
    from tests.unit.people import contact, customer_writes

    person = contact(operator, "Status Person")
    customer_writes(person.phone, "hi")  # opens the 24-hour window
    sent = send_whatsapp(operator, {"contactId": person.contact_id, "type": "text", "text": "hello"})
    assert [m.message_id for m in messages.message_log(viewer, status="PENDING").items] == [sent.message_id]
    messaging.drain()  # the outbox claims it and the provider accepts it: the writers know nothing of the index
    assert messages.message_log(viewer, status="PENDING").items == []
    assert [m.message_id for m in messages.message_log(viewer, status="ACCEPTED").items] == [sent.message_id]


def test_a_lagging_status_entry_is_checked_against_the_row(viewer, monkeypatch):
    [row] = store(1)
    assert row.status == "FAILED"
    stale = log._Entry({**row.serialize(), "status": {"S": "DELIVERED"}})  # the index entry of an older status
    monkeypatch.setattr(log, "_index_entries", lambda *a, **k: iter([stale]))
    assert messages.message_log(viewer, status="DELIVERED").items == []  # the row says FAILED now


def test_the_export_stops_at_its_read_limit_and_says_so(viewer, monkeypatch):
    monkeypatch.setattr(log, "EXPORT_EXAMINE_MAX", 30)
    store(45)
    text, count, complete = messages.export_csv(viewer, q="message")
    assert (count, complete) == (30, False) and len(text.splitlines()) == 31
    export = next(r for r in AuditLogModel.scan() if r.action == "messages.export")
    assert export.details == {"rows": 30, "filters": {"q": "message"}, "complete": False}


def test_the_inbox_reads_at_most_its_cap_of_conversations(viewer, operator, messaging, monkeypatch):
    from tests.unit.people import contact, customer_writes

    for minutes_ago, name in ((3, "Oldest Writer"), (2, "Middle Writer"), (1, "Newest Writer")):
        customer_writes(contact(operator, name).phone, f"hi from {name}", ts=int(time.time()) - 60 * minutes_ago)
    from backend.services.messaging import conversations

    assert [c.name for c in conversations.team_inbox(viewer, q="oldest").items] == ["Oldest Writer"]
    monkeypatch.setattr(conversations, "EXAMINE_MAX", 2)
    assert conversations.team_inbox(viewer, q="oldest").items == []
    page = conversations.team_inbox(viewer)
    assert [c.name for c in page.items] == ["Newest Writer", "Middle Writer"]
    assert page.counts.all == 2 and "all" in page.counts.capped  # the count says "2+": it stopped reading


@pytest.mark.parametrize(
    "filters, field",
    [({"status": "LOST"}, "status"), ({"q": "x" * 201}, "q"), ({"limit": 201}, "limit"), ({"direction": "up"}, "direction")],
)
def test_bad_filters_are_refused(viewer, filters, field):
    with pytest.raises(ValidationError) as error:
        messages.message_log(viewer, **filters)
    assert error.value.field == field


def test_the_page_tells_the_api_how_far_it_searched(viewer, monkeypatch):
    monkeypatch.setattr(messages, "EXAMINE_MAX", 3)
    rows = store(5)
    body = messages.message_log(viewer, q="nothing like this").to_api()
    assert body["items"] == [] and body["examined"] == 3 and body["truncated"] is True and body["nextToken"]
    assert body["searchedTo"] == rows[2].createdAt.isoformat()


def test_a_token_naming_another_partition_is_refused_before_it_reaches_dynamodb(viewer):
    from backend.services.storage import page_tokens

    store(2)
    key = {"messageId": {"S": "f" * 32}, "day": {"S": "1999-01-01"}, "createdAt": {"S": "1999-01-01T00:00:00.000000+0000"}}
    forged = page_tokens.encode(key, log.LogFilters().tag)
    with pytest.raises(ValidationError) as error:
        messages.message_log(viewer, next_token=forged)
    assert error.value.field == "nextToken"


def test_the_log_page_says_how_far_it_searched_and_the_export_when_it_stopped():
    from datetime import datetime, timezone

    from wecare_app.pages.messages_log import export_note, how_far_searched

    capped = log.LogPage(items=[], next_token="t", examined=1000, truncated=True,
                         searched_to=datetime(2026, 11, 12, 14, 3, tzinfo=timezone.utc))
    assert how_far_searched(capped) == ("Searched the 1,000 most recent messages back to 12 Nov, 14:03 UTC without "
                                        "filling the page. Next searches further back.")
    assert how_far_searched(log.LogPage(items=[], examined=12)) == ""
    assert export_note(1, True) == "Exported 1 message."
    assert export_note(20, False).startswith("Exported 20 messages (the export stops at 10,000 rows or 20,000 messages read")
