"""Recovery after a crash and the send-by time: a queued message is never sent late (EXPIRED instead), the
local runtime re-enqueues what the dead process held as soon as it starts, and the sandbox's delayed status
events outlive the process that scheduled them."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from backend.adapters.send_queue import LocalSendQueue, use_send_queue
from backend.models.base import utcnow
from backend.models.messaging import MessageModel
from backend.runtime.messaging import start_messaging
from backend.services.channels.registry import delivery_for
from backend.services.channels.whatsapp.send import send_whatsapp
from backend.services.contacts.contacts import create_contact
from backend.services.messaging import outbox
from backend.services.messaging.statuses import STATUSES, ProviderStatus, apply_status, may_move, previous_statuses
from backend.services.platform import system_config
from backend.settings import reset_settings_cache
from tests.conftest import unique_phone


@pytest.fixture
def contact(operator, messaging):
    return create_contact(operator, {"name": "Send By", "phone": unique_phone(), "optInWhatsApp": True})


def queue_reminder(operator, contact) -> str:
    sent = send_whatsapp(operator, {"contactId": contact.contact_id, "type": "template",
                                    "template": {"name": "welcome_back", "language": "en_US"}})
    return sent.message_id


def forget_queue(messaging) -> None:
    """The process died: its in-memory queue is gone, the PENDING rows are not."""
    messaging.queue._heap.clear()


# ---------------------------------------------------------------- send-by


def test_the_sweep_expires_a_message_still_queued_a_day_later_instead_of_sending_it(operator, contact, messaging):
    message_id = queue_reminder(operator, contact)
    forget_queue(messaging)
    report = outbox.sweep_stale(utcnow() + timedelta(hours=25))
    assert (report.requeued, report.expired) == (0, 1)
    messaging.drain()
    row = MessageModel.get(message_id)
    assert row.status == "EXPIRED" and row.pendingWork is None
    assert row.errorCode == "SEND_BY_PASSED"
    assert row.errorMessage == "not sent within 24 h of being queued; a late reminder is worse than none"
    assert row.statusHistory[-1].status == "EXPIRED"
    assert messaging.provider.sent == []
    assert list(MessageModel.by_pending_work.query("send")) == []


def test_a_late_queue_delivery_expires_the_message_rather_than_send_it(operator, contact, messaging, monkeypatch):
    message_id = queue_reminder(operator, contact)
    forget_queue(messaging)
    later = utcnow() + timedelta(hours=24, seconds=1)
    monkeypatch.setattr(outbox, "utcnow", lambda: later)
    outcome = outbox.deliver("whatsapp", message_id, delivery_for)
    assert outcome.result == "expired"
    assert MessageModel.get(message_id).status == "EXPIRED" and messaging.provider.sent == []
    assert outbox.deliver("whatsapp", message_id, delivery_for).result == "skipped"


def test_within_its_send_by_time_a_message_is_still_requeued_and_sent(operator, contact, messaging):
    message_id = queue_reminder(operator, contact)
    forget_queue(messaging)
    report = outbox.sweep_stale(utcnow() + timedelta(hours=23))
    assert (report.requeued, report.expired) == (1, 0)
    messaging.drain()
    assert MessageModel.get(message_id).status == "ACCEPTED" and len(messaging.provider.sent) == 1


def test_the_send_by_time_is_a_system_setting(operator, contact, messaging):
    system_config.write(outbox.SEND_BY_KEY, {"minutes": 90}, updated_by="test")
    message_id = queue_reminder(operator, contact)
    forget_queue(messaging)
    assert outbox.sweep_stale(utcnow() + timedelta(hours=2)).expired == 1
    row = MessageModel.get(message_id)
    assert row.status == "EXPIRED" and row.errorMessage.startswith("not sent within 90 min of being queued")


@pytest.mark.parametrize("value", [{"hours": 0}, {"hours": -1}, {"days": 2}, {"hours": "24"}, 24, {"hours": True}])
def test_a_bad_send_by_setting_falls_back_to_a_day(value, messaging):
    system_config.write(outbox.SEND_BY_KEY, value, updated_by="test")
    assert outbox.send_by_window() == timedelta(hours=24)


def test_expired_is_final_no_provider_event_moves_it(operator, contact, messaging):
    message_id = queue_reminder(operator, contact)
    forget_queue(messaging)
    outbox.sweep_stale(utcnow() + timedelta(days=2))
    assert "EXPIRED" in STATUSES
    for status in ("SENT", "DELIVERED", "READ", "FAILED"):
        assert not may_move("EXPIRED", status) and "EXPIRED" not in previous_statuses(status)
        assert not apply_status(ProviderStatus("whatsapp", "wamid.x", status, utcnow(), message_id=message_id))
    assert MessageModel.get(message_id).status == "EXPIRED"


# ---------------------------------------------------------------- start-up


class IdleQueue(LocalSendQueue):
    """A local queue whose workers the test plays by hand (moto is not thread-safe)."""

    def start(self) -> None:
        pass


@pytest.fixture
def restarted(messaging):
    """Start the local runtime as a restarted app does (no schedule), on a new queue drained by hand."""
    runtimes = []

    def restart():
        queue = IdleQueue()
        use_send_queue(queue)
        runtimes.append(start_messaging(scheduler=False))
        return queue

    yield restart
    for runtime in runtimes:
        runtime.stop()


def test_a_restart_requeues_the_dead_process_s_pending_messages_at_once(operator, contact, messaging, restarted):
    message_id = queue_reminder(operator, contact)
    forget_queue(messaging)  # seconds ago: the minute's sweep would wait pending_stale_seconds for it
    queue = restarted()
    assert len(queue) == 1
    queue.run_due(ignore_delays=True)
    assert MessageModel.get(message_id).status == "ACCEPTED" and len(messaging.provider.sent) == 1


def interrupted(message_id: str) -> None:
    """A worker claimed the row and died holding it: its claim has lapsed."""
    row = MessageModel.get(message_id)
    outbox._claim(row)
    long_ago = utcnow() - outbox.CLAIM_LAPSES_AFTER - timedelta(seconds=1)
    row.update(actions=[MessageModel.updatedAt.set(long_ago)])


def test_a_restart_sends_again_an_interrupted_send_the_provider_never_received(operator, contact, messaging, restarted):
    fresh, lapsed = queue_reminder(operator, contact), queue_reminder(operator, contact)
    forget_queue(messaging)
    outbox._claim(MessageModel.get(fresh))  # another worker is sending it now: left alone
    interrupted(lapsed)
    queue = restarted()
    assert MessageModel.get(fresh).status == "SENDING"
    assert MessageModel.get(lapsed).status == "PENDING" and len(queue) == 1
    queue.run_due(ignore_delays=True)
    assert MessageModel.get(lapsed).status == "ACCEPTED"
    assert [r["idempotency_key"] for r in messaging.provider.sent] == [lapsed]  # exactly one send


def test_a_restart_settles_an_interrupted_send_the_provider_did_receive_without_sending_it_again(
    operator, contact, messaging, restarted
):
    message_id = queue_reminder(operator, contact)
    forget_queue(messaging)
    interrupted(message_id)
    row = MessageModel.get(message_id)
    wamid = delivery_for("whatsapp").deliver(row)  # the provider got it; the process died before it recorded that
    providers_before = len(messaging.provider.sent)
    queue = restarted()
    row = MessageModel.get(message_id)
    assert row.status == "ACCEPTED" and row.providerMessageId == wamid and not row.errorCode
    assert len(queue) == 0 and len(messaging.provider.sent) == providers_before == 1


def test_an_interrupted_send_a_live_provider_cannot_be_asked_about_is_dead_lettered_as_outcome_unknown(
    operator, contact, messaging, restarted
):
    message_id = queue_reminder(operator, contact)
    forget_queue(messaging)
    interrupted(message_id)
    sandbox = messaging.provider
    sandbox.sent_before = None  # a live provider has no record to ask
    queue = restarted()
    row = MessageModel.get(message_id)
    assert row.status == "DEAD" and row.errorCode == "OUTCOME_UNKNOWN" and len(queue) == 0 and not sandbox.sent


def test_the_sandbox_status_events_a_dead_process_owed_are_delivered_after_a_restart(
    operator, contact, messaging, restarted, monkeypatch, tmp_path
):
    monkeypatch.setenv("WECARE_SANDBOX_LATENCY_MS", "0")
    monkeypatch.setenv("WECARE_DATA_DIR", str(tmp_path))  # this test's own journal
    reset_settings_cache()
    from backend.adapters.channels import providers

    providers.WHATSAPP.set_sink(lambda event: None)  # the first process had a sink…
    dying = providers.WHATSAPP.get()
    dying._events._start = lambda *args: None  # …but died before its timers fired
    message_id = queue_reminder(operator, contact)
    messaging.drain()
    assert MessageModel.get(message_id).status == "ACCEPTED"

    restarted()
    for timer in [t for t in threading.enumerate() if isinstance(t, threading.Timer)]:
        timer.join(10)
    row = MessageModel.get(message_id)
    assert row.status == "DELIVERED"
    assert [step.status for step in row.statusHistory][-2:] == ["SENT", "DELIVERED"]
