"""Benchmark: the dashboard and the analytics over 1,000,000 messages' worth of counters, as the pages' server time.

    PYTHONPATH=. .venv/bin/python bench/dashboard.py [--messages 1000000] [--days 90] [--requests 200] [--warmup 30]
                                                     [--conversations 200] [--pending 40] [--resolved 60]
                                                     [--finished-jobs 12] [--audience 200] [--dead-letters 40] [--seed 7]

On a throwaway in-memory DynamoDB Local (its own free port, the tables made by init_db), seeded through the real
code wherever there is one:
- the message counters of `--days` days × 4 channels × 2 directions, whose `total`s add up to exactly
  `--messages`, written with `message_stats.replace_days` (one item per day, as a recount leaves them): channel
  shares 70/15/10/5 % (WhatsApp, SMS, email, voice), weekday/weekend and growth over the period, outbound
  sent/delivered/read/failed at each channel's rates, several failure reasons per channel, a campaign share, and
  first responses with their summed wait and their wait buckets;
- the inbox: `--conversations` open conversations (a contact made by `create_contact`, then a customer's
  WhatsApp message through the inbound Lambda handler, as tests/unit/people.py does), `--pending` more marked
  pending and `--resolved` resolved (`conversations.set_status`);
- campaigns: `--finished-jobs` SMS campaigns of 20 recipients run to the end by the app's own runtime
  (`start_messaging` + the campaign runner, sandbox, unpaced) so the analytics lists campaign results; then,
  with the runtime stopped, four jobs over an `--audience` of tagged contacts that stay as they are while the
  bench reads: one `sending` (expanded by the runner's own expansion step: every recipient PENDING, none
  dispatched, as a campaign a moment after it started), one `paused` (the same, then paused through
  `change_job`), one `expanding` (created, never expanded) and one `scheduled` for tomorrow (expanded). The
  dashboard shows the first three (running); the campaign audiences are written straight to the Contact
  table as bench/bulk_throughput.py does (the import is measured elsewhere);
- dead letters: `--dead-letters` outbound messages dead-lettered by the outbox's own `dead_letter` (spread over
  the 4 queues, waiting), and half as many more discarded (`dlq.discard`): the tile's query reads both;
- a token taken from each channel's rate-limit bucket, so the headroom reads find a bucket.

Then, in this process (the service call a page's background handler makes, `await self.run(...)`: that is the
server time), after `--warmup` unmeasured rounds, `--requests` rounds of: the dashboard with its process caches
cleared first (`cold`: the inbox's 1-second partition snapshot and the campaigns' half-second recipient counts
gone, as a first load finds them, and as the page's own live refreshes, at most once a second, mostly find them
too), the dashboard again at once (`warm`: both caches fresh), the analytics over 90, 30 and 7 days and the
90-day CSV export (reference). Printed: p50/p95/p99/max wall ms, CPU ms (this process and DynamoDB Local), DynamoDB calls, items read and response KB
per call, and each answer is checked (the counters add up to the messages seeded, the inbox counts, the
campaigns). Then where the dashboard's and the analytics' time goes: each part they call (counters read,
inbox summary, list_jobs per status, dead-letter counts, rate-limit usage per channel) timed inside the
measured calls. The machine's load is printed at the start and the end.
Target: p95 <= 150 ms server time for the dashboard (cold and warm) and the 90-day analytics.
"""
from __future__ import annotations

import argparse
import math
import os
import random
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.local_dynamodb import cpu_sample, describe_cpu, local_database, machine_load, p95_verdict  # noqa: E402

