"""The dashboard (`/`, every role): today's messaging at a glance, each figure linking to the page behind it.

Messages, deliveries, reads and failures come from the counters (`counters.py`: one GetItem for today, none
of them a read of the Message table); the inbox, campaigns, dead letters and rate limits from their own
services' cheapest reads. "Today" is the UTC day the Message rows are filed under.
"""
from __future__ import annotations

from datetime import timedelta

from backend.models.base import utcnow
from backend.services.analytics import counters
from backend.services.campaigns.jobs import CANCELLING, EXPANDING, PAUSED, SENDING, list_jobs
from backend.services.channels.rate_limits import bucket_sender
from backend.services.channels.registry import REGISTRY
from backend.services.messaging import dlq
from backend.services.messaging.conversations import InboxSummary, inbox_summary
from backend.services.platform import rate_limit
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.api_model import ApiView

TREND_DAYS = 7
ACTIVE_CAMPAIGNS_SHOWN = 5
RUNNING = (EXPANDING, SENDING, PAUSED, CANCELLING)  # begun and not ended (a scheduled one has not begun)


class ChannelToday(ApiView):
    channel: str
    label: str
    inbound: int = 0
    outbound: int = 0
    delivered: int = 0
    read: int = 0
    failed: int = 0


class CampaignTile(ApiView):
    job_id: str
    name: str
    channel: str
    status: str
    status_label: str
    progress: float
    total_recipients: int


class SenderHeadroom(ApiView):
    channel: str
    label: str
    sender: str
    per_second: float
    available: float
    headroom: float  # 0-100: the share of the burst free now


class TrendDay(ApiView):
    day: str
    inbound: int
    outbound: int


class Dashboard(ApiView):
    day: str
    inbound: int
    outbound: int
    sent: int
    delivered: int
    read: int
    failed: int
    delivery_rate: float | None  # % of today's sent messages delivered (None: nothing sent yet)
    read_rate: float | None  # % of today's delivered messages read
    channels: list[ChannelToday]
    inbox: InboxSummary
    campaigns: list[CampaignTile]
    campaigns_active: int
    dlq_waiting: int
    can_open_dlq: bool  # the dead letters' page is the Admins'
    rate_limits: list[SenderHeadroom]
    trend: list[TrendDay]
    generated_at: str


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def dashboard(actor: Actor, *, fresh_contact_ids: tuple[str, ...] = (), fresh_since: float | None = None) -> Dashboard:
    """Today's figures. `fresh_contact_ids`/`fresh_since`: the contacts a live refresh heard change, and when
    (their conversations are read by key, so the inbox counts show them before the index does)."""
    require(actor, Operation.MESSAGES_READ)
    now = utcnow()
    days = [(now - timedelta(days=back)).strftime("%Y-%m-%d") for back in range(TREND_DAYS - 1, -1, -1)]
    stored = counters.read_days(days)
    today = stored.get(days[-1], {})

    def count(channel: str, direction: str, metric: str, values=today) -> int:
        return int(values.get(counters.cell(channel, direction, metric), 0))

    channels = [
        ChannelToday(channel=c.value, label=entry.info.label, inbound=count(c.value, "inbound", "total"),
                     outbound=count(c.value, "outbound", "total"), delivered=count(c.value, "outbound", "delivered"),
                     read=count(c.value, "outbound", "read"), failed=count(c.value, "outbound", "failed"))
        for c, entry in REGISTRY.items()
    ]
    sent = sum(count(c.channel, "outbound", "sent") for c in channels)
    delivered = sum(c.delivered for c in channels)
    read = sum(c.read for c in channels)
    trend = [TrendDay(day=day,
                      inbound=sum(count(c.channel, "inbound", "total", stored.get(day, {})) for c in channels),
                      outbound=sum(count(c.channel, "outbound", "total", stored.get(day, {})) for c in channels))
             for day in days]
    jobs = [job for status in RUNNING for job in list_jobs(actor, status=status, limit=ACTIVE_CAMPAIGNS_SHOWN).items]
    jobs.sort(key=lambda job: job.created_at, reverse=True)
    headroom = []
    for channel, entry in REGISTRY.items():
        sender, _ = bucket_sender(channel)  # the bucket the outbox takes from (email: the account's region)
        use = rate_limit.usage(channel.value, sender)
        headroom.append(SenderHeadroom(channel=channel.value, label=entry.info.label, sender=sender,
                                       per_second=use.per_second, available=round(use.available, 1),
                                       headroom=round(100 * use.headroom, 1)))
    return Dashboard(
        day=days[-1],
        inbound=sum(c.inbound for c in channels),
        outbound=sum(c.outbound for c in channels),
        sent=sent,
        delivered=delivered,
        read=read,
        failed=sum(c.failed for c in channels),
        delivery_rate=_rate(delivered, sent),
        read_rate=_rate(read, delivered),
        channels=channels,
        inbox=inbox_summary(actor, fresh_contact_ids=fresh_contact_ids, fresh_since=fresh_since),
        campaigns=[CampaignTile(job_id=job.job_id, name=job.name, channel=job.channel, status=job.status,
                                status_label=job.status_label, progress=round(job.progress, 1),
                                total_recipients=job.total_recipients) for job in jobs[:ACTIVE_CAMPAIGNS_SHOWN]],
        campaigns_active=len(jobs),
        dlq_waiting=sum(dlq.waiting_counts().values()),
        can_open_dlq=actor.can(Operation.DLQ_MANAGE),
        rate_limits=headroom,
        trend=trend,
        generated_at=now.isoformat(),
    )
