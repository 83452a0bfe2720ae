"""Benchmark: the message log's filters and search through `message_log` over a month of messages on DynamoDB Local.

    PYTHONPATH=. .venv/bin/python bench/message_log.py [--messages 100000] [--requests 50] [--writers 4] [--seed 7] [--on-disk]

Loads the messages spread over the last 30 days into an in-memory DynamoDB Local (BatchWriteItem from parallel
writers: setup, timed but not the target; `--on-disk` keeps the tables on disk like the app, and loading is then
bound by the disk), then measures p50/p95/max of a first page (50 messages, what /messages shows) for each kind of
request: no filter, channel, direction, status, a combination, a day, a common search, and a rare search
that reads up to the per-request cap. Every answer is checked (each message matches, newest first, the read
cap held). Target: p95 <= 150 ms each.
"""
from __future__ import annotations

import argparse
import math
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.local_dynamodb import cpu_sample, describe_cpu, local_database, machine_load, p95_verdict  # noqa: E402

TARGET_P95_MS = 150.0
PAGE_SIZE = 50  # what /messages asks for
BATCH = 25  # items per BatchWriteItem (DynamoDB's maximum)
WARMUP_PER_KIND = 5
CHANNELS = (("whatsapp", 0.70), ("sms", 0.15), ("email", 0.10), ("voice", 0.05))
OUTBOUND_STATUSES = (("DELIVERED", 0.55), ("READ", 0.25), ("SENT", 0.10), ("FAILED", 0.05), ("ACCEPTED", 0.03), ("DEAD", 0.02))
WORDS = "order delivery invoice thanks hello payment refund booking ticket address account update please when".split()
RARE_WORD = "zanzibar"  # in 1 message of 500: a search for it reads the cap before the page fills
KINDS = ("no filter", "channel", "direction", "status", "status + channel", "channel + day", "search (common word)",
         "search (rare: reads the cap)", "search, next page")


def pick(rng: random.Random, weighted) -> str:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def make_items(count: int, seed: int) -> list[dict]:
    """The messages as DynamoDB items, newest first, over the last 30 days (serialized by the model itself)."""
    from backend.models.base import utcnow
    from backend.services.messaging.rows import new_message_id, new_message_row

    rng = random.Random(seed)
    now = utcnow()
    spacing = timedelta(days=30) / count
    items = []
    for n in range(count):
        outbound = rng.random() < 0.5
        body = " ".join(rng.choices(WORDS, k=rng.randint(3, 12))) + (f" {RARE_WORD}" if rng.random() < 1 / 500 else "")
        row = new_message_row(
            message_id=new_message_id(), channel=pick(rng, CHANNELS), direction="outbound" if outbound else "inbound",
            status=pick(rng, OUTBOUND_STATUSES) if outbound else "RECEIVED", now=now - spacing * n - timedelta(seconds=1),
            body=body, address=f"+1415555{rng.randint(0, 9999):04d}", contactId=f"c{rng.randint(0, 4999):05d}",
        )
        items.append(row.serialize())
    return items


def load(items: list[dict], writers: int, database) -> None:
    """BatchWriteItem of 25 from `writers` threads, retrying what DynamoDB leaves unprocessed."""
    from backend.models.messaging import MessageModel
    from backend.models.schema import dynamodb_client

    client, table = dynamodb_client(), MessageModel.Meta.table_name
    chunks = [items[i : i + BATCH] for i in range(0, len(items), BATCH)]
    progress_every = max(1, len(chunks) // 10)
    start = cpu_sample(database)

    def write(numbered) -> None:
        number, chunk = numbered
        requests = {table: [{"PutRequest": {"Item": item}} for item in chunk]}
        while requests:
            requests = client.batch_write_item(RequestItems=requests).get("UnprocessedItems") or None
        if (number + 1) % progress_every == 0:
            done = min(len(items), (number + 1) * BATCH)
            print(f"  loaded ~{done:>9,}/{len(items):,}  ({done / (time.perf_counter() - start.wall):,.0f} messages/s so far)", flush=True)

    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(write, enumerate(chunks)))
    end = cpu_sample(database)
    wall, java_ms = end.wall - start.wall, 1000 * (end.java_cpu - start.java_cpu) / len(items)
    print(f"Load: {len(items):,} messages in {wall:.1f} s = {len(items) / wall:,.0f} messages/s from {writers} writers")
    print(f"  {describe_cpu(start, end)}")
    print(f"  write floor here: {java_ms:.3f} ms of DynamoDB Local CPU per message (the row and its 4 log index entries); "
          f"bench/dynamodb_local_floor.py measures the engine's own floor per item")


@dataclass
class Series:
    latencies_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)  # Python + DynamoDB Local CPU: what waiting for a core hides
    examined: list[int] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else float("nan")


