"""Quiet hours: a campaign's messages wait out the night where each recipient is, then go; single sends never
wait; a bad setting is refused field by field (and ignored, logged, if stored anyway)."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend.errors import ValidationError
from backend.models.messaging import MessageModel
from backend.models.base import utcnow
from backend.services.campaigns import jobs, runner
from backend.services.messaging import outbox, quiet_hours
from backend.services.messaging.campaign_recipients import campaign_message_id
from backend.services.platform import system_config
from tests.unit.people import contact
from backend.adapters.channels import providers
from tests.unit.test_bulk_campaigns import run_until_settled

NIGHT = quiet_hours.QuietHours(time(21), time(8), ZoneInfo("Europe/London"))


def test_an_overnight_window_holds_until_the_morning_in_the_recipient_s_zone():
    late = datetime(2026, 7, 1, 21, 30, tzinfo=UTC)  # 22:30 in London (summer time)
    assert NIGHT.until(late, ZoneInfo("Europe/London")) == datetime(2026, 7, 2, 7, 0, tzinfo=UTC)  # 08:00 BST
    early = datetime(2026, 7, 2, 5, 0, tzinfo=UTC)  # 06:00 in London
    assert NIGHT.until(early, ZoneInfo("Europe/London")) == datetime(2026, 7, 2, 7, 0, tzinfo=UTC)
    assert NIGHT.until(datetime(2026, 7, 2, 12, 0, tzinfo=UTC), ZoneInfo("Europe/London")) is None
    # The same instant is afternoon in Seattle: a US number is not held.
    seattle = quiet_hours.zone_of("+12065550101", NIGHT, late)
    assert seattle == ZoneInfo("America/Los_Angeles") and NIGHT.until(late, seattle) is None
    assert quiet_hours.zone_of("ann@example.com", NIGHT, late) == NIGHT.zone  # no phone: the account's zone
    day = quiet_hours.QuietHours(time(12), time(14), ZoneInfo("UTC"))
    assert day.until(datetime(2026, 7, 2, 13, 0, tzinfo=UTC), ZoneInfo("UTC")) == datetime(2026, 7, 2, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize("value, field", [
    ("21:00-08:00", "quietHours"),
    ({"start": "9pm", "end": "08:00"}, "quietHours.start"),
    ({"start": "21:00", "end": "21:00"}, "quietHours.end"),
    ({"start": "21:00", "end": "08:00", "timeZone": "Mars/Olympus"}, "quietHours.timeZone"),
])
def test_a_bad_setting_is_refused_with_its_field(value, field, tables):
    with pytest.raises(ValidationError) as refused:
        quiet_hours.parse(value)
    assert refused.value.field == field
    system_config.write(quiet_hours.KEY, value, updated_by="test")
    system_config.forget()
    assert quiet_hours.configured() is None  # stored anyway: ignored (logged), never a crash in the send path


def test_a_campaign_waits_out_quiet_hours_and_then_sends(operator, messaging):
    system_config.write(runner.UNLIMITED_KEY, True, updated_by="test")
    now = utcnow()
    window = {"start": (now - timedelta(hours=1)).strftime("%H:%M"), "end": (now + timedelta(hours=1)).strftime("%H:%M"), "timeZone": "UTC"}
    system_config.write(quiet_hours.KEY, window, updated_by="test")
    system_config.forget()
    ids = [contact(operator, f"Night {n}", phone=False, email=True, optInEmail=True).contact_id for n in range(2)]
    created = jobs.create_job(operator, {"name": "Night", "channel": "email", "contactIds": ids,
                                         "message": {"subject": "Menu", "text": "The spring menu is out."}})
    for _ in range(4):  # the runner's passes and the queue's due work (a held message is due in an hour)
        runner._pace.clear()
        runner.run_once()
        messaging.queue.run_due()
    messages = [MessageModel.get(campaign_message_id(created.job_id, c, 0)) for c in ids]
    assert {m.status for m in messages} == {"PENDING"} and all(m.heldUntil > now for m in messages)
    assert not providers.EMAIL.get().sent  # nothing went out at night
    view = jobs.get_job(operator, created.job_id)
    assert view.status == "sending" and "Quiet hours" in view.quiet_note and view.counts["QUEUED"] == 2
    assert outbox.sweep_stale(now + timedelta(minutes=30), pending_after=timedelta(0)).requeued == 0  # waiting, not lost

    system_config.write(quiet_hours.KEY, {}, updated_by="test")  # the morning (or an admin lifts them)
    system_config.forget()
    runner._caught_up.clear()
    job = run_until_settled(messaging, created.job_id)
    assert job.status == "finished" and len(providers.EMAIL.get().sent) == 2
