"""Group commit against DynamoDB Local: callers sharing one transaction still get their own outcome."""
from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from backend.adapters.send_queue import lambda_handler
from backend.models.contact import ContactModel, ContactUniqueKey
from backend.models.messaging import MessageModel
from backend.services.storage import group_commit
from backend.services.storage import unit_of_work
from backend.services.storage.group_commit import GroupCommit
from backend.services.messaging.inbound_store import stored_ids
from backend.services.messaging.rows import inbound_message_id
from backend.services.contacts.senders import sender_ids
from backend.services.storage.unit_of_work import UnitOfWork, WriteConflict
from tests.whatsapp_events import make_wamid, meta_message, sns_event, sns_message, webhook_entry


def claim(key: str, owner: str = "owner") -> UnitOfWork:
    work = UnitOfWork()
    work.save(ContactUniqueKey(contactId=key, ownerId=owner), ContactUniqueKey.contactId.does_not_exist(), label=key)
    return work


def stored(key: str) -> bool:
    return ContactUniqueKey.count(key) == 1


class HeldFirstCall:
    """Wraps `transact`: the first call waits until released, so later callers queue up behind it."""

    def __init__(self, monkeypatch):
        self.calls: list[int] = []
        self.release = threading.Event()
        self._real = unit_of_work.transact
        self._real_one = unit_of_work._write_one
        monkeypatch.setattr(group_commit, "transact", self)
        monkeypatch.setattr(unit_of_work, "transact", self)  # a group of one commits through UnitOfWork
        monkeypatch.setattr(unit_of_work, "_write_one", self.one)  # …and a work of one write as that write

    def __call__(self, writes):
        self._held(len(writes))
        return self._real(writes)

    def one(self, write):
        self._held(1)
        return self._real_one(write)

    def _held(self, size: int) -> None:
        self.calls.append(size)
        if len(self.calls) == 1:
            assert self.release.wait(10)


def commit_concurrently(commits: GroupCommit, works: list[UnitOfWork], held: HeldFirstCall, queued: int):
    """Start the first work (held in flight), then the rest; release once `queued` are waiting."""
    outcomes: dict[int, BaseException | None] = {}

    def run(index: int) -> None:
        try:
            commits.commit(works[index])
            outcomes[index] = None
        except Exception as error:  # the outcome under test
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(0,))]
    threads[0].start()
    deadline = time.monotonic() + 10
    while not held.calls and time.monotonic() < deadline:
        time.sleep(0.005)
    threads += [threading.Thread(target=run, args=(i,)) for i in range(1, len(works))]
    for thread in threads[1:]:
        thread.start()
    while len(commits._pending) < queued and time.monotonic() < deadline:
        time.sleep(0.005)
    held.release.set()
    for thread in threads:
        thread.join(10)
    return outcomes


def test_callers_waiting_behind_a_commit_share_the_next_call(monkeypatch):
    held = HeldFirstCall(monkeypatch)
    commits = GroupCommit(max_in_flight=1)
    keys = [f"gc#{uuid.uuid4().hex}" for _ in range(6)]
    outcomes = commit_concurrently(commits, [claim(k) for k in keys], held, queued=5)
    assert outcomes == {i: None for i in range(6)}
    assert held.calls == [1, 5]  # the five that queued went in one TransactWriteItems
    assert all(stored(k) for k in keys)
    assert commits.stats().groups == 2 and commits.stats().works == 6


def test_a_failed_condition_fails_only_its_own_caller(monkeypatch):
    taken = f"gc#{uuid.uuid4().hex}"
    claim(taken, owner="first").commit()
    held = HeldFirstCall(monkeypatch)
    commits = GroupCommit(max_in_flight=1)
    keys = [f"gc#{uuid.uuid4().hex}" for _ in range(4)]
    works = [claim(keys[0]), claim(keys[1]), claim(taken, owner="second"), claim(keys[2]), claim(keys[3])]
    outcomes = commit_concurrently(commits, works, held, queued=4)
    assert isinstance(outcomes[2], WriteConflict) and outcomes[2].labels == [taken]
    assert [outcomes[i] for i in (0, 1, 3, 4)] == [None] * 4
    assert all(stored(k) for k in keys)
    assert ContactUniqueKey.get(taken).ownerId == "first"
    assert held.calls == [1, 4, 3]  # the group was cancelled once, then retried without the loser