def request_for(kind: str, rng: random.Random, today) -> dict:
    channel = pick(rng, CHANNELS)
    if kind == "channel":
        return {"channel": channel}
    if kind == "direction":
        return {"direction": rng.choice(("inbound", "outbound"))}
    if kind == "status":
        return {"status": rng.choice(("DELIVERED", "READ", "FAILED", "RECEIVED", "DEAD"))}
    if kind == "status + channel":
        return {"status": rng.choice(("DELIVERED", "FAILED", "RECEIVED")), "channel": channel}
    if kind == "channel + day":
        return {"channel": channel, "day": today - timedelta(days=rng.randint(0, 29))}
    if kind in ("search (common word)", "search, next page"):
        return {"q": rng.choice(WORDS).upper()}
    if kind == "search (rare: reads the cap)":
        return {"q": RARE_WORD}
    return {}


def problems(page, filters: dict, cap: int) -> str | None:
    if page.examined > cap:
        return f"{filters}: read {page.examined} > cap {cap}"
    created = [m.created_at for m in page.items]
    if created != sorted(created, reverse=True):
        return f"{filters}: not newest first"
    needle = filters.get("q", "").casefold()
    for m in page.items:
        day_ok = "day" not in filters or m.created_at.date() == filters["day"]
        if not day_ok or any(getattr(m, k) != v for k, v in filters.items() if k in ("channel", "direction", "status")):
            return f"{filters}: {m.message_id} does not match"
        if needle and needle not in (m.body or "").casefold():
            return f"{filters}: {m.message_id} lacks {needle!r}"
    if not page.items and not page.truncated and not needle:
        return f"{filters}: no results"
    return None


def run_one(kind: str, series: dict[str, Series], actor, rng, today, database) -> None:
    from backend.services.messaging import messages

    filters = request_for(kind, rng, today)
    began = cpu_sample(database)
    page = messages.message_log(actor, limit=PAGE_SIZE, **filters)
    if kind == "search, next page":
        if not page.next_token:
            return
        began = cpu_sample(database)
        page = messages.message_log(actor, limit=PAGE_SIZE, next_token=page.next_token, **filters)
    ended = cpu_sample(database)
    s = series[kind]
    s.latencies_ms.append((ended.wall - began.wall) * 1000)
    s.cpu_ms.append((ended.python_cpu - began.python_cpu + ended.java_cpu - began.java_cpu) * 1000)
    s.examined.append(page.examined)
    problem = problems(page, filters, messages.EXAMINE_MAX)
    if problem:
        s.wrong.append(problem)


def measure(actor, per_kind: int, rng: random.Random, database) -> dict[str, Series]:
    from backend.models.base import utcnow

    today = utcnow().date()
    warm = {kind: Series() for kind in KINDS}
    for kind in KINDS * WARMUP_PER_KIND:
        run_one(kind, warm, actor, rng, today, database)
    plan = [kind for kind in KINDS for _ in range(per_kind)]
    rng.shuffle(plan)
    series = {kind: Series() for kind in KINDS}
    start = cpu_sample(database)
    for kind in plan:
        run_one(kind, series, actor, rng, today, database)
    print(f"Requests ({len(plan):,}, after {WARMUP_PER_KIND} unmeasured of each kind): {describe_cpu(start, cpu_sample(database))}")
    return series


def print_table(series: dict[str, Series]) -> None:
    print(f"{'request (first page of 50)':<30} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'CPU ms p50':>11} {'read avg':>9} "
          f"{'wrong':>6}  p95<={TARGET_P95_MS:.0f}ms")
    for kind, s in series.items():
        p95 = s.percentile(95)
        examined = sum(s.examined) / len(s.examined) if s.examined else float("nan")
        cpu = sorted(s.cpu_ms)[len(s.cpu_ms) // 2] if s.cpu_ms else float("nan")
        print(f"{kind:<30} {len(s.latencies_ms):>4} {s.percentile(50):>8.1f} {p95:>8.1f} {max(s.latencies_ms, default=float('nan')):>8.1f} "
              f"{cpu:>11.1f} {examined:>9.0f} {len(s.wrong):>6}  {'ok' if p95 <= TARGET_P95_MS else 'MISS'}")
        for example in s.wrong[:3]:
            print(f"  WRONG {kind}: {example}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000, help="messages to load (default 100,000)")
    parser.add_argument("--requests", type=int, default=50, help="measured requests per kind (default 50)")
    parser.add_argument("--writers", type=int, default=4, help="parallel loaders (default 4)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--on-disk", action="store_true",
                        help="keep the tables on disk like the app (loading is then bound by the disk; default in memory)")
    args = parser.parse_args(argv)
    print(f"Machine: {machine_load()}")
    with local_database("message-log", in_memory=not args.on_disk) as database:
        from backend.services.platform.access import Actor, Role

        began = time.perf_counter()
        items = make_items(args.messages, args.seed)
        print(f"Generated {len(items):,} messages over 30 days in {time.perf_counter() - began:.1f} s")
        load(items, args.writers, database)
        viewer = Actor(user_id="bench-viewer", email="viewer@example.com", role=Role.VIEWER)
        series = measure(viewer, args.requests, random.Random(args.seed + 1), database)
    print_table(series)
    print(f"Machine at the end: {machine_load()}")
    return p95_verdict("message_log", f"{args.messages:,} messages", series, sum(len(s.wrong) for s in series.values()), TARGET_P95_MS)


if __name__ == "__main__":
    sys.exit(main())
