"""Benchmark: sustained WhatsApp ingestion through the inbound Lambda handler, with redeliveries.

    PYTHONPATH=. .venv/bin/python bench/inbound_throughput.py [--messages 5000] [--senders 500] [--workers 32]

Real-shaped SNS events (one message each, like End User Messaging Social publishes them) from a few hundred
customers, of whom half are already contacts; 10% of the events are delivered a second time, interleaved.
Workers call the very handler Lambda runs, 32 deliveries at a time, as the app's webhook door does
(WECARE_WEBHOOK_WORKERS), so concurrent messages share transactions (group commit).
An untimed first batch from other senders warms DynamoDB Local's JVM: its JIT needs a few thousand
requests to settle (try --warmup 0 to see the cold figure). Afterwards every message id is read back: each
must be stored exactly once, and the handler must have reported every redelivery as a duplicate.
Target: at least 500 messages/s delivered (redeliveries included), 0 duplicates, 0 lost.
"""
from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.local_dynamodb import cpu_sample, describe_cpu, local_database, machine_load  # noqa: E402

TARGET_PER_S = 500
REDELIVERY_SHARE = 0.10


def build_events(messages: int, senders: int, seed: int) -> tuple[list[dict], list[str], int, list[str]]:
    """(events in delivery order, the distinct wamids, how many events are redeliveries, sender numbers)."""
    from tests.whatsapp_events import make_wamid, meta_message, sns_event, sns_message, webhook_entry

    rng = random.Random(seed)
    phones = [f"4477009{n:05d}" for n in rng.sample(range(100_000), senders)]
    now = int(time.time())
    originals, wamids = [], []
    for index in range(messages):
        phone = rng.choice(phones)
        wamid = make_wamid(phone, f"bench-{seed}-{index}")
        text = rng.choice(["Hi, where is my order?", "Thanks!", "Can I change the address?", "ok", "When do you open?"])
        entry = webhook_entry([meta_message("text", wamid=wamid, from_phone=phone, text=text, ts=now)], from_phone=phone, profile_name=f"Customer {phone[-4:]}")
        originals.append(sns_event(sns_message(entry)))
        wamids.append(wamid)
    events = list(originals)
    redeliveries = int(messages * REDELIVERY_SHARE)
    for original in rng.sample(range(messages), redeliveries):
        # SNS redelivers after the first attempt: somewhere later in the stream
        events.insert(rng.randint(original + 1, len(events)), originals[original])
    return events, wamids, redeliveries, phones


def precreate_contacts(senders: list[str]) -> None:
    from backend.services.platform.access import Actor, Role
    from backend.services.contacts.senders import contact_for_sender

    system = Actor(user_id="bench", role=Role.ADMIN)
    for phone in senders:
        contact_for_sender(system, "phone", "+" + phone, display_name=None, via="bench")


def count_stored(wamids: list[str]) -> int:
    from backend.models.messaging import MessageModel
    from backend.services.messaging.rows import inbound_message_id

    keys = [inbound_message_id("whatsapp", w) for w in wamids]
    return sum(1 for _ in MessageModel.batch_get(keys))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--senders", type=int, default=500)
    parser.add_argument("--workers", type=int, default=32, help="deliveries in flight at once")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--warmup", type=int, default=4000, help="events ingested first, untimed: DynamoDB Local's JIT settles after a few thousand")
    parser.add_argument("--in-memory", action="store_true", help="DynamoDB Local without its on-disk store")
    args = parser.parse_args()

    with local_database("inbound", in_memory=args.in_memory) as database:
        print(f"DynamoDB Local storage: {'in memory' if args.in_memory else 'on disk (as the app runs it)'}")
        from backend.adapters.send_queue import lambda_handler

        handler = lambda_handler("inbound-whatsapp-handler")
        events, wamids, redeliveries, senders = build_events(args.messages, args.senders, args.seed)
        precreate_contacts(senders[: len(senders) // 2])
        print(f"{len(events)} events ({args.messages} messages + {redeliveries} redeliveries) from {len(senders)} senders, "
              f"half of them new contacts; {args.workers} workers; {machine_load()}")

        totals = {"stored": 0, "duplicates": 0, "rejected": 0}
        lock = threading.Lock()

        def deliver(event: dict) -> None:
            result = handler(event, None)
            with lock:
                totals["stored"] += result["stored"]
                totals["duplicates"] += result["duplicates"]
                totals["rejected"] += len(result["rejected"])

        warmup, _, _, _ = build_events(args.warmup, 50, args.seed + 1)
        with ThreadPoolExecutor(args.workers) as pool:
            list(pool.map(lambda event: handler(event, None), warmup))
        from backend.services.storage.group_commit import inbound_commits

        before = inbound_commits.stats()
        start = cpu_sample(database)
        with ThreadPoolExecutor(args.workers) as pool:
            list(pool.map(deliver, events))
        end = cpu_sample(database)
        after = inbound_commits.stats()
        elapsed = end.wall - start.wall
        stored = count_stored(wamids)
        rate = len(events) / elapsed
        print(f"ingested {len(events)} events in {elapsed:.2f} s: {rate:,.0f} events/s ({args.messages / elapsed:,.0f} new messages/s)")
        print(describe_cpu(start, end))
        groups, works = after.groups - before.groups, after.works - before.works
        print(f"group commit: {works} transactions in {groups} TransactWriteItems calls ({works / max(groups, 1):.1f} per call)")
        print(f"handler reported: stored {totals['stored']}, duplicates {totals['duplicates']}, rejected {totals['rejected']}")
        lost = args.messages - stored
        duplicates = totals["stored"] - args.messages
        print(f"read back: {stored} of {args.messages} messages stored -> lost {lost}, duplicates {duplicates}")
        ok = rate >= TARGET_PER_S and lost == 0 and duplicates == 0 and totals["duplicates"] == redeliveries
        print(f"{'PASS' if ok else 'MISS'}: target >= {TARGET_PER_S} events/s, 0 lost, 0 duplicates")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