TARGET_P95_MS = 150.0
TARGETED = ("dashboard (cold)", "dashboard (warm)", "analytics 90d")
KINDS = ("dashboard (cold)", "dashboard (warm)", "analytics 90d", "analytics 30d", "analytics 7d", "export_csv 90d")
CHANNELS = {"whatsapp": 0.70, "sms": 0.15, "email": 0.10, "voice": 0.05}
OUTBOUND_SHARE = {"whatsapp": 0.55, "sms": 0.75, "email": 0.80, "voice": 0.60}
FAILED_SHARE = {"whatsapp": 0.025, "sms": 0.04, "email": 0.03, "voice": 0.06}  # of the outbound messages
STILL_PENDING = 0.002  # outbound neither gone out nor failed (yet)
DELIVERED_SHARE = {"whatsapp": 0.96, "sms": 0.93, "email": 0.97, "voice": 0.85}  # of those sent
READ_SHARE = {"whatsapp": 0.62, "sms": 0.0, "email": 0.28, "voice": 0.0}  # of those delivered
CAMPAIGN_SHARE = {"whatsapp": 0.35, "sms": 0.60, "email": 0.70, "voice": 0.20}  # of the outbound messages
RESPONSE_SHARE = {"whatsapp": 0.45, "sms": 0.30, "email": 0.50, "voice": 0.10}  # first responses per inbound
REASONS = {
    "whatsapp": {"131047": 0.35, "131026": 0.25, "131049": 0.15, "130429": 0.10, "THROTTLED": 0.08,
                 "PROVIDER_UNAVAILABLE": 0.05, "OUTCOME_UNKNOWN": 0.02},
    "sms": {"UNREACHABLE": 0.40, "CARRIER_BLOCKED": 0.25, "OPTED_OUT": 0.15, "THROTTLED": 0.12, "PROVIDER_UNAVAILABLE": 0.08},
    "email": {"BOUNCED": 0.55, "SUPPRESSED": 0.25, "COMPLAINT": 0.10, "PROVIDER_UNAVAILABLE": 0.10},
    "voice": {"NO_ANSWER": 0.55, "BUSY": 0.30, "UNREACHABLE": 0.15},
}
# Shares of first responses per wait bucket (counters.RESPONSE_BUCKETS) and each bucket's span in seconds.
RESPONSE_MIX = {"1m": 0.18, "5m": 0.30, "15m": 0.20, "1h": 0.15, "4h": 0.09, "1d": 0.06, "more": 0.02}
BUCKET_SPAN = {"1m": (5, 60), "5m": (60, 300), "15m": (300, 900), "1h": (900, 3600), "4h": (3600, 14_400),
               "1d": (14_400, 86_400), "more": (86_400, 259_200)}
WEEKDAY = (1.0, 1.05, 1.05, 1.0, 0.95, 0.70, 0.55)  # Monday first
FINISHED_AUDIENCE = 20
DLQ_QUEUES = {"whatsapp": 0.5, "sms": 0.3, "email": 0.15, "voice": 0.05}
DLQ_CODES = {"whatsapp": "131026", "sms": "UNREACHABLE", "email": "BOUNCED", "voice": "NO_ANSWER"}


# ---------------------------------------------------------------- what each DynamoDB call cost


class Meter:
    """Every DynamoDB call of this process: count per operation, items read (what a Query examined, what a Get
    or BatchGet returned) and the bytes of the answers."""

    def __init__(self) -> None:
        import botocore.client
        import botocore.endpoint

        self.calls: Counter = Counter()
        self.items = 0
        self.bytes = 0
        self._lock = threading.Lock()
        meter = self
        original_call = botocore.client.BaseClient._make_api_call
        original_send = botocore.endpoint.Endpoint._send

        def make_api_call(client, operation, params):
            result = original_call(client, operation, params)
            if "ScannedCount" in result:
                items = int(result["ScannedCount"])
            else:
                items = int("Item" in result) + sum(len(v) for v in (result.get("Responses") or {}).values())
            with meter._lock:
                meter.calls[operation] += 1
                meter.items += items
            return result

        def send(endpoint, request):
            response = original_send(endpoint, request)
            with meter._lock:
                meter.bytes += len(response.content or b"")
            return response

        botocore.client.BaseClient._make_api_call = make_api_call
        botocore.endpoint.Endpoint._send = send

    def mark(self) -> tuple[Counter, int, int]:
        with self._lock:
            return Counter(self.calls), self.items, self.bytes

    def since(self, mark: tuple[Counter, int, int]) -> tuple[Counter, int, int]:
        calls, items, size = self.mark()
        return calls - mark[0], items - mark[1], size - mark[2]


