"""The sandbox's delayed events are written down until delivered, so a restarted process delivers what a dead
one owed: from the first event not yet out, never a batch that was finished or deliberately cancelled."""
from __future__ import annotations

import threading
import time

from backend.adapters.channels import sandbox_events
from backend.adapters.channels.sandbox_events import DelayedEvents, EventJournal
from tests.unit.test_whatsapp_provider import EventLog as Collect


def test_a_dead_process_s_batches_are_resumed_from_the_first_event_not_delivered(tmp_path):
    journal = EventJournal(tmp_path / "whatsapp.jsonl")
    journal.scheduled("a", ["a-sent", "a-delivered"], 0.0, time.time() - 5)
    journal.delivered("a", 1)  # the process died between the two events
    journal.scheduled("b", ["b-sent", "b-delivered"], 0.0, time.time() - 5)
    journal.scheduled("c", ["c-sent"], 0.0, time.time() - 5)
    journal.finished("c")
    with journal.path.open("a") as handle:
        handle.write('{"batch": "d", "eve')  # a line cut short by the kill
    sink = Collect(expected=3)
    assert DelayedEvents("whatsapp", journal).resume(sink) == 2
    assert sink.done.wait(10)
    assert sorted(sink.events) == ["a-delivered", "b-delivered", "b-sent"]
    _wait_for_finished(journal)
    assert journal.pending() == []


def test_events_are_journalled_until_delivered_and_a_cancel_forgets_them(tmp_path):
    journal = EventJournal(tmp_path / "sms.jsonl")
    events = DelayedEvents("SMS", journal)
    events.send(Collect(expected=1), [lambda: "built-now"], 3600.0)
    [pending] = journal.pending()
    assert pending.events == ["built-now"] and pending.delivered == 0
    events.cancel_all()
    assert journal.pending() == []


def test_without_a_sink_nothing_is_journalled(tmp_path):
    journal = EventJournal(tmp_path / "email.jsonl")
    DelayedEvents("email", journal).send(None, [lambda: "x"], 0.0)
    assert not journal.path.exists()


def test_a_long_journal_is_compacted_to_its_pending_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox_events, "COMPACT_BYTES", 2_000)
    journal = EventJournal(tmp_path / "voice.jsonl")
    journal.scheduled("open", ["still-owed"], 1.0, time.time())
    for index in range(50):
        journal.scheduled(f"b{index}", ["x" * 40], 1.0, time.time())
        journal.finished(f"b{index}")
    assert journal.path.stat().st_size < 2_000
    assert [batch.batch_id for batch in journal.pending()] == ["open"]


def test_the_journal_of_a_channel_is_under_the_data_dir_by_its_lower_case_name():
    from backend.settings import get_settings

    assert EventJournal.for_channel("WhatsApp").path == get_settings().data_dir / "sandbox" / "pending-events" / "whatsapp.jsonl"


def _wait_for_finished(journal: EventJournal) -> None:
    for timer in [t for t in threading.enumerate() if isinstance(t, threading.Timer)]:
        timer.join(10)
