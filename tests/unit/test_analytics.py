"""The counters' arithmetic, the dashboard and the analytics built on them (moto), and their refusals."""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from backend.errors import Unauthenticated, ValidationError
from backend.models.base import utcnow
from backend.models.messaging import MessageModel
from backend.services.analytics import counters, reports
from backend.services.analytics.dashboard import dashboard
from backend.services.platform.access import Actor
from tests.unit.people import contact, customer_writes

_sequence = iter(range(1, 10**9))


def row(channel="whatsapp", direction="outbound", status="PENDING", *, history=(), day=None, **extra) -> MessageModel:
    now = utcnow()
    day = day or now.strftime("%Y-%m-%d")
    return MessageModel(messageId=f"m{next(_sequence)}", channel=channel, direction=direction, status=status,
                        createdAt=now, updatedAt=now, day=day,
                        statusHistory=[{"status": s, "at": now} for s in history], **extra)


def write(new: MessageModel | None, old: MessageModel | None = None, event: str | None = None) -> dict:
    data = {"SequenceNumber": str(next(_sequence))}
    if new is not None:
        data["NewImage"] = new.serialize(null_check=False)
    if old is not None:
        data["OldImage"] = old.serialize(null_check=False)
    return {"eventName": event or ("MODIFY" if old is not None else "INSERT"), "dynamodb": data}


def same_message(*rows: MessageModel) -> tuple[MessageModel, ...]:
    for r in rows[1:]:
        r.messageId = rows[0].messageId
    return rows


def test_a_message_counts_its_milestones_once_however_its_statuses_arrive():
    pending, accepted, read_first = same_message(
        row(), row(status="ACCEPTED", history=["ACCEPTED"]),
        row(status="READ", history=["ACCEPTED", "READ"]))  # the read receipt overtook the delivery: delivered too
    writes = [write(pending), write(accepted, pending), write(read_first, accepted), write(read_first, read_first),
              write(None, read_first, "REMOVE")]  # a repeated write; then the row expires
    [(day, counted)] = counters.record_deltas(writes).items()
    assert day == pending.day
    assert counted == Counter({"whatsapp|outbound|total": 1, "whatsapp|outbound|sent": 1,
                               "whatsapp|outbound|delivered": 1, "whatsapp|outbound|read": 1})


def test_a_failure_counts_while_it_lasts_and_a_successful_replay_takes_it_back():
    pending, dead, replayed = same_message(
        row("sms"), row("sms", status="DEAD", history=["SENDING", "DEAD"], errorCode="PROVIDER_UNAVAILABLE"),
        row("sms", status="ACCEPTED", history=["SENDING", "DEAD", "ACCEPTED"], errorCode="PROVIDER_UNAVAILABLE"))
    [(_, when_dead)] = counters.record_deltas([write(pending), write(dead, pending)]).items()
    assert when_dead == Counter({"sms|outbound|total": 1, "sms|outbound|failed": 1,
                                 "sms|outbound|reason:PROVIDER_UNAVAILABLE": 1})
    [(_, after_replay)] = counters.record_deltas([write(pending), write(dead, pending), write(replayed, dead)]).items()
    assert after_replay == Counter({"sms|outbound|total": 1, "sms|outbound|sent": 1})


def test_a_reply_counts_its_wait_and_notes_and_events_count_nothing():
    reply = row(responseSeconds=420)
    note = row(kind="note")
    [(_, counted)] = counters.record_deltas([write(reply), write(note)]).items()
    assert counted == Counter({"whatsapp|outbound|total": 1, "whatsapp|outbound|responses": 1,
                               "whatsapp|outbound|responseSeconds": 420, "whatsapp|outbound|response:15m": 1})


def seed(days_back: int, **cells: int) -> None:
    """Counters of a day `days_back` ago, as a counted batch leaves them."""
    from backend.models import message_stats

    day = (utcnow().date() - timedelta(days=days_back)).isoformat()
    values = {counters.cell(*name.split("__")): n for name, n in cells.items()}
    message_stats.add_counts({day: values}, shard="seed", previous=message_stats.read_checkpoint("seed"),
                             sequence=str(next(_sequence)))