@dataclass
class Series:
    latencies_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)  # this process + DynamoDB Local: what waiting for a core hides
    calls: list[Counter] = field(default_factory=list)
    items: list[int] = field(default_factory=list)
    bytes: list[int] = field(default_factory=list)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else float("nan")


def median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else float("nan")


# ---------------------------------------------------------------- the counters


def split(total: int, shares: dict[str, float], rng: random.Random, jitter: float = 0.1) -> dict[str, int]:
    """`total` split by `shares` (each jittered by up to ±`jitter` of itself), exactly: largest remainder."""
    weights = {key: share * (1 + rng.uniform(-jitter, jitter)) for key, share in shares.items() if share > 0}
    whole = sum(weights.values())
    exact = {key: total * w / whole for key, w in weights.items()}
    parts = {key: int(value) for key, value in exact.items()}
    for key in sorted(exact, key=lambda k: exact[k] - parts[k], reverse=True)[: total - sum(parts.values())]:
        parts[key] += 1
    return parts


def counter_days(messages: int, days: list[str], seed: int) -> dict[str, dict[str, int]]:
    """Each day's counters (day → {cell: n}), the `total`s adding up to exactly `messages`."""
    from datetime import date

    from backend.services.analytics.counters import cell

    rng = random.Random(seed)
    weights: dict[tuple[str, str, str], float] = {}
    for index, day in enumerate(days):
        growth = 0.85 + 0.30 * index / max(1, len(days) - 1)
        volume = WEEKDAY[date.fromisoformat(day).weekday()] * growth * rng.lognormvariate(0, 0.08)
        for channel, share in CHANNELS.items():
            out = OUTBOUND_SHARE[channel] * (1 + rng.uniform(-0.05, 0.05))
            weights[(day, channel, "outbound")] = volume * share * out
            weights[(day, channel, "inbound")] = volume * share * (1 - out)
    totals = split(messages, weights, rng, jitter=0.0)
    stored: dict[str, dict[str, int]] = defaultdict(dict)
    for (day, channel, direction), total in totals.items():
        if not total:
            continue
        values = stored[day]
        values[cell(channel, direction, "total")] = total
        if direction == "inbound":
            continue
        failed = round(total * FAILED_SHARE[channel] * rng.uniform(0.7, 1.3))
        sent = max(0, total - failed - round(total * STILL_PENDING))
        delivered = round(sent * DELIVERED_SHARE[channel] * rng.uniform(0.98, 1.01))
        read = round(min(delivered, delivered * READ_SHARE[channel] * rng.uniform(0.9, 1.1)))
        counts = {"sent": sent, "delivered": min(sent, delivered), "read": read, "failed": failed,
                  "campaign": round(total * CAMPAIGN_SHARE[channel] * rng.uniform(0.8, 1.2))}
        counts.update({f"reason:{code}": n for code, n in split(failed, REASONS[channel], rng, 0.3).items()})
        inbound = totals.get((day, channel, "inbound"), 0)
        responses = min(total, round(inbound * RESPONSE_SHARE[channel] * rng.uniform(0.9, 1.1)))
        if responses:
            buckets = split(responses, RESPONSE_MIX, rng, 0.2)
            counts.update({f"response:{bucket}": n for bucket, n in buckets.items()})
            counts["responses"] = responses
            counts["responseSeconds"] = sum(round(n * rng.uniform(*BUCKET_SPAN[bucket])) for bucket, n in buckets.items())
        values.update({cell(channel, direction, metric): n for metric, n in counts.items() if n})
    return dict(stored)


def seed_counters(messages: int, days: int, seed: int) -> tuple[list[str], int]:
    from backend.models import message_stats
    from backend.models.base import utcnow

    today = utcnow().date()
    day_names = [(today - timedelta(days=back)).isoformat() for back in range(days - 1, -1, -1)]
    stored = counter_days(messages, day_names, seed)
    started = time.perf_counter()
    message_stats.replace_days(stored)
    cells = sum(len(values) for values in stored.values())
    print(f"  counters: {len(stored)} days × 4 channels × 2 directions, {cells:,} counters ({cells / len(stored):.0f} a day), "
          f"totals {sum(n for values in stored.values() for name, n in values.items() if name.endswith('|total')):,} messages; "
          f"replace_days {time.perf_counter() - started:.1f} s")
    return day_names, cells


