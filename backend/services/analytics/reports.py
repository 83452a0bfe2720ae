"""Analytics over a range of days (`/analytics`, and its CSV): volume per channel, the delivery funnel, failure
reasons, first-response times and campaign results, all from the day counters (one BatchGetItem per 100 days:
never a read of the Message table, and still right after the messages themselves have expired)."""
from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date, timedelta

from backend.errors import ValidationError
from backend.models.base import utcnow
from backend.services.analytics import counters
from backend.services.campaigns.jobs import FINISHED, list_jobs
from backend.services.channels.registry import REGISTRY
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.api_model import ApiView
from backend.services.storage.csv_cells import safe_cell

RANGES = {"7d": 7, "30d": 30, "90d": 90}
MAX_DAYS = 366
CHANNELS = tuple(channel.value for channel in REGISTRY)
LABELS = {channel.value: entry.info.label for channel, entry in REGISTRY.items()}
DIRECTIONS = ("inbound", "outbound")
FUNNEL = (("sent", "Sent"), ("delivered", "Delivered"), ("read", "Read"), ("failed", "Failed"))
CAMPAIGNS_SHOWN = 10


class DayVolume(ApiView):
    day: str
    label: str  # "29 Nov": the chart's axis
    whatsapp: int = 0
    sms: int = 0
    email: int = 0
    voice: int = 0
    inbound: int = 0
    outbound: int = 0


class FunnelStep(ApiView):
    step: str
    label: str
    count: int
    share: float | None  # % of the messages sent (failed: of those sent or failed)


class ReasonCount(ApiView):
    code: str
    channel: str
    count: int


class ResponseDay(ApiView):
    day: str
    label: str
    responses: int
    average_minutes: float | None


class BucketCount(ApiView):
    bucket: str
    label: str
    count: int


class CampaignResult(ApiView):
    job_id: str
    name: str
    channel: str
    recipients: int
    sent: int
    delivered: int
    read: int
    failed: int
    skipped: int


class Analytics(ApiView):
    start: str
    end: str
    days: int
    range: str  # 7d | 30d | 90d | custom
    total_inbound: int
    total_outbound: int
    volume: list[DayVolume]
    funnel: list[FunnelStep]
    failure_reasons: list[ReasonCount]
    response_days: list[ResponseDay]
    response_buckets: list[BucketCount]
    responses: int
    average_response_minutes: float | None
    campaigns: list[CampaignResult]
    empty: bool  # nothing was counted in the range


BUCKET_LABELS = {"1m": "≤ 1 min", "5m": "1–5 min", "15m": "5–15 min", "1h": "15–60 min", "4h": "1–4 h", "1d": "4–24 h",
                 "more": "> 1 day"}


def date_range(range_name: str | None, start: str | None = None, end: str | None = None,
               today: date | None = None) -> tuple[date, date, str]:
    """The days a report covers: a named range ending today, or `start`..`end` (custom), checked."""
    today = today or utcnow().date()
    if start or end:
        try:
            first = date.fromisoformat(start or "")
        except ValueError:
            raise ValidationError("start: a date, YYYY-MM-DD", field="start") from None
        try:
            last = date.fromisoformat(end) if end else today
        except ValueError:
            raise ValidationError("end: a date, YYYY-MM-DD", field="end") from None
        if last < first:
            raise ValidationError("end: on or after the start", field="end")
        if (last - first).days + 1 > MAX_DAYS:
            raise ValidationError(f"start: a range of at most {MAX_DAYS} days", field="start")
        return first, last, "custom"
    name = range_name or "30d"
    if name not in RANGES:
        raise ValidationError(f"range: one of {', '.join(RANGES)} (or a start and end)", field="range")
    return today - timedelta(days=RANGES[name] - 1), today, name


def _days(first: date, last: date) -> list[str]:
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def _axis(day: str) -> str:
    return date.fromisoformat(day).strftime("%d %b").lstrip("0")


def _split(name: str) -> tuple[str, str, str]:
    channel, direction, metric = name.split("|", 2)
    return channel, direction, metric