def test_the_dashboard_shows_today_per_channel_with_rates_and_the_inbox(operator, messaging):
    seed(0, whatsapp__outbound__total=10, whatsapp__outbound__sent=8, whatsapp__outbound__delivered=6,
         whatsapp__outbound__read=3, whatsapp__outbound__failed=2, sms__inbound__total=4)
    seed(1, whatsapp__outbound__total=50)  # yesterday: in the trend, not in today's figures
    person = contact(operator, "Waiting Customer", optInWhatsApp=True)
    customer_writes(person.phone)
    view = dashboard(operator)
    assert (view.outbound, view.inbound, view.sent, view.delivered, view.read, view.failed) == (10, 4, 8, 6, 3, 2)
    assert (view.delivery_rate, view.read_rate) == (75.0, 50.0)
    whatsapp = next(c for c in view.channels if c.channel == "whatsapp")
    assert (whatsapp.outbound, whatsapp.delivered, whatsapp.failed, whatsapp.label) == (10, 6, 2, "WhatsApp")
    assert [t.outbound for t in view.trend][-2:] == [50, 10]
    assert (view.inbox.open, view.inbox.unread, view.inbox.unassigned) == (1, 1, 1)
    assert view.dlq_waiting == 0 and not view.can_open_dlq
    assert {r.channel for r in view.rate_limits} == {"whatsapp", "sms", "email", "voice"}
    assert all(r.headroom == 100.0 for r in view.rate_limits)  # nothing sent: every bucket full


def test_the_dashboard_refuses_an_anonymous_caller():
    with pytest.raises(Unauthenticated):
        dashboard(Actor.anonymous())


def test_analytics_sums_a_range_into_volume_funnel_reasons_and_response_times(viewer):
    seed(0, whatsapp__outbound__total=10, whatsapp__outbound__sent=8, whatsapp__outbound__delivered=6,
         whatsapp__outbound__read=3, whatsapp__outbound__failed=2, **{"whatsapp__outbound__reason:131047": 2},
         whatsapp__outbound__responses=2, whatsapp__outbound__responseSeconds=600, **{"whatsapp__outbound__response:5m": 2})
    seed(3, sms__outbound__total=5, sms__outbound__sent=5, sms__inbound__total=7)
    seed(40, email__outbound__total=99)  # outside 30 days
    report = reports.analytics(viewer, range_name="30d")
    assert (report.days, report.range, report.total_outbound, report.total_inbound) == (30, "30d", 15, 7)
    assert {s.step: (s.count, s.share) for s in report.funnel} == {
        "sent": (13, 100.0), "delivered": (6, 46.2), "read": (3, 23.1), "failed": (2, 13.3)}
    assert [(r.code, r.channel, r.count) for r in report.failure_reasons] == [("131047", "whatsapp", 2)]
    assert (report.responses, report.average_response_minutes) == (2, 5.0)
    assert next(b.count for b in report.response_buckets if b.bucket == "5m") == 2
    assert report.volume[-1].whatsapp == 10 and report.volume[-4].sms == 12 and report.volume[-4].inbound == 7
    assert reports.analytics(viewer, range_name="90d").total_outbound == 114
    lines = reports.export_csv(viewer, range_name="7d").splitlines()
    assert lines[0].startswith("day,channel,direction,total,sent")
    assert any(line.startswith(f"{utcnow().date().isoformat()},whatsapp,outbound,10,8,6,3,2") and "131047=2" in line
               for line in lines)


@pytest.mark.parametrize("kwargs, field", [
    ({"range_name": "1y"}, "range"),
    ({"start": "2026-13-01"}, "start"),
    ({"start": "2026-11-10", "end": "2026-11-01"}, "end"),
    ({"start": "2024-01-01", "end": "2026-01-01"}, "start"),
])
def test_a_bad_range_is_refused_naming_the_field(viewer, kwargs, field):
    with pytest.raises(ValidationError) as refused:
        reports.analytics(viewer, **kwargs)
    assert refused.value.field == field


def test_a_custom_range_covers_its_days():
    first, last, name = reports.date_range(None, "2026-11-01", "2026-11-07", today=date(2026, 11, 29))
    assert (first.isoformat(), last.isoformat(), name) == ("2026-11-01", "2026-11-07", "custom")