# ---------------------------------------------------------------- the rest of what the dashboard reads


def seed_conversations(admin, opened: int, pending: int, resolved: int) -> list[str]:
    """Contacts (create_contact) each writing once on WhatsApp through the inbound handler; then some marked
    pending or resolved. Returns the contact ids."""
    from backend.adapters.send_queue import lambda_handler
    from backend.services.contacts.contacts import create_contact
    from backend.services.messaging import conversations
    from tests.whatsapp_events import make_wamid, meta_message, sns_event, sns_message, webhook_entry

    inbound = lambda_handler("inbound-whatsapp-handler")
    texts = ["Hi, where is my order?", "Can I change the delivery address?", "Thanks!", "Is the shop open on Sunday?",
             "I was charged twice", "Please call me back"]
    count = opened + pending + resolved
    started = time.perf_counter()

    def one(n: int) -> str:
        phone = f"+4477008{n:05d}"
        person = create_contact(admin, {"name": f"Dashboard Customer {n:04d}", "phone": phone, "optInWhatsApp": True,
                                        "optInSms": True})
        entry = webhook_entry([meta_message("text", wamid=make_wamid(phone[1:], f"dash-{n}"), from_phone=phone[1:],
                                            text=texts[n % len(texts)], ts=int(time.time()))],
                              from_phone=phone[1:], profile_name=f"Customer {n:04d}")
        inbound(sns_event(sns_message(entry)), None)
        return person.contact_id

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(one, range(count)))
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda cid: conversations.set_status(admin, cid, {"status": "pending"}), ids[opened:opened + pending]))
        list(pool.map(lambda cid: conversations.set_status(admin, cid, {"status": "resolved"}), ids[opened + pending:]))
    print(f"  conversations: {count} contacts each wrote once on WhatsApp (inbound handler); {opened} left open, "
          f"{pending} pending, {resolved} resolved; {time.perf_counter() - started:.1f} s")
    return ids


def make_contacts(count: int, tag: str, offset: int) -> None:
    """Campaign audiences written straight to the Contact table (bench/bulk_throughput.py's way): a phone ending
    in 1 (the sandbox fails some other endings on purpose), SMS consent, the tag."""
    from backend.models.base import utcnow
    from backend.models.contact import LIVE_PARTITION, ContactModel

    now = utcnow()
    with ContactModel.batch_write() as batch:
        for n in range(count):
            batch.save(ContactModel(
                contactId=uuid.uuid4().hex, name=f"Dashboard Audience {offset + n:05d}", phone=f"+1206{offset + n:06d}1",
                optInSms=True, tags={tag}, createdAt=now, updatedAt=now, listPartition=LIVE_PARTITION, nameBucket="d",
                nameSort=f"dashboard audience {offset + n:05d}",
            ))


def job_request(name: str, tag: str, **extra) -> dict:
    return {"name": name, "channel": "sms", "audience": {"tags": [tag]},
            "message": {"body": f"{name}: our spring menu is out."}, "confirmed": True, **extra}


def wait_for_status(job_ids: list[str], status: str, timeout: float) -> None:
    from backend.models.campaigns import BulkJobModel

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = [job_id for job_id in job_ids if BulkJobModel.get(job_id, consistent_read=True).status != status]
        if not left:
            return
        time.sleep(0.5)
    raise RuntimeError(f"{len(left)} jobs not {status} within {timeout:.0f} s")


