"""The outbox under failure: retries with backoff, permanent errors, the DLQ, replay exactly once, crash
recovery, and the token bucket that fails closed."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest

from backend.adapters.channels.errors import ProviderError
from backend.adapters.channels import providers
from backend.errors import PermissionDenied
from backend.models.base import utcnow
from backend.models.messaging import DLQMessageModel, MessageModel
from backend.services.messaging import dlq
from backend.services.messaging import outbox
from backend.services.platform import rate_limit
from backend.services.platform import system_config
from backend.services.contacts.contacts import create_contact
from backend.services.channels.whatsapp.send import send_whatsapp
from tests.conftest import unique_phone


class Flaky:
    """The sandbox, except that the next `failures` sends raise `error`."""

    def __init__(self, sandbox, failures: int, error: ProviderError):
        self.sandbox, self.failures, self.error, self.calls = sandbox, failures, error, 0

    def __getattr__(self, name):
        return getattr(self.sandbox, name)

    def send(self, message, **kwargs):
        self.calls += 1
        if self.failures > 0:
            self.failures -= 1
            raise self.error
        return self.sandbox.send(message, **kwargs)


THROTTLED = ProviderError("THROTTLED", "Rate exceeded", retryable=True)


@pytest.fixture
def contact(operator, messaging):
    return create_contact(operator, {"name": "Template Ok", "phone": unique_phone(), "optInWhatsApp": True})


def send_template(actor, contact):
    return send_whatsapp(actor, {"contactId": contact.contact_id, "type": "template", "template": {"name": "welcome_back", "language": "en_US"}})


def test_a_throttled_provider_recovers_with_no_loss_and_no_duplicate(operator, contact, messaging):
    flaky = Flaky(messaging.provider, failures=3, error=THROTTLED)
    providers.WHATSAPP.use(flaky)
    sent = [send_template(operator, contact) for _ in range(3)]
    messaging.drain()
    rows = [MessageModel.get(s.message_id) for s in sent]
    assert {r.status for r in rows} == {"ACCEPTED"}
    assert len(flaky.sandbox.sent) == 3 and flaky.calls == 6
    retried = [r for r in rows if r.attempts > 1]
    assert retried and all("THROTTLED: retry" in r.statusHistory[1].detail for r in retried)


def test_backoff_grows_exponentially_with_jitter():
    delays = [outbox.backoff_seconds(attempt, base=1.0) for attempt in range(1, 6)]
    for attempt, delay in enumerate(delays, start=1):
        step = 2 ** (attempt - 1)
        assert step / 2 <= delay <= step
    assert len({outbox.backoff_seconds(3, base=1.0) for _ in range(20)}) > 1


def test_permanent_errors_fail_at_once_without_the_dlq(operator, admin, contact, messaging):
    flaky = Flaky(messaging.provider, failures=1, error=ProviderError("INVALID_NUMBER", "(#131026) undeliverable", retryable=False))
    providers.WHATSAPP.use(flaky)
    sent = send_template(operator, contact)
    messaging.drain()
    row = MessageModel.get(sent.message_id)
    assert row.status == "FAILED" and row.errorCode == "INVALID_NUMBER" and flaky.calls == 1
    assert dlq.list_dead_letters(admin) == []


def test_exhausted_retries_fill_the_dlq_and_replay_delivers_exactly_once(operator, admin, contact, messaging, monkeypatch):
    monkeypatch.setenv("WECARE_SEND_ATTEMPTS", "3")
    from backend.settings import reset_settings_cache

    reset_settings_cache()
    flaky = Flaky(messaging.provider, failures=3, error=THROTTLED)
    providers.WHATSAPP.use(flaky)
    sent = send_template(operator, contact)
    messaging.drain()
    row = MessageModel.get(sent.message_id)
    assert row.status == "DEAD" and row.attempts == 3
    [entry] = dlq.list_dead_letters(admin, queue="whatsapp")
    assert entry.error_code == "THROTTLED" and entry.attempts == 3 and entry.message_id == sent.message_id

    with pytest.raises(PermissionDenied):
        dlq.replay(operator, {"dlqIds": [entry.dlq_id]})
    [result] = dlq.replay(admin, {"dlqIds": [entry.dlq_id, entry.dlq_id]})
    assert result.outcome == "replayed"
    messaging.drain()
    assert MessageModel.get(sent.message_id).status == "ACCEPTED"
    assert len(flaky.sandbox.sent) == 1
    [again] = dlq.replay(admin, {"dlqIds": [entry.dlq_id]})
    assert again.outcome == "refused"
    assert DLQMessageModel.get(entry.dlq_id).replayCount == 1


def test_a_replay_of_a_message_that_went_out_is_not_resent(operator, admin, contact, messaging):
    sent = send_template(operator, contact)
    row = MessageModel.get(sent.message_id)
    outbox._claim(row)  # the worker crashed after handing it to the provider…
    report = outbox.sweep_stale(utcnow() + timedelta(hours=1))
    assert report.dead_lettered == 1 and MessageModel.get(sent.message_id).status == "DEAD"
    # …and the provider's status, which carries our id, arrives late
    from backend.services.messaging.statuses import ProviderStatus, apply_status

    assert apply_status(ProviderStatus("whatsapp", "wamid.late", "SENT", utcnow(), message_id=sent.message_id))
    [entry] = dlq.list_dead_letters(admin)
    [result] = dlq.replay(admin, {"dlqIds": [entry.dlq_id]})
    assert result.outcome == "already_delivered"
    messaging.drain()  # the original queue record is still there: it finds the message gone out and skips
    assert messaging.provider.sent == []


def test_at_most_five_replays(operator, admin, contact, messaging, monkeypatch):
    monkeypatch.setenv("WECARE_SEND_ATTEMPTS", "1")
    from backend.settings import reset_settings_cache

    reset_settings_cache()
    providers.WHATSAPP.use(Flaky(messaging.provider, failures=100, error=THROTTLED))
    sent = send_template(operator, contact)
    messaging.drain()
    dlq_id = outbox.dlq_id("whatsapp", sent.message_id)
    outcomes = []
    for _ in range(6):
        [result] = dlq.replay(admin, {"dlqIds": [dlq_id]})
        outcomes.append(result.outcome)
        messaging.drain()
    assert outcomes == ["replayed"] * 5 + ["refused"]
    assert DLQMessageModel.get(dlq_id).replayCount == 5


def test_discard_and_replay_all(operator, admin, contact, messaging, monkeypatch):
    monkeypatch.setenv("WECARE_SEND_ATTEMPTS", "1")
    from backend.settings import reset_settings_cache

    reset_settings_cache()
    flaky = Flaky(messaging.provider, failures=3, error=THROTTLED)
    providers.WHATSAPP.use(flaky)
    sent = [send_template(operator, contact) for _ in range(3)]
    messaging.drain()
    assert len(dlq.list_dead_letters(admin)) == 3
    [discarded] = dlq.discard(admin, {"dlqIds": [outbox.dlq_id("whatsapp", sent[0].message_id)]})
    assert discarded.outcome == "discarded"
    results = dlq.replay(admin, {"all": True, "queue": "whatsapp"})
    assert sorted(r.outcome for r in results) == ["replayed", "replayed"]
    messaging.drain()
    assert [MessageModel.get(s.message_id).status for s in sent] == ["DEAD", "ACCEPTED", "ACCEPTED"]


def test_pending_rows_left_by_a_crash_are_requeued(operator, contact, messaging):
    sent = send_template(operator, contact)
    messaging.queue.run_due(max_items=0)
    messaging.queue._heap.clear()  # the process died with the message only in its memory queue
    assert outbox.sweep_stale(utcnow() + timedelta(hours=1)).requeued == 1
    messaging.drain()
    assert MessageModel.get(sent.message_id).status == "ACCEPTED"
    assert len(messaging.provider.sent) == 1


def test_token_bucket_limits_and_refills():
    system_config.write("rateLimit.whatsapp", {"perSecond": 2, "burst": 2}, updated_by="test")
    now = time.time()
    assert rate_limit.take("whatsapp", "n1", now) == 0
    assert rate_limit.take("whatsapp", "n1", now) == 0
    wait = rate_limit.take("whatsapp", "n1", now)
    assert 0.4 < wait <= 0.5
    assert rate_limit.take("whatsapp", "n2", now) == 0  # buckets are per sender
    assert rate_limit.take("whatsapp", "n1", now + 0.5) == 0


def test_rate_limiter_fails_closed(monkeypatch):
    from pynamodb.exceptions import GetError

    def broken(*args, **kwargs):
        raise GetError("table unavailable")

    monkeypatch.setattr(rate_limit.RateLimitTrackerModel, "get", broken)
    assert rate_limit.take("whatsapp", "n3") == rate_limit.FAIL_CLOSED_WAIT


def test_a_rate_limited_send_waits_instead_of_sending(operator, contact, messaging):
    system_config.write("rateLimit.whatsapp", {"perSecond": 1, "burst": 1}, updated_by="test")
    first, second = send_template(operator, contact), send_template(operator, contact)
    messaging.queue.run_due()
    statuses = {MessageModel.get(m.message_id).status for m in (first, second)}
    assert statuses == {"ACCEPTED", "PENDING"}
    assert len(messaging.provider.sent) == 1


# ---------------------------------------------------------------- what the view says may be done


def _view(state: str, replay_count: int = 0) -> dlq.DeadLetter:
    return dlq.DeadLetter(dlq_id="sms#m1", queue="sms", error="boom", state=state, replay_count=replay_count, failed_at=utcnow(), payload={})


@pytest.mark.parametrize(
    ("state", "replays", "can_replay", "replay_reason", "can_discard", "discard_reason"),
    [
        ("waiting", 0, True, None, True, None),
        ("waiting", dlq.MAX_REPLAYS - 1, True, None, True, None),
        ("waiting", dlq.MAX_REPLAYS, False, f"replayed {dlq.MAX_REPLAYS} times already; discard it", True, None),
        ("replayed", 1, False, "already replayed", False, "already replayed"),
        ("delivered", 0, False, "already delivered", False, "already delivered"),
        ("discarded", 0, False, "already discarded", False, "already discarded"),
    ],
)
def test_the_view_says_whether_and_why_not_it_may_be_replayed_or_discarded(state, replays, can_replay, replay_reason, can_discard, discard_reason):
    view = _view(state, replays)
    assert (view.can_replay, view.replay_blocked_reason) == (can_replay, replay_reason)
    assert (view.can_discard, view.discard_blocked_reason) == (can_discard, discard_reason)
    body = view.to_api()
    assert (body["canReplay"], body["replayBlockedReason"]) == (can_replay, replay_reason)
    assert (body["canDiscard"], body["discardBlockedReason"]) == (can_discard, discard_reason)


def test_the_view_follows_the_entry_through_replays_and_discard(operator, admin, contact, messaging, monkeypatch):
    """What the list says may be done is what replay and discard then do, refusal reason included."""
    monkeypatch.setenv("WECARE_SEND_ATTEMPTS", "1")
    from backend.settings import reset_settings_cache

    reset_settings_cache()
    providers.WHATSAPP.use(Flaky(messaging.provider, failures=100, error=THROTTLED))
    sent = send_template(operator, contact)
    messaging.drain()

    def listed() -> dlq.DeadLetter:
        [entry] = dlq.list_dead_letters(admin, state=None)
        assert entry == dlq.get_dead_letter(admin, entry.dlq_id)
        return entry

    for _ in range(dlq.MAX_REPLAYS):
        entry = listed()
        assert entry.state == "waiting" and entry.can_replay and entry.replay_blocked_reason is None and entry.can_discard
        [result] = dlq.replay(admin, {"dlqIds": [entry.dlq_id]})
        assert result.outcome == "replayed"
        assert listed().replay_blocked_reason == "already replayed"  # in flight until it fails again
        messaging.drain()

    spent = listed()
    assert spent.replay_count == dlq.MAX_REPLAYS and not spent.can_replay and spent.can_discard
    [refused] = dlq.replay(admin, {"dlqIds": [spent.dlq_id]})
    assert (refused.outcome, refused.reason) == ("refused", spent.replay_blocked_reason)

    [discarded] = dlq.discard(admin, {"dlqIds": [spent.dlq_id]})
    assert discarded.outcome == "discarded"
    closed = listed()
    assert not closed.can_replay and not closed.can_discard
    [again] = dlq.discard(admin, {"dlqIds": [closed.dlq_id]})
    assert (again.outcome, again.reason) == ("refused", closed.discard_blocked_reason) == ("refused", "already discarded")
    [replay_closed] = dlq.replay(admin, {"dlqIds": [closed.dlq_id]})
    assert (replay_closed.outcome, replay_closed.reason) == ("refused", closed.replay_blocked_reason)


def test_a_send_whose_answer_was_lost_is_dead_lettered_as_outcome_unknown_not_retried(operator, contact, messaging):
    from botocore.exceptions import ReadTimeoutError

    calls = []

    def lost(*args, **kwargs):
        calls.append(1)
        raise ReadTimeoutError(endpoint_url="https://social-messaging.us-east-1.amazonaws.com")

    messaging.provider.send = lost
    message = send_template(operator, contact)
    messaging.queue.run_due()
    messaging.queue.run_due()
    row = MessageModel.get(message.message_id)
    assert row.status == "DEAD" and row.errorCode == "OUTCOME_UNKNOWN" and len(calls) == 1
    assert [d.errorCode for d in DLQMessageModel.scan() if d.messageId == message.message_id] == ["OUTCOME_UNKNOWN"]


def test_a_message_deleted_while_it_was_sending_stays_deleted(operator, contact, messaging):
    from backend.services.messaging.messages import delete_message
    from backend.services.messaging.statuses import ProviderStatus, apply_status

    message = send_template(operator, contact)
    real_send = messaging.provider.send

    def deleted_mid_send(*args, **kwargs):
        delete_message(operator, message.message_id)  # an operator deletes it while the provider call is out
        return real_send(*args, **kwargs)

    messaging.provider.send = deleted_mid_send
    messaging.queue.run_due()
    with pytest.raises(MessageModel.DoesNotExist):
        MessageModel.get(message.message_id)  # the worker's late write did not bring back a partial row
    assert apply_status(ProviderStatus(channel="whatsapp", provider_message_id="wamid.late", status="DELIVERED",
                                       at=utcnow(), message_id=message.message_id)) is False
    with pytest.raises(MessageModel.DoesNotExist):
        MessageModel.get(message.message_id)  # nor did a status event


def test_a_media_fetch_for_a_deleted_message_does_not_bring_it_back(operator, messaging):
    from backend.models.messaging import MessageMedia
    from backend.services.channels.whatsapp.inbound_media import _set_media

    row = MessageModel(messageId="f" * 32, channel="whatsapp", direction="inbound", status="RECEIVED",
                       media=MessageMedia(kind="image", mimeType="image/jpeg", status="pending"))
    assert _set_media(row, status="failed", error="gone") == "deleted"
    with pytest.raises(MessageModel.DoesNotExist):
        MessageModel.get("f" * 32)


def test_a_dlq_listing_reads_at_most_its_cap_per_queue(admin, monkeypatch):
    """However the listing is filtered, one request reads a bounded number of entries a queue, newest first."""
    now = utcnow()
    for minutes in range(3):
        DLQMessageModel(dlqId=f"cap-{minutes}", queue="sms", payload={}, error="x", errorCode="THROTTLED",
                        failedAt=now - timedelta(minutes=minutes), expiresAt=now + timedelta(days=7)).save()
    monkeypatch.setattr(dlq, "EXAMINE_MAX", 2)
    assert [d.dlq_id for d in dlq.list_dead_letters(admin, queue="sms")] == ["cap-0", "cap-1"]
