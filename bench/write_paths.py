"""Benchmark: the app's three write-heavy paths, each against DynamoDB Local's floor for its own items, all in one
run on one engine.

    PYTHONPATH=. .venv/bin/python bench/write_paths.py [--floor-items 3000] [--contacts 5000] [--events 3000]
        [--recipients 3000] [--replay-items 5000]

DynamoDB Local writes on one thread and machines differ by 2x, so each path is reported as a share of the engine's
floor measured in the same run. What an item costs the engine grows with its size and its indexes (a contact is
~1.1 KB with nested maps and three indexes; message rows have several indexes, and their table a stream), so each
path is held to a floor measured with ITS OWN items (the replay floor), not with tiny ones. On one throwaway
in-memory DynamoDB Local:
1. Tiny-item floors, for reference only (no verdict uses them): bench/dynamodb_local_floor.py's `write`
   (conditional puts of tiny items into a table without indexes) in items/s, for two shapes, one item a call and
   100-item transactions, each from 1, 4 and 8 client threads (`--floor-threads`); a shape's figure is its best,
   and its thread count is the one the replays use. Also 100-item transactions of tiny items with three indexes.
2. Contact import: a realistic CSV (bench/contacts_import.py's `build_file`) through `plan_import` (untimed
   here) and `run_import` (timed), after an untimed import of `--import-warmup` other rows (the engine's JIT
   settles on contact-sized items, as it does for the replays and in a running app). Unit: a contact created. Shape: 100-item transactions (it writes chunks of
   rows, each contact with its unique keys and one audit row a chunk, as transactions of up to 100 items).
3. Inbound ingestion: real-shaped WhatsApp SNS events (bench/inbound_throughput.py's `build_events`, 10%
   redelivered, half the senders already contacts) through the inbound Lambda handler on `webhook_workers`
   threads, after an untimed warm-up. Unit: an event delivered (redeliveries included). Shape: one item a call
   (each delivery is its own small conditional transaction; group commit shares calls, which is the app's doing).
4. Bulk SMS campaign (bench/bulk_throughput.py's setup: `start_messaging(scheduler=False)` and a
   `CampaignRunner`, `bulk.unlimited` and `rateLimit.off`, sandbox status events held back): timed from the job's
   creation to the newest recipient row's updatedAt once all are SENT. Unit: a recipient. Shape: one item a call
   (its writes go one item a call).
5. The replay floor of each path, measured right after it (its workers stopped): every item the path sends in a
   write call is recorded (table and key; condition checks are not writes), an even sample of those writes over
   their order is kept (at most `--replay-warmup` + `--replay-items`), the items they wrote are read back (BatchGetItem: their final
   state; deleted ones are gone), empty copies of their tables are made from `describe_table` (same keys, indexes,
   projections and stream; on demand), and each sampled write is replayed as a put of its item into the copies,
   as fast as the engine takes them, in the path's shape: puts conditional on attribute_not_exists(hash key), in
   100-item TransactWriteItems calls for the import and one PutItem a call for inbound and bulk, from as many
   client threads as the best tiny floor of that shape. The first `--replay-warmup` puts (spread evenly over the
   sample, so the same mix) are not timed: the engine's JIT settles on these bigger items as it did on the tiny
   ones (without it, a first replay of the import's items ran 1.3-1.6x slower than replays after it). The copies
   are dropped afterwards.
   Floor in units/s = replay items/s / items the path wrote per unit. Items are counted for every path with
   bulk_throughput.WriteCounter (every DynamoDB write call of the process, by item; a failed call's items count
   too, and are shown apart), so items per unit are measured, not assumed. That count (every write the path
   sends) is the divisor, not the distinct items: an item written three times (created, then updated twice)
   costs the engine three writes. So the replay is weighted by writes too: an item the sample holds three times is
   put three times, the second and third under a hash key of their own (`<key>#2`, ...) so each put is a new item.
   Replaying distinct items instead would skew the mix towards items written once (inbound: every message, but
   each contact once however often it was updated) and hold the path to the cost of a mix it does not write.
Caveats of the replay: it is puts of final items into empty tables. Most of the bulk path's writes (and inbound's
contact writes) are updates of items that already exist; the engine rewrites the whole item and its index entries
for those, so each costs about what a put of the item costs, but not exactly: measured, the bulk path's small
updates cost the engine less per item (its Java CPU over the items it writes, reads included) than puts of the
final items one a call, so a one-item-a-call path can exceed 100% of its replay floor: for those the floor is what
the engine does for puts of these items, not a ceiling. An item rewritten as it grows is replayed at its final
size each time; a write of a failed call (a transaction cancelled by a condition) is replayed as a put that
succeeds; the copies start empty while the real tables hold the other paths' rows. It is measured right after the
path on the same engine, so the two share the engine's state; the tiny floors measured again at the end show how
far the engine (or the machine) drifted over the run.
Printed: the tiny floors; per path its timing and CPU split, checks, items by operation and by table, then its
replay; a table of units, items per unit, items per write call, units/s, the replay floor in items/s and units/s,
the share of it reached and PASS/MISS; a reference table of the shares of the tiny floors; the tiny floors again
(drift only); one `SUMMARY write_paths:` line. Target: each path at least 80% of its replay floor.
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bulk_throughput import WRITE_OPERATIONS, WriteCounter, make_contacts, wait_for_sent  # noqa: E402
from bench.contacts_import import build_file, timed  # noqa: E402
from bench.dynamodb_local_floor import INDEXES, create_table, write as floor_write  # noqa: E402
from bench.inbound_throughput import build_events, count_stored, precreate_contacts  # noqa: E402
from bench.local_dynamodb import cpu_sample, describe_cpu, local_database, machine_load  # noqa: E402

TARGET_SHARE = 0.80
SINGLE, BATCH = 1, 100  # items per call of the two shapes
SHAPE_NAMES = {SINGLE: "one item a call", BATCH: "100-item transactions"}
FLOOR_TABLE = "floor-write-paths"
REPLAY_SUFFIX = "-replay"  # the copies a replay writes into, dropped afterwards
BATCH_GET_KEYS = 100  # BatchGetItem's limit

Sent = tuple[str, str, dict]  # (table, action: Put, Update, Delete or ConditionCheck, the item put or the key)


def sent_items(operation: str, params: dict) -> list[Sent]:
    """Each item a write call sends."""
    if operation == "TransactWriteItems":
        return [(body["TableName"], action, body.get("Item") or body["Key"])
                for entry in params.get("TransactItems", ()) for action, body in entry.items()]
    if operation == "BatchWriteItem":
        return [(table, "Put", request["PutRequest"]["Item"]) if "PutRequest" in request else (table, "Delete", request["DeleteRequest"]["Key"])
                for table, requests in params.get("RequestItems", {}).items() for request in requests]
    return [(params["TableName"], operation.removesuffix("Item"), params.get("Item") or params["Key"])]


class CallCounter:
    """Write calls (not items) of every DynamoDB client of this process, each item they send (what the replays
    read back), and the items of the calls that failed (a cancelled transaction, a failed condition): installed on
    top of a WriteCounter, which counts every item sent by operation."""

    def __init__(self) -> None:
        import botocore.client

        self.calls = 0
        self.failed_items = 0
        self.sent: list[Sent] = []
        self._lock = threading.Lock()
        original = botocore.client.BaseClient._make_api_call
        counter = self

        def counted(client, operation, params):
            if operation not in WRITE_OPERATIONS and operation not in ("BatchWriteItem", "TransactWriteItems"):
                return original(client, operation, params)
            items = sent_items(operation, params)
            with counter._lock:
                counter.calls += 1
                counter.sent += items
            try:
                return original(client, operation, params)
            except Exception:
                with counter._lock:
                    counter.failed_items += len(items)
                raise

        botocore.client.BaseClient._make_api_call = counted


@dataclass
class Counted:
    items: int  # sent in write calls, including those of failed calls
    calls: int
    failed_items: int  # items of write calls that failed (a transaction cancelled by a condition, retried without it)
    by_operation: dict[str, int]
    sent: list[Sent]  # each item sent, in order

    def describe(self) -> str:
        by_table = collections.Counter(table for table, action, _ in self.sent if action != "ConditionCheck")
        return (f"{self.items:,} items in {self.calls:,} write calls ({self.items / max(self.calls, 1):.1f} a call), "
                f"{self.failed_items:,} of them in calls that failed; by operation {self.by_operation}; "
                f"written by table {dict(by_table)}")


class Mark(NamedTuple):
    items: collections.Counter
    calls: int
    failed_items: int
    sent: int


class Meter:
    """Items (by operation), write calls and the items sent between `start()` and `since(mark)`."""

    def __init__(self) -> None:
        self.items = WriteCounter()
        self.calls = CallCounter()

    def start(self) -> Mark:
        with self.items._lock, self.calls._lock:  # other threads may be writing
            return Mark(collections.Counter(self.items.items), self.calls.calls, self.calls.failed_items, len(self.calls.sent))

    def since(self, mark: Mark) -> Counted:
        now = self.start()
        by_operation = dict(now.items - mark.items)
        return Counted(sum(by_operation.values()), now.calls - mark.calls, now.failed_items - mark.failed_items,
                       by_operation, self.calls.sent[mark.sent:now.sent])


@dataclass
class PathResult:
    name: str
    unit: str
    units: int
    seconds: float
    counted: Counted
    shape: int  # items a call of its replay (and of the tiny floor shown for reference)
    problems: list[str]
    replay: float | None = None  # its replay floor, items/s

    @property
    def per_unit(self) -> float:
        return self.counted.items / self.units

    @property
    def rate(self) -> float:
        return self.units / self.seconds

    def floor_units(self, floor_items_per_s: float) -> float:
        return floor_items_per_s / self.per_unit

    def share(self, floor_items_per_s: float) -> float:
        return self.rate / self.floor_units(floor_items_per_s)


# ---------------------------------------------------------------- timed writes: the floors and the replays


@dataclass(frozen=True)
class FloorFigure:
    items_per_s: float
    threads: int


def print_floor_header() -> None:
    print(f"  {'shape':<48} {'threads':>7} {'items':>7} {'items/call':>10} {'Java CPU/item':>14} {'Python CPU/item':>16} {'items/s':>9}")


def make_calls(threads: int, calls: list[Callable[[], object]]) -> None:
    """Make `calls` from `threads` client threads at once."""
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda call: call(), calls))


def timed_writes(database, meter: Meter, label: str, threads: int, calls: list[Callable[[], object]]) -> float:
    """Make `calls` (write calls) from `threads` client threads at once; prints the figures, returns items/s."""
    mark, start = meter.start(), cpu_sample(database)
    make_calls(threads, calls)
    end, counted = cpu_sample(database), meter.since(mark)
    rate = counted.items / (end.wall - start.wall)
    java_ms = 1000 * (end.java_cpu - start.java_cpu) / counted.items
    python_ms = 1000 * (end.python_cpu - start.python_cpu) / counted.items
    print(f"  {label:<48} {threads:>7} {counted.items:>7,} {counted.items / counted.calls:>10.1f} {java_ms:>11.3f} ms "
          f"{python_ms:>13.3f} ms {rate:>9,.0f}")
    return rate


def floor_run(database, meter: Meter, client, table: str, indexes: tuple[str, ...], per_call: int, threads: int, items: int) -> float:
    """`items` tiny items (bench/dynamodb_local_floor.py's `write`), `per_call` a call, from `threads` threads: items/s."""
    label = SHAPE_NAMES[per_call] + (f", {len(indexes)} indexes" if indexes else "")
    call = partial(floor_write, client, table, indexes, per_call, per_call)
    return timed_writes(database, meter, label, threads, [call] * max(1, items // per_call))


def measure_floor(database, meter: Meter, client, items: int, threads: list[int], warmup: int) -> dict[int, FloorFigure]:
    """The best items/s of each shape with tiny items over the thread counts."""
    create_table(client, FLOOR_TABLE, ())
    create_table(client, FLOOR_TABLE + "-indexed", INDEXES)
    floor_write(client, FLOOR_TABLE, (), warmup, BATCH)  # the JIT settles first (as dynamodb_local_floor.py)
    floor_write(client, FLOOR_TABLE, (), warmup // 6, SINGLE)
    floor_write(client, FLOOR_TABLE + "-indexed", INDEXES, warmup // 3, BATCH)
    print_floor_header()
    best: dict[int, FloorFigure] = {}
    for per_call in (SINGLE, BATCH):
        for count in threads:
            rate = floor_run(database, meter, client, FLOOR_TABLE, (), per_call, count, items)
            if per_call not in best or rate > best[per_call].items_per_s:
                best[per_call] = FloorFigure(rate, count)
    print("  and tiny items with the Contact table's three indexes:")
    floor_run(database, meter, client, FLOOR_TABLE + "-indexed", INDEXES, BATCH, best[BATCH].threads, items)
    return best


def floor_again(database, meter: Meter, client, floor: dict[int, FloorFigure], items: int) -> None:
    """Each shape once more at its best thread count, after the paths: how far the engine (or the machine) drifted."""
    print("\n[tiny-item floors again, after the paths: drift check only]")
    for per_call, figure in floor.items():
        rate = floor_run(database, meter, client, FLOOR_TABLE, (), per_call, figure.threads, items)
        print(f"    {SHAPE_NAMES[per_call]}: {100 * (rate / figure.items_per_s - 1):+.0f}% against the first measurement")


def copy_table(client, table: str, name: str) -> list[str]:
    """An empty on-demand table `name` with `table`'s keys, indexes (and their projections) and stream; returns
    its key attributes, the hash key first."""
    described = client.describe_table(TableName=table)["Table"]
    request = {"TableName": name, "BillingMode": "PAY_PER_REQUEST", "KeySchema": described["KeySchema"],
               "AttributeDefinitions": described["AttributeDefinitions"]}
    for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if described.get(kind):
            request[kind] = [{key: index[key] for key in ("IndexName", "KeySchema", "Projection")} for index in described[kind]]
    if (described.get("StreamSpecification") or {}).get("StreamEnabled"):
        request["StreamSpecification"] = described["StreamSpecification"]
    client.create_table(**request)
    return [key["AttributeName"] for key in sorted(described["KeySchema"], key=lambda key: key["KeyType"] != "HASH")]


def identity(item: dict, key_names: list[str]) -> tuple:
    """A hashable form of an item's key."""
    return tuple(tuple(item[name].items()) for name in key_names)


def read_back(client, key_names: dict[str, list[str]], keys: list[tuple[str, dict]]) -> dict[tuple, dict]:
    """The items stored now under these (table, key)s, by (table, identity); those no longer stored are missing."""
    found = {}
    for first in range(0, len(keys), BATCH_GET_KEYS):
        pending: dict = {}
        for table, key in keys[first:first + BATCH_GET_KEYS]:
            pending.setdefault(table, {"Keys": []})["Keys"].append(key)
        while pending:
            answer = client.batch_get_item(RequestItems=pending)
            for table, items in answer["Responses"].items():
                found.update(((table, identity(item, key_names[table])), item) for item in items)
            pending = answer.get("UnprocessedKeys") or {}
    return found


def evenly(items: list, count: int) -> list[int]:
    """The indexes of `count` of `items`, spread evenly over them (all of them when there are no more)."""
    return [n * len(items) // count for n in range(count)] if len(items) > count else list(range(len(items)))


def replay_call(client, hash_keys: dict[str, str], per_call: int, items: list[tuple[str, dict]]) -> None:
    """Put `items` into the tables' copies, each conditional on its hash key being new: one PutItem, or one
    TransactWriteItems call."""
    puts = [{"TableName": table + REPLAY_SUFFIX, "Item": item, "ConditionExpression": "attribute_not_exists(#hash)",
             "ExpressionAttributeNames": {"#hash": hash_keys[table]}} for table, item in items]
    if per_call == SINGLE:
        client.put_item(**puts[0])
    else:
        client.transact_write_items(TransactItems=[{"Put": put} for put in puts])


def replay_calls(client, hash_keys: dict[str, str], per_call: int, items: list[tuple[str, dict]]) -> list[Callable[[], None]]:
    """The calls putting `items` into the copies, `per_call` a call."""
    return [partial(replay_call, client, hash_keys, per_call, items[first:first + per_call]) for first in range(0, len(items), per_call)]


def replay_floor(database, meter: Meter, client, result: PathResult, threads: int, sample: int, warmup: int) -> float:
    """The engine's floor for the path's own items: its writes (an even sample over their order, at most `sample`
    timed after `warmup` untimed), each replayed as a put of the item it wrote, read back, in the path's shape,
    into empty copies of its tables."""
    writes = [(table, body) for table, action, body in result.counted.sent if action != "ConditionCheck"]
    key_names: dict[str, list[str]] = {}  # table -> its key attributes, the hash key first
    unit = result.unit.removesuffix("s")
    try:
        for table in dict.fromkeys(table for table, _ in writes):
            key_names[table] = copy_table(client, table, table + REPLAY_SUFFIX)
        distinct = {(table, identity(body, key_names[table])) for table, body in writes}
        sampled = [writes[n] for n in evenly(writes, warmup + sample)]
        keys = {(table, identity(body, key_names[table])): (table, {name: body[name] for name in key_names[table]})
                for table, body in sampled}
        found = read_back(client, key_names, list(keys.values()))
        items, times = [], collections.Counter()
        for table, body in sampled:
            written = (table, identity(body, key_names[table]))
            if written not in found:  # deleted since
                continue
            item, times[written] = found[written], times[written] + 1
            if times[written] > 1:  # written again: one more put of it, under a key of its own
                hash_key = key_names[table][0]  # a string in every table of ours
                item = {**item, hash_key: {"S": f"{item[hash_key]['S']}#{times[written]}"}}
            items.append((table, item))
        warm = set(evenly(items, len(items) * warmup // (warmup + sample)))  # spread evenly too: the same mix
        print(f"  replay: {len(writes):,} writes ({len(writes) / result.units:.2f} per {unit}) of {len(distinct):,} distinct items "
              f"({len(distinct) / result.units:.2f} per {unit}); {len(sampled):,} writes sampled, of {len(keys):,} items, "
              f"{len(found):,} still stored; {len(items):,} puts of them into empty copies of {', '.join(key_names)}, "
              f"{len(warm):,} of those (spread evenly) first and untimed: the JIT settles on these items")
        hash_keys = {table: names[0] for table, names in key_names.items()}
        make_calls(threads, replay_calls(client, hash_keys, result.shape, [item for n, item in enumerate(items) if n in warm]))
        print_floor_header()
        rate = timed_writes(database, meter, f"its own items, {SHAPE_NAMES[result.shape]}", threads,
                            replay_calls(client, hash_keys, result.shape, [item for n, item in enumerate(items) if n not in warm]))
    finally:
        for table in key_names:
            client.delete_table(TableName=table + REPLAY_SUFFIX)
    print(f"  replay floor: {rate:,.0f} items/s / {result.per_unit:.2f} items sent per {unit} = "
          f"{result.floor_units(rate):,.0f} {result.unit}/s; the path reached {result.rate:,.0f} "
          f"({100 * result.share(rate):.0f}%)")
    return rate


# ---------------------------------------------------------------- the paths


def run_import_path(database, meter: Meter, contacts: int, seed: int, warmup: int) -> PathResult:
    """`contacts` CSV rows (a few invalid or repeated, as bench/contacts_import.py builds them); run_import timed,
    after an untimed import of `warmup` other rows (the engine's JIT settles on contact-sized items first, as the
    replay's warm-up lets it, and as it has in an app that has been running)."""
    from backend.services.contacts.importer import DuplicatePolicy, RowStatus, plan_import, run_import
    from backend.services.platform.access import Actor, Role

    actor = Actor(user_id="bench-admin", email="bench@example.com", role=Role.ADMIN)
    if warmup:
        warm, _ = build_file(warmup, seed + 1)
        warmed = run_import(actor, plan_import(actor, warm), DuplicatePolicy.SKIP)
        print(f"  warm-up (untimed): {warmed.created:,} other contacts imported first")
    data, expected = build_file(contacts, seed)
    plan, _ = timed("plan_import (untimed)", database, False, lambda: plan_import(actor, data))
    mark = meter.start()
    summary, seconds = timed("run_import (timed)", database, False, lambda: run_import(actor, plan, DuplicatePolicy.SKIP))
    counted = meter.since(mark)
    problems = []
    if summary.created != plan.count(RowStatus.NEW) or (not warmup and summary.created != len(expected.created)):
        problems.append(f"import created {summary.created:,}, plan had {plan.count(RowStatus.NEW):,} new, file {len(expected.created):,}")
    if summary.failed:
        problems.append(f"import: {len(summary.failed):,} rows failed")
    print(f"  {len(plan.rows):,} rows: created {summary.created:,}, invalid {summary.invalid:,}, merged {summary.merged:,}, "
          f"failed {len(summary.failed):,}")
    print(f"  written: {counted.describe()}")
    return PathResult("contact import", "contacts", summary.created, seconds, counted, BATCH, problems)


def run_inbound_path(database, meter: Meter, events: int, senders: int, workers: int, warmup: int, seed: int) -> PathResult:
    """WhatsApp SNS events through the inbound Lambda handler, `workers` deliveries at a time (after an untimed
    warm-up from other senders); every message must be stored once and every redelivery reported as one."""
    from backend.adapters.send_queue import lambda_handler

    handler = lambda_handler("inbound-whatsapp-handler")
    stream, wamids, redeliveries, phones = build_events(events, senders, seed)
    precreate_contacts(phones[: len(phones) // 2])
    if warmup:
        first, _, _, _ = build_events(warmup, 50, seed + 1)
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda event: handler(event, None), first))
    mark, start = meter.start(), cpu_sample(database)
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda event: handler(event, None), stream))
    end, counted = cpu_sample(database), meter.since(mark)
    print(f"  ingest (timed)           {describe_cpu(start, end)}")
    stored = count_stored(wamids)
    reported = {key: sum(r[key] for r in results) for key in ("stored", "duplicates")}
    rejected = sum(len(r["rejected"]) for r in results)
    print(f"  {len(stream):,} events ({events:,} messages + {redeliveries:,} redeliveries) from {senders:,} senders "
          f"(half already contacts), {workers} workers: handler stored {reported['stored']:,}, duplicates "
          f"{reported['duplicates']:,}, rejected {rejected}; read back {stored:,} of {events:,}")
    print(f"  written: {counted.describe()}")
    problems = []
    if stored != events or reported["stored"] != events:
        problems.append(f"inbound: {stored:,} read back and {reported['stored']:,} reported stored of {events:,} messages")
    if reported["duplicates"] != redeliveries or rejected:
        problems.append(f"inbound: {reported['duplicates']:,} duplicates reported for {redeliveries:,} redeliveries, {rejected} rejected")
    return PathResult("inbound ingestion", "events", len(stream), end.wall - start.wall, counted, SINGLE, problems)


def run_bulk_path(database, meter: Meter, recipients: int) -> PathResult:
    """An unpaced SMS campaign to `recipients` contacts on the local runtime (queue workers + campaign runner)."""
    from backend.models.campaigns import BulkRecipientModel
    from backend.runtime.campaigns import CampaignRunner
    from backend.runtime.messaging import start_messaging
    from backend.services.campaigns import jobs, runner
    from backend.services.platform import system_config
    from backend.services.platform.access import Actor, Role

    make_contacts(recipients, "write-paths")
    system_config.write(runner.UNLIMITED_KEY, True, updated_by="bench")
    system_config.write("rateLimit.off", True, updated_by="bench")
    operator = Actor(user_id="bench-operator", email="bench@example.test", role=Role.OPERATOR)
    runtime = start_messaging(scheduler=False)
    runtime.campaigns = CampaignRunner().start()
    try:
        mark, start, started_at = meter.start(), cpu_sample(database), time.time()
        job = jobs.create_job(operator, {"name": "Write paths", "channel": "sms", "audience": {"tags": ["write-paths"]},
                                         "message": {"body": "Bench: the spring menu is out."}, "confirmed": True})
        wait_for_sent(job.job_id, recipients, timeout=1800)
        end, counted = cpu_sample(database), meter.since(mark)
    finally:
        runtime.stop()
    rows = list(BulkRecipientModel.query(job.job_id))
    seconds = max(row.updatedAt.timestamp() for row in rows) - started_at
    statuses = collections.Counter(row.status for row in rows)
    print(f"  create -> all SENT       {describe_cpu(start, end)} (wall to the poll that saw them all; "
          f"the last row was SENT {seconds:.2f} s after the create)")
    print(f"  {len(rows):,} recipient rows: {dict(statuses)}")
    print(f"  written: {counted.describe()}")
    problems = [] if statuses.get("SENT") == recipients == len(rows) else [f"bulk: recipient rows {dict(statuses)}"]
    return PathResult("bulk SMS campaign", "recipients", recipients, seconds, counted, SINGLE, problems)


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--floor-items", type=int, default=3_000, help="items per tiny-item floor measurement (default 3,000)")
    parser.add_argument("--floor-threads", default="1,4,8", help="client thread counts tried for each tiny floor shape; the best is the replays' (botocore pools 10 connections)")
    parser.add_argument("--no-floor-again", dest="floor_again", action="store_false", help="skip measuring the tiny floors again after the paths")
    parser.add_argument("--warmup", type=int, default=6_000, help="untimed 100-item-transaction items first (and a sixth as single items): the JIT")
    parser.add_argument("--replay-items", type=int, default=5_000, help="at most this many of a path's writes replayed and timed, an even sample (default 5,000)")
    parser.add_argument("--replay-warmup", type=int, default=1_500, help="and this many more first, untimed (default 1,500)")
    parser.add_argument("--contacts", type=int, default=5_000, help="CSV rows imported (default 5,000)")
    parser.add_argument("--events", type=int, default=3_000, help="inbound messages, plus 10%% redelivered (default 3,000)")
    parser.add_argument("--senders", type=int, default=300, help="distinct inbound senders")
    parser.add_argument("--inbound-warmup", type=int, default=500, help="untimed inbound events first")
    parser.add_argument("--import-warmup", type=int, default=1_500, help="untimed imported rows first (other contacts)")
    parser.add_argument("--workers", type=int, default=None, help="inbound deliveries at once (default: settings.webhook_workers)")
    parser.add_argument("--recipients", type=int, default=3_000, help="bulk campaign recipients (default 3,000)")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    threads = [int(n) for n in args.floor_threads.split(",")]
    os.environ["WECARE_SANDBOX_LATENCY_MS"] = str(30 * 60 * 1000)  # status events after the run (as bulk_throughput.py)
    os.environ.setdefault("WECARE_OUTBOX_WORKERS", "4")
    print(f"Machine: {machine_load()}")
    began = time.perf_counter()
    with local_database("write-paths", in_memory=True) as database:
        import logging

        from backend.models.schema import dynamodb_client
        from backend.settings import get_settings

        logging.basicConfig(level=logging.WARNING)
        meter, client = Meter(), dynamodb_client()
        print("\n[tiny-item floors, reference only] conditional puts of tiny items (bench/dynamodb_local_floor.py's write), "
              "table without indexes")
        figures = measure_floor(database, meter, client, args.floor_items, threads, args.warmup)
        floor = {shape: figure.items_per_s for shape, figure in figures.items()}
        print("  tiny-item floors: " + ", ".join(f"{figure.items_per_s:,.0f} items/s {SHAPE_NAMES[shape]} ({figure.threads} threads)"
                                                 for shape, figure in figures.items()))
        workers = args.workers or get_settings().webhook_workers
        paths = (
            ("import", partial(run_import_path, database, meter, args.contacts, args.seed, args.import_warmup)),
            ("inbound", partial(run_inbound_path, database, meter, args.events, args.senders, workers, args.inbound_warmup, args.seed)),
            ("bulk", partial(run_bulk_path, database, meter, args.recipients)),
        )
        results = []
        for label, run in paths:
            print(f"\n[{label}] the path, then its replay floor")
            result = run()
            result.replay = replay_floor(database, meter, client, result, figures[result.shape].threads, args.replay_items,
                                         args.replay_warmup)
            results.append(result)
        if args.floor_again:
            floor_again(database, meter, client, figures, args.floor_items)
    print(f"\nMachine at the end: {machine_load()}; whole run {time.perf_counter() - began:.0f} s")
    return report(results, floor)


def report(results: list[PathResult], floor: dict[int, float]) -> int:
    print(f"\n{'path':<18} {'units':>17} {'items/unit':>10} {'items/call':>10} {'units/s':>8}  "
          f"{'replay floor: shape':<22} {'items/s':>8} {'units/s':>8} {'share':>6}  verdict")
    verdicts, problems = [], []
    for r in results:
        replay = r.replay
        share = r.share(replay)
        verdict = "PASS" if share >= TARGET_SHARE and not r.problems else "MISS"
        verdicts.append(f"{r.name} {r.rate:,.0f} {r.unit}/s x {r.per_unit:.2f} items = {100 * share:.0f}% of its replay floor "
                        f"({r.floor_units(replay):,.0f} {r.unit}/s: its items at {replay:,.0f}/s in {SHAPE_NAMES[r.shape]}) {verdict}")
        problems += r.problems
        print(f"{r.name:<18} {r.units:>6,} {r.unit:<10} {r.per_unit:>10.2f} {r.counted.items / r.counted.calls:>10.1f} "
              f"{r.rate:>8,.0f}  {SHAPE_NAMES[r.shape]:<22} {replay:>8,.0f} {r.floor_units(replay):>8,.0f} "
              f"{100 * share:>5.0f}%  {verdict}")
    print("\nfor reference only, no verdict: the same rates against the tiny-item floors (index-less items of ~50 bytes)")
    print(f"{'path':<18} {'tiny floor: shape':<22} {'items/s':>8} {'units/s':>8} {'share':>6}  {'(other tiny floor)':>18}")
    for r in results:
        other = BATCH if r.shape == SINGLE else SINGLE
        print(f"{r.name:<18} {SHAPE_NAMES[r.shape]:<22} {floor[r.shape]:>8,.0f} {r.floor_units(floor[r.shape]):>8,.0f} "
              f"{100 * r.share(floor[r.shape]):>5.0f}%  {100 * r.share(floor[other]):>17.0f}%")
    for problem in problems:
        print(f"  PROBLEM {problem}")
    passed = sum(1 for v in verdicts if v.endswith("PASS"))
    print(f"SUMMARY write_paths: each path against its own items replayed on the same engine in the same run; "
          f"{'; '.join(verdicts)}; target >= {100 * TARGET_SHARE:.0f}% each: {passed}/{len(results)} PASS "
          f"(tiny-item floors, reference only: {floor[SINGLE]:,.0f} items/s {SHAPE_NAMES[SINGLE]}, "
          f"{floor[BATCH]:,.0f} items/s in {SHAPE_NAMES[BATCH]})")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