def seed_finished_jobs(operator, count: int) -> list[str]:
    """`count` small SMS campaigns run to the end by the app's runtime (sandbox, unpaced)."""
    from backend.runtime.campaigns import CampaignRunner
    from backend.runtime.messaging import start_messaging
    from backend.services.campaigns import jobs, runner
    from backend.services.platform import rate_limit, system_config

    if not count:
        return []
    started = time.perf_counter()
    for n in range(count):
        make_contacts(FINISHED_AUDIENCE, f"dash-done-{n}", 100_000 + n * FINISHED_AUDIENCE)
    system_config.write(runner.UNLIMITED_KEY, True, updated_by="bench")
    system_config.write(rate_limit.OFF_KEY, True, updated_by="bench")
    runtime = start_messaging(scheduler=False)
    runtime.campaigns = CampaignRunner().start()
    try:
        ids = [jobs.create_job(operator, job_request(f"Finished campaign {n + 1}", f"dash-done-{n}")).job_id for n in range(count)]
        wait_for_status(ids, jobs.FINISHED, timeout=600)
    finally:
        runtime.stop()
        system_config.write(runner.UNLIMITED_KEY, False, updated_by="bench")
        system_config.write(rate_limit.OFF_KEY, False, updated_by="bench")
    print(f"  finished campaigns: {count} SMS jobs × {FINISHED_AUDIENCE} recipients run to the end by start_messaging + "
          f"the campaign runner (sandbox), runtime stopped; {time.perf_counter() - started:.1f} s")
    return ids


def seed_running_jobs(operator, audience: int) -> dict[str, str]:
    """With no runner running: a sending, a paused, an expanding and a scheduled job (status → job id)."""
    from backend.models.base import utcnow
    from backend.models.campaigns import BulkJobModel
    from backend.services.campaigns import jobs, runner

    make_contacts(audience, "dash-running", 0)

    def expanded(name: str, **extra) -> str:
        job_id = jobs.create_job(operator, job_request(name, "dash-running", **extra)).job_id
        for _ in range(10_000):  # the runner's own expansion step, page by page; never its dispatch
            row = BulkJobModel.get(job_id, consistent_read=True)
            if row.status != jobs.EXPANDING:
                break
            runner._expand(row)
        return job_id

    made = {jobs.SENDING: expanded("Weekend offer (sending)"), jobs.PAUSED: expanded("Store opening (paused)")}
    jobs.change_job(operator, made[jobs.PAUSED], {"action": "pause"})
    made[jobs.SCHEDULED] = expanded("Tomorrow's menu (scheduled)", scheduled_at=(utcnow() + timedelta(days=1)).isoformat())
    made[jobs.EXPANDING] = jobs.create_job(operator, job_request("Loyalty points (expanding)", "dash-running")).job_id
    states = {status: BulkJobModel.get(job_id, consistent_read=True).status for status, job_id in made.items()}
    if any(status != actual for status, actual in states.items()):
        raise RuntimeError(f"running jobs not in the states wanted: {states}")
    print(f"  running campaigns: {', '.join(states.values())} (SMS, {audience} recipients each; the sending and paused "
          f"ones expanded: every recipient PENDING, none dispatched; no runner runs while the bench reads)")
    return made


