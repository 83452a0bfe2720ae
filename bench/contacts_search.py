"""Benchmark: contact search latency through `search_contacts` over a large table on DynamoDB Local.

    PYTHONPATH=. .venv/bin/python bench/contacts_search.py [--contacts 100000] [--queries 500] [--seed 42]

Loads the contacts through the real CSV import (setup, timed but not the target), then measures
p50/p95/p99/max of name-prefix searches (and their next page), exact phone (typed in assorted formats),
exact email and the empty query (newest first). Every answer is also checked. Target: p95 <= 50 ms each.
"""
from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.local_dynamodb import cpu_sample, describe_cpu, local_database, machine_load, p95_verdict  # noqa: E402
from bench.sample_data import Person, email_as_typed, make_people, phone_as_typed, to_csv  # noqa: E402

TARGET_P95_MS = 50.0
LOAD_BATCH_ROWS = 20_000
WARMUP_PER_KIND = 20
PAGE_SIZE = 25  # what the contacts page asks for
KINDS = ("name prefix", "name prefix, next page", "exact phone", "exact email", "empty (newest first)")


@dataclass
class Series:
    """Latencies of one kind of query, and how many answers were wrong."""

    latencies_ms: list[float] = field(default_factory=list)
    wrong: int = 0
    examples_of_wrong: list[str] = field(default_factory=list)

    def record(self, elapsed_s: float, problem: str | None) -> None:
        self.latencies_ms.append(elapsed_s * 1000)
        if problem:
            self.wrong += 1
            if len(self.examples_of_wrong) < 3:
                self.examples_of_wrong.append(problem)

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile: the smallest latency that p% of the samples do not exceed."""
        ordered = sorted(self.latencies_ms)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else float("nan")


# ---------------------------------------------------------------- loading


def load(actor, people: list[Person], database) -> None:
    """Write the contacts through plan_import + run_import, a batch at a time so progress shows."""
    from backend.services.contacts.importer import DuplicatePolicy, RowStatus, plan_import, run_import

    start = cpu_sample(database)
    plan_s = write_s = 0.0
    for offset in range(0, len(people), LOAD_BATCH_ROWS):
        batch = people[offset : offset + LOAD_BATCH_ROWS]
        data = to_csv(["Name", "Phone", "Email"], [[p.name, p.phone, p.email] for p in batch])
        began = time.perf_counter()
        plan = plan_import(actor, data)
        planned = time.perf_counter()
        summary = run_import(actor, plan, DuplicatePolicy.SKIP)
        plan_s, write_s = plan_s + planned - began, write_s + time.perf_counter() - planned
        if summary.created != len(batch) or plan.count(RowStatus.NEW) != len(batch):
            raise RuntimeError(f"load: created {summary.created} of {len(batch)} (plan: {plan.count(RowStatus.NEW)} new)")
        done = offset + len(batch)
        print(f"  loaded {done:>9,}/{len(people):,}  ({done / (plan_s + write_s):,.0f} rows/s so far)", flush=True)
    end = cpu_sample(database)
    total = end.wall - start.wall
    print(f"Load: {len(people):,} contacts in {total:.1f} s = {len(people) / total:,.0f} rows/s "
          f"(plan_import {plan_s:.1f} s, run_import {write_s:.1f} s)")
    print(f"  {describe_cpu(start, end)}")


# ---------------------------------------------------------------- queries


def prefix_of(person: Person, rng: random.Random) -> str:
    """2-5 leading characters of a real name, in the case a user might type them."""
    prefix = person.name[: rng.randint(2, 5)].strip()
    return prefix.lower() if rng.random() < 0.5 else prefix


def check_prefix(prefix: str, page, fold_name) -> str | None:
    wanted = fold_name(prefix)
    if not page.items:
        return f"{prefix!r}: no results"
    stray = [c.name for c in page.items if not fold_name(c.name).startswith(wanted)]
    return f"{prefix!r}: {stray[:3]} do not start with it" if stray else None


def check_exact(query: str, page, attribute: str, expected: str) -> str | None:
    found = [getattr(c, attribute) for c in page.items]
    return None if found == [expected] else f"{query!r}: found {found}, expected [{expected!r}]"


def check_newest_first(page) -> str | None:
    created = [c.created_at for c in page.items]
    if len(created) != PAGE_SIZE:
        return f"empty query: {len(created)} results"
    return None if created == sorted(created, reverse=True) else "empty query: not newest first"


def timed_search(search: Callable, q: str, next_token: str | None = None):
    began = time.perf_counter()
    page = search(q, next_token)
    return page, time.perf_counter() - began


def run_name_prefix(series: dict[str, Series], search, person: Person, rng, fold_name, follow: bool) -> None:
    prefix = prefix_of(person, rng)
    page, elapsed = timed_search(search, prefix)
    series["name prefix"].record(elapsed, check_prefix(prefix, page, fold_name))
    if follow and page.next_token:
        following, elapsed = timed_search(search, prefix, page.next_token)
        overlap = {c.contact_id for c in page.items} & {c.contact_id for c in following.items}
        problem = check_prefix(prefix, following, fold_name) or (f"{prefix!r}: page 2 repeats page 1" if overlap else None)
        series["name prefix, next page"].record(elapsed, problem)


def run_one(kind: str, series: dict[str, Series], search, person: Person, rng, fold_name) -> None:
    if kind == "name prefix":
        run_name_prefix(series, search, person, rng, fold_name, follow=rng.random() < 0.5)
    elif kind == "exact phone":
        typed = phone_as_typed(person.phone, rng)
        page, elapsed = timed_search(search, typed)
        series[kind].record(elapsed, check_exact(typed, page, "phone", person.phone))
    elif kind == "exact email":
        typed = email_as_typed(person.email, rng)
        page, elapsed = timed_search(search, typed)
        series[kind].record(elapsed, check_exact(typed, page, "email", person.email))
    else:
        page, elapsed = timed_search(search, "")
        series[kind].record(elapsed, check_newest_first(page))


def measure(actor, people: list[Person], per_kind: int, rng: random.Random, database) -> dict[str, Series]:
    """Queries of every kind, interleaved in random order; a few of each first to warm both processes up."""
    from backend.services.contacts.fields import fold_name
    from backend.services.contacts.contacts import search_contacts

    def search(q: str, next_token: str | None):
        return search_contacts(actor, q, limit=PAGE_SIZE, next_token=next_token)

    plan = [kind for kind in KINDS if kind != "name prefix, next page" for _ in range(per_kind)]
    rng.shuffle(plan)
    warm = {kind: Series() for kind in KINDS}
    for kind in [k for k in KINDS if k != "name prefix, next page"] * WARMUP_PER_KIND:
        run_one(kind, warm, search, rng.choice(people), rng, fold_name)
    series = {kind: Series() for kind in KINDS}
    start = cpu_sample(database)
    for kind in plan:
        run_one(kind, series, search, rng.choice(people), rng, fold_name)
    print(f"Queries ({len(plan):,} + {len(series['name prefix, next page'].latencies_ms):,} next pages, "
          f"after {WARMUP_PER_KIND} unmeasured of each kind): {describe_cpu(start, cpu_sample(database))}")
    return series


def print_table(series: dict[str, Series]) -> None:
    print(f"{'query':<24} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'wrong':>6}  p95<={TARGET_P95_MS:.0f}ms")
    for kind, s in series.items():
        p95 = s.percentile(95)
        print(f"{kind:<24} {len(s.latencies_ms):>5} {s.percentile(50):>8.1f} {p95:>8.1f} {s.percentile(99):>8.1f} "
              f"{max(s.latencies_ms, default=float('nan')):>8.1f} {s.wrong:>6}  {'ok' if p95 <= TARGET_P95_MS else 'MISS'}")
    for kind, s in series.items():
        for example in s.examples_of_wrong:
            print(f"  WRONG {kind}: {example}")


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=100_000, help="contacts to load (default 100,000)")
    parser.add_argument("--queries", type=int, default=500, help="measured queries per kind (default 500)")
    parser.add_argument("--seed", type=int, default=42)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"Machine: {machine_load()}")
    started = time.perf_counter()
    people = make_people(args.contacts, args.seed)
    print(f"Generated {len(people):,} contacts (phones checked with phonenumbers) in {time.perf_counter() - started:.1f} s")
    with local_database("search") as database:
        from backend.services.platform.access import Actor, Role

        actor = Actor(user_id="bench-admin", email="bench@example.com", role=Role.ADMIN)
        load(actor, people, database)
        series = measure(actor, people, args.queries, random.Random(args.seed + 1), database)
    print_table(series)
    print(f"Machine at the end: {machine_load()}")
    return p95_verdict("contacts_search", f"{args.contacts:,} contacts", series, sum(s.wrong for s in series.values()), TARGET_P95_MS)


if __name__ == "__main__":
    sys.exit(main())