def test_a_work_the_service_rejects_does_not_take_its_group_down(monkeypatch):
    held = HeldFirstCall(monkeypatch)
    commits = GroupCommit(max_in_flight=1)
    good = [f"gc#{uuid.uuid4().hex}" for _ in range(3)]
    bad = UnitOfWork()  # the same item twice in one transaction: DynamoDB refuses the whole call
    twice = f"gc#{uuid.uuid4().hex}"
    bad.save(ContactUniqueKey(contactId=twice, ownerId="a"))
    bad.save(ContactUniqueKey(contactId=twice, ownerId="b"))
    outcomes = commit_concurrently(commits, [claim(good[0]), bad, claim(good[1]), claim(good[2])], held, queued=3)
    assert [outcomes[i] for i in (0, 2, 3)] == [None] * 3
    assert outcomes[1] is not None and not isinstance(outcomes[1], WriteConflict)
    assert all(stored(k) for k in good) and not stored(twice)


def test_two_works_on_one_item_never_share_a_call(monkeypatch):
    held = HeldFirstCall(monkeypatch)
    commits = GroupCommit(max_in_flight=1)
    same = f"gc#{uuid.uuid4().hex}"
    first = UnitOfWork()
    first.save(ContactUniqueKey(contactId=same, ownerId="one"))
    second = UnitOfWork()
    second.save(ContactUniqueKey(contactId=same, ownerId="two"))
    outcomes = commit_concurrently(commits, [claim(f"gc#{uuid.uuid4().hex}"), first, second], held, queued=2)
    assert outcomes == {0: None, 1: None, 2: None}
    assert held.calls == [1, 1, 1]


def test_concurrent_deliveries_store_each_message_once_and_count_every_unread():
    """The real inbound path under concurrency: grouped commits, redeliveries, new and known senders."""
    stored_ids.forget()
    sender_ids.forget()
    handler = lambda_handler("inbound-whatsapp-handler")
    phones = [f"4477008{n:05d}" for n in range(8)]
    events, wamids = [], []
    for index in range(64):
        phone = phones[index % len(phones)]
        wamid = make_wamid(phone, f"gc-{uuid.uuid4().hex}")
        entry = webhook_entry([meta_message("text", wamid=wamid, from_phone=phone, text=f"hello {index}")], from_phone=phone)
        events.append(sns_event(sns_message(entry)))
        wamids.append(wamid)
    deliveries = events + events[::4]  # 16 redeliveries
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda event: handler(event, None), deliveries))
    assert sum(r["stored"] for r in results) == 64
    assert sum(r["duplicates"] for r in results) == 16
    rows = list(MessageModel.batch_get([inbound_message_id("whatsapp", w) for w in wamids]))
    assert len(rows) == 64
    per_contact: dict[str, int] = {}
    for row in rows:
        per_contact[row.contactId] = per_contact.get(row.contactId, 0) + 1
    assert len(per_contact) == len(phones)
    for contact_id, count in per_contact.items():
        assert ContactModel.get(contact_id).unreadCount == count


@pytest.mark.parametrize("forget", [False, True])
def test_a_redelivery_is_recognised_with_or_without_the_process_memory(forget):
    handler = lambda_handler("inbound-whatsapp-handler")
    phone = "447700812345"
    entry = webhook_entry([meta_message("text", wamid=make_wamid(phone, uuid.uuid4().hex), from_phone=phone)], from_phone=phone)
    event = sns_event(sns_message(entry))
    assert handler(event, None)["stored"] == 1
    if forget:
        stored_ids.forget()  # as if another process (or a restarted one) got the redelivery
    again = handler(event, None)
    assert (again["stored"], again["duplicates"]) == (0, 1)