def seed_dead_letters(admin, count: int, contact_ids: list[str]) -> int:
    """`count` outbound messages dead-lettered by the outbox (waiting) and `count // 2` more discarded."""
    from backend.models.base import utcnow
    from backend.services.messaging import dlq, outbox
    from backend.services.messaging.rows import new_message_id, new_message_row

    queues = [queue for queue, n in split(count + count // 2, DLQ_QUEUES, random.Random(3), 0.0).items() for _ in range(n)]
    made = []
    for n, queue in enumerate(queues):
        row = new_message_row(message_id=new_message_id(), channel=queue, direction="outbound", status="SENDING",
                              now=utcnow(), body=f"Your order {n} has shipped", address=f"+4477008{n:05d}",
                              contactId=contact_ids[n % len(contact_ids)], attempts=3)
        row.save()
        outbox.dead_letter(row, DLQ_CODES[queue], "the provider refused it after every retry")
        made.append(outbox.dlq_id(queue, row.messageId))
    discarded = made[count:]
    if discarded:
        dlq.discard(admin, {"dlqIds": discarded})
    waiting = sum(dlq.waiting_counts().values())
    print(f"  dead letters: {len(made)} made by outbox.dead_letter over {len(set(queues))} queues, {len(discarded)} of them "
          f"discarded: {waiting} waiting")
    return waiting


def touch_rate_limits() -> None:
    """One token from each channel's bucket (the limiter on): the headroom reads find a bucket row."""
    from backend.services.channels.registry import REGISTRY
    from backend.services.platform import rate_limit

    for channel, entry in REGISTRY.items():
        rate_limit.take(channel.value, entry.sender())


# ---------------------------------------------------------------- measuring


class Parts:
    """Wall time (and DynamoDB calls) of the parts the dashboard and the analytics call, inside the real calls:
    each part is wrapped where the service looks it up. `active` names the series the time goes to."""

    def __init__(self, meter: Meter) -> None:
        from backend.services.analytics import counters, dashboard, reports
        from backend.services.messaging import dlq
        from backend.services.platform import rate_limit

        self.meter = meter
        self.active: str | None = None
        self.times: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        self.calls: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
        self.rounds: Counter = Counter()
        counters.read_days = self._wrap(counters.read_days, lambda days, *a, **k: f"counters.read_days ({len(list(days))} days)")
        dashboard.inbox_summary = self._wrap(dashboard.inbox_summary, lambda *a, **k: "inbox_summary")
        dashboard.list_jobs = self._wrap(dashboard.list_jobs, lambda *a, status=None, **k: f"list_jobs status={status}")
        reports.list_jobs = self._wrap(reports.list_jobs, lambda *a, status=None, **k: f"list_jobs status={status} (limit 50)")
        dlq.waiting_counts = self._wrap(dlq.waiting_counts, lambda *a, **k: "dlq.waiting_counts (4 queues)")
        rate_limit.usage = self._wrap(rate_limit.usage, lambda channel, *a, **k: f"rate_limit.usage {channel}")

    def _wrap(self, function, name_of):
        parts = self

        def timed(*args, **kwargs):
            if parts.active is None:
                return function(*args, **kwargs)
            name = name_of(*args, **kwargs)
            mark, started = parts.meter.mark(), time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                parts.times[parts.active][name].append((time.perf_counter() - started) * 1000)
                parts.calls[parts.active][name].update(parts.meter.since(mark)[0])

        return timed

    def report(self, kind: str, series: Series) -> None:
        rounds = len(series.latencies_ms)
        if not rounds:
            return
        whole = sum(series.latencies_ms) / rounds
        print(f"\n{kind}: where a call's {whole:.1f} ms (mean) go, {rounds} calls")
        print(f"  {'part':<42} {'per call':>8} {'p50 ms':>7} {'p95 ms':>7} {'mean/call':>9} {'share':>6}  DynamoDB calls per call")
        named = 0.0
        for name, times in sorted(self.times[kind].items(), key=lambda item: -sum(item[1])):
            per_call = sum(times) / rounds
            named += per_call
            ordered = sorted(times)
            p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
            calls = ", ".join(f"{op} {n / len(times):g}" for op, n in sorted(self.calls[kind][name].items()))
            print(f"  {name:<42} {len(times) / rounds:>8g} {median(times):>7.1f} {p95:>7.1f} {per_call:>9.1f} "
                  f"{100 * per_call / whole:>5.0f}%  {calls or '-'}")
        rest = whole - named
        print(f"  {'the rest (Python: building the view)':<42} {'':>8} {'':>7} {'':>7} {rest:>9.1f} {100 * rest / whole:>5.0f}%")


def forget_caches() -> None:
    """What a first load finds: no inbox partition snapshot, no recipient counts of the campaigns. (The SystemConfig
    cache of settings such as the rate limits' configuration stays: it lives for seconds and is configuration.)"""
    from backend.services.campaigns import jobs
    from backend.services.messaging import conversations

    conversations.forget_snapshots()
    jobs._counts_cache.forget()


def check(kind: str, answer, expect: dict) -> str | None:
    """Whether the answer shows what was seeded; None when it does."""
    if kind.startswith("dashboard"):
        found = (answer.inbox.open, answer.inbox.pending, answer.campaigns_active, answer.dlq_waiting, len(answer.trend),
                 len(answer.rate_limits))
        wanted = (expect["open"], expect["pending"], 3, expect["dlq"], 7, 4)
        if found != wanted:
            return f"{kind}: (open, pending, campaigns, dead letters, trend days, rate limits) {found} != {wanted}"
        if answer.inbound + answer.outbound != expect["today"]:
            return f"{kind}: today {answer.inbound + answer.outbound:,} messages, counters say {expect['today']:,}"
        return None
    if kind.startswith("analytics"):
        days = int(kind.split()[1][:-1])
        total = answer.total_inbound + answer.total_outbound
        if total != expect["totals"][days] or len(answer.volume) != days:
            return f"{kind}: {total:,} messages over {len(answer.volume)} days, seeded {expect['totals'][days]:,}"
        if days == 90 and (len(answer.campaigns) != expect["campaigns"] or not answer.failure_reasons or not answer.responses):
            return f"{kind}: {len(answer.campaigns)} campaigns (want {expect['campaigns']}), reasons or responses missing"
        return None
    lines = answer.count("\n") - 1
    if lines != expect["csv_lines"]:
        return f"{kind}: {lines} lines, want {expect['csv_lines']}"
    return None


def measure(admin, args, database, meter: Meter, parts: Parts, expect: dict) -> tuple[dict[str, Series], list[str]]:
    from backend.services.analytics import reports
    from backend.services.analytics.dashboard import dashboard

    calls = {
        "dashboard (cold)": lambda: dashboard(admin),
        "dashboard (warm)": lambda: dashboard(admin),
        "analytics 90d": lambda: reports.analytics(admin, range_name="90d"),
        "analytics 30d": lambda: reports.analytics(admin, range_name="30d"),
        "analytics 7d": lambda: reports.analytics(admin, range_name="7d"),
        "export_csv 90d": lambda: reports.export_csv(admin, range_name="90d"),
    }
    wrong: list[str] = []
    for _ in range(args.warmup):
        for kind in KINDS:
            if kind == "dashboard (cold)":
                forget_caches()
            calls[kind]()
    series = {kind: Series() for kind in KINDS}
    start = cpu_sample(database)
    for _ in range(args.requests):
        for kind in KINDS:  # round robin: the machine's ups and downs fall on every kind alike
            if kind == "dashboard (cold)":
                forget_caches()
            mark, parts.active = meter.mark(), kind
            began = cpu_sample(database)
            answer = calls[kind]()
            ended = cpu_sample(database)
            parts.active = None
            s = series[kind]
            s.latencies_ms.append((ended.wall - began.wall) * 1000)
            s.cpu_ms.append((ended.python_cpu - began.python_cpu + ended.java_cpu - began.java_cpu) * 1000)
            counted, items, size = meter.since(mark)
            s.calls.append(counted)
            s.items.append(items)
            s.bytes.append(size)
            problem = check(kind, answer, expect)
            if problem and len(wrong) < 20:
                wrong.append(problem)
    print(f"\nRequests ({args.requests} rounds of {len(KINDS)}, after {args.warmup} unmeasured rounds): "
          f"{describe_cpu(start, cpu_sample(database))}")
    return series, wrong


def print_table(series: dict[str, Series]) -> None:
    print(f"{'call (server time)':<20} {'n':>4} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {'CPU ms p50':>10} "
          f"{'DDB calls':>9} {'items read':>10} {'KB read':>8}  p95<={TARGET_P95_MS:.0f}ms")
    for kind, s in series.items():
        p95 = s.percentile(95)
        calls = sum(sum(c.values()) for c in s.calls) / len(s.calls)
        verdict = ("ok" if p95 <= TARGET_P95_MS else "MISS") if kind in TARGETED else "(reference)"
        print(f"{kind:<20} {len(s.latencies_ms):>4} {s.percentile(50):>7.1f} {p95:>7.1f} {s.percentile(99):>7.1f} "
              f"{max(s.latencies_ms):>7.1f} {median(s.cpu_ms):>10.1f} {calls:>9.1f} {sum(s.items) / len(s.items):>10.0f} "
              f"{sum(s.bytes) / len(s.bytes) / 1024:>8.1f}  {verdict}")
    print("DynamoDB calls per call, by operation:")
    for kind, s in series.items():
        total = sum(s.calls, Counter())
        print(f"  {kind:<20} " + ", ".join(f"{op} {n / len(s.calls):g}" for op, n in sorted(total.items())))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000, help="messages the counters count (default 1,000,000)")
    parser.add_argument("--days", type=int, default=90, help="days of counters, ending today (default 90)")
    parser.add_argument("--requests", type=int, default=200, help="measured calls of each kind (default 200)")
    parser.add_argument("--warmup", type=int, default=30, help="unmeasured rounds first: DynamoDB Local's JIT (default 30)")
    parser.add_argument("--conversations", type=int, default=200, help="open conversations (default 200)")
    parser.add_argument("--pending", type=int, default=40, help="pending conversations (default 40)")
    parser.add_argument("--resolved", type=int, default=60, help="resolved conversations (default 60)")
    parser.add_argument("--finished-jobs", type=int, default=12, help=f"finished SMS campaigns of {FINISHED_AUDIENCE} (default 12)")
    parser.add_argument("--audience", type=int, default=200, help="recipients of each running campaign (default 200)")
    parser.add_argument("--dead-letters", type=int, default=40, help="waiting dead letters, and half as many discarded (default 40)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.days < 90:
        parser.error("--days: at least 90 (the 90-day analytics)")
    os.environ["WECARE_SANDBOX_LATENCY_MS"] = str(30 * 60 * 1000)  # no sandbox status events while the bench reads
    os.environ.setdefault("WECARE_OUTBOX_WORKERS", "4")
    print(f"Machine at the start: {machine_load()}")
    began = time.perf_counter()
    with local_database("dashboard", in_memory=True) as database:
        import logging

        from backend.models import message_stats
        from backend.models.base import utcnow
        from backend.services.platform.access import Actor, Role

        logging.basicConfig(level=logging.WARNING)
        admin = Actor(user_id="bench-admin", email="admin@bench.example", role=Role.ADMIN)
        operator = Actor(user_id="bench-operator", email="operator@bench.example", role=Role.OPERATOR)
        print("Seeding:")
        started = time.perf_counter()
        contact_ids = seed_conversations(admin, args.conversations, args.pending, args.resolved)
        finished = seed_finished_jobs(operator, args.finished_jobs)
        seed_running_jobs(operator, args.audience)
        waiting = seed_dead_letters(admin, args.dead_letters, contact_ids)
        touch_rate_limits()
        # Last: the runtime that ran the campaigns is stopped, and nothing counts the stream here, so the counters
        # are exactly these (replace_days writes whole days).
        days, _ = seed_counters(args.messages, args.days, args.seed)
        stored = message_stats.read_days(days)
        totals = {n: sum(v for day in days[-n:] for name, v in stored.get(day, {}).items() if name.endswith("|total"))
                  for n in (7, 30, 90)}
        csv_lines = sum(1 for day in days[-90:] for name in stored.get(day, {}) if name.endswith("|total"))
        expect = {"open": args.conversations, "pending": args.pending, "dlq": waiting, "campaigns": min(10, len(finished)),
                  "today": sum(v for name, v in stored.get(utcnow().date().isoformat(), {}).items() if name.endswith("|total")),
                  "totals": totals, "csv_lines": csv_lines}
        whole = sum(v for values in stored.values() for name, v in values.items() if name.endswith("|total"))
        print(f"Seeded in {time.perf_counter() - started:.1f} s; read back: {whole:,} messages over {len(stored)} days "
              f"(90 days {totals[90]:,}, 30 days {totals[30]:,}, 7 days {totals[7]:,}, today {expect['today']:,})")
        wrong = [] if whole == args.messages else [f"seeded counters total {whole:,}, not {args.messages:,}"]
        meter = Meter()
        parts = Parts(meter)
        print(f"Machine before measuring: {machine_load()}")
        series, problems = measure(admin, args, database, meter, parts, expect)
        wrong += problems
        print_table(series)
        for kind in ("dashboard (cold)", "dashboard (warm)", "analytics 90d"):
            parts.report(kind, series[kind])
        for problem in wrong:
            print(f"  WRONG {problem}")
    print(f"\nMachine at the end: {machine_load()}; whole run {time.perf_counter() - began:.0f} s")
    return p95_verdict("dashboard", f"{args.messages:,} messages' counters over {args.days} days × 4 channels, "
                                    f"{args.conversations} open conversations, {args.requests} calls each",
                       {kind: series[kind] for kind in TARGETED}, len(wrong), TARGET_P95_MS)


if __name__ == "__main__":
    sys.exit(main())