def analytics(actor: Actor, *, range_name: str | None = None, start: str | None = None, end: str | None = None) -> Analytics:
    require(actor, Operation.MESSAGES_READ)
    first, last, name = date_range(range_name, start, end)
    days = _days(first, last)
    stored = counters.read_days(days)
    volume, response_days = [], []
    totals: Counter = Counter()
    for day in days:
        values = stored.get(day, {})
        point = DayVolume(day=day, label=_axis(day))
        day_responses = day_seconds = 0
        for cell, count in values.items():
            channel, direction, metric = _split(cell)
            totals[(channel, direction, metric)] += count
            if metric == "total":
                if channel in CHANNELS:
                    setattr(point, channel, getattr(point, channel) + count)
                if direction in DIRECTIONS:
                    setattr(point, direction, getattr(point, direction) + count)
            elif metric == "responses":
                day_responses += count
            elif metric == "responseSeconds":
                day_seconds += count
        volume.append(point)
        response_days.append(ResponseDay(day=day, label=_axis(day), responses=day_responses,
                                         average_minutes=round(day_seconds / day_responses / 60, 1) if day_responses else None))

    def total(metric: str, direction: str = "outbound") -> int:
        return sum(n for (_, d, m), n in totals.items() if m == metric and d == direction)

    sent, failed = total("sent"), total("failed")
    funnel = [FunnelStep(step=step, label=label, count=total(step),
                         share=(round(100 * total(step) / (sent + failed), 1) if sent + failed else None) if step == "failed"
                         else (round(100 * total(step) / sent, 1) if sent else None))
              for step, label in FUNNEL]
    reasons = sorted((ReasonCount(code=m.removeprefix("reason:"), channel=c, count=n)
                      for (c, d, m), n in totals.items() if m.startswith("reason:") and n > 0),
                     key=lambda r: (-r.count, r.code))
    buckets = [BucketCount(bucket=bucket, label=BUCKET_LABELS[bucket],
                           count=sum(n for (_, _, m), n in totals.items() if m == f"response:{bucket}"))
               for bucket, _ in counters.RESPONSE_BUCKETS]
    responses = sum(n for (_, _, m), n in totals.items() if m == "responses")
    waited = sum(n for (_, _, m), n in totals.items() if m == "responseSeconds")
    return Analytics(
        start=days[0], end=days[-1], days=len(days), range=name,
        total_inbound=total("total", "inbound"), total_outbound=total("total"),
        volume=volume, funnel=funnel, failure_reasons=reasons[:12],
        response_days=response_days, response_buckets=buckets, responses=responses,
        average_response_minutes=round(waited / responses / 60, 1) if responses else None,
        campaigns=_campaigns(actor, days[0], days[-1]),
        empty=not any(totals.values()),
    )


def _campaigns(actor: Actor, first: str, last: str) -> list[CampaignResult]:
    """The newest finished campaigns that ended in the range, with the counts they ended with."""
    results = []
    for job in list_jobs(actor, status=FINISHED, limit=50).items:
        ended = (job.finished_at or job.updated_at).date().isoformat()
        if not first <= ended <= last:
            continue
        counts = job.counts
        results.append(CampaignResult(
            job_id=job.job_id, name=job.name, channel=job.channel, recipients=job.total_recipients,
            sent=sum(counts.get(s, 0) for s in ("SENT", "DELIVERED", "READ")),
            delivered=sum(counts.get(s, 0) for s in ("DELIVERED", "READ")), read=counts.get("READ", 0),
            failed=counts.get("FAILED", 0), skipped=counts.get("SKIPPED", 0)))
        if len(results) == CAMPAIGNS_SHOWN:
            break
    return results


def export_csv(actor: Actor, *, range_name: str | None = None, start: str | None = None, end: str | None = None) -> str:
    """One line per day, channel and direction, with every counter of the range."""
    require(actor, Operation.MESSAGES_READ)
    first, last, _ = date_range(range_name, start, end)
    days = _days(first, last)
    stored = counters.read_days(days)
    metrics = ["total", "sent", "delivered", "read", "failed", "campaign", "responses", "responseSeconds"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["day", "channel", "direction", *metrics, "failureReasons"])
    for day in days:
        values = stored.get(day, {})
        for channel in CHANNELS:
            for direction in DIRECTIONS:
                row = [values.get(counters.cell(channel, direction, m), 0) for m in metrics]
                reasons = "; ".join(f"{name.split('reason:', 1)[1]}={n}" for name, n in sorted(values.items())
                                    if name.startswith(f"{channel}|{direction}|reason:") and n)
                if any(row) or reasons:
                    writer.writerow([safe_cell(v) for v in (day, channel, direction, *row, reasons)])
    return out.getvalue()
