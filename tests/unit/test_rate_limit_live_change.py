"""A rate limit changed by an Admin holds from the very next send, without a restart: through the real outbox
delivery path (the send queue, the outbound handler, the sandbox), a lowered burst holds the next send back, a
sender's own limit holds only that sender, a raised rate refills the bucket faster at once, and every send held
back is counted for the day on /admin/rate-limits, while a granted one writes nothing more than its bucket."""
from __future__ import annotations

import time

import pytest

from backend.models.messaging import MessageModel
from backend.models.runtime_config import RateLimitTrackerModel
from backend.services.channels import rate_limits
from backend.services.channels.whatsapp.send import send_whatsapp
from backend.services.contacts.contacts import create_contact
from backend.services.platform import rate_limit
from backend.settings import get_settings
from tests.conftest import unique_phone


@pytest.fixture
def contact(operator, messaging):
    return create_contact(operator, {"name": "Rate Watcher", "phone": unique_phone(), "optInWhatsApp": True})


def send(operator, contact):
    return send_whatsapp(operator, {"contactId": contact.contact_id, "type": "template",
                                    "template": {"name": "welcome_back", "language": "en_US"}})


def statuses(sent) -> list[str]:
    return [MessageModel.get(m.message_id, consistent_read=True).status for m in sent]


def whatsapp_row(view) -> rate_limits.SenderLimit:
    return next(row for row in view.senders if row.channel == "whatsapp")


def test_a_lowered_burst_holds_the_next_send_back_at_once(admin, operator, contact, messaging):
    first = [send(operator, contact) for _ in range(3)]
    messaging.queue.run_due()
    assert statuses(first) == ["ACCEPTED"] * 3  # the default limit (80/s), now in this process's config cache
    rate_limits.update_rate_limit(admin, "whatsapp", 1, 1)  # no restart, no wait for the cache
    second = [send(operator, contact) for _ in range(3)]
    messaging.queue.run_due()
    assert sorted(statuses(second)) == ["ACCEPTED", "PENDING", "PENDING"]
    assert len(messaging.provider.sent) == 4
    row = whatsapp_row(rate_limits.rate_limits(admin))
    assert (row.per_second, row.burst, row.scope, row.throttled_today) == (1, 1, "channel", 2)
    assert row.available < 1 and row.channel_limit.updated_by == admin.user_id


def test_a_senders_own_limit_holds_that_sender_only(admin, operator, contact, messaging):
    ours = get_settings().whatsapp_phone_number_id
    rate_limits.update_rate_limit(admin, "whatsapp", 1, 1, sender=ours)
    sent = [send(operator, contact) for _ in range(2)]
    messaging.queue.run_due()
    assert sorted(statuses(sent)) == ["ACCEPTED", "PENDING"]
    assert rate_limit.take("whatsapp", "another-number") == 0 and rate_limit.take("whatsapp", "another-number") == 0
    row = whatsapp_row(rate_limits.rate_limits(admin))
    assert (row.scope, row.per_second, row.throttled_today) == ("sender", 1, 1)
    assert row.channel_limit.value == {"perSecond": 80, "burst": 80}
    back = whatsapp_row(rate_limits.use_channel_limit(admin, "whatsapp", ours))
    assert (back.scope, back.per_second) == ("channel", 80)
    messaging.queue.run_due(ignore_delays=True)
    assert statuses(sent) == ["ACCEPTED", "ACCEPTED"]


def test_a_raised_rate_refills_the_bucket_faster_at_once(admin):
    rate_limits.update_rate_limit(admin, "sms", 1, 1)
    now = time.time()
    assert rate_limit.take("sms", "s1", now) == 0
    assert rate_limit.take("sms", "s1", now + 0.2) == pytest.approx(0.8)  # at 1/s: 0.8 s more to wait
    rate_limits.update_rate_limit(admin, "sms", 10, 1)
    assert rate_limit.take("sms", "s1", now + 0.2) == 0  # at 10/s the 0.2 s already refilled two tokens' worth


def test_a_granted_send_writes_only_its_bucket_and_a_held_one_counts_once(admin):
    rate_limits.update_rate_limit(admin, "voice", 1, 2)
    now = time.time()
    assert rate_limit.take("voice", "v1", now) == 0 and rate_limit.take("voice", "v1", now) == 0
    assert [row.limiterKey for row in RateLimitTrackerModel.scan()] == ["voice#v1"]  # no counter for grants
    assert rate_limit.take("voice", "v1", now) > 0 and rate_limit.take("voice", "v1", now) > 0
    counter = RateLimitTrackerModel.get(rate_limit.throttle_key("voice", "v1", rate_limit.day_of(now)))
    assert counter.failures == 2 and counter.expiresAt is not None
    assert rate_limit.usages([("voice", "v1")], now)[("voice", "v1")].throttled_today == 2
