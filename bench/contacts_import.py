"""Benchmark: CSV import of contacts (validation, then writes) on a fresh DynamoDB Local.

    PYTHONPATH=. .venv/bin/python bench/contacts_import.py [--rows 20000] [--seed 7] [--profile]

Builds a realistic file (~2% invalid rows, ~1% rows repeating an earlier row's phone or email), times
`plan_import` and `run_import` separately and together, then checks what landed in the database.
Target: at least 2,000 rows/s end to end (validation included).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.local_dynamodb import cpu_sample, describe_cpu, local_database, machine_load  # noqa: E402
from bench.sample_data import Person, email_as_typed, make_people, phone_as_typed, random_tags, to_csv  # noqa: E402

TARGET_ROWS_PER_S = 2_000
INVALID_SHARE = 0.02
DUPLICATE_SHARE = 0.01
SAMPLE_CHECKS = 200
HEADER = ["First Name", "Last Name", "Mobile", "Email Address", "Tags", "WhatsApp opt-in", "SMS opt-in", "Notes"]


@dataclass
class Expected:
    """What the generator put in the file, to compare with what the import reports and writes."""

    created: list[Person] = field(default_factory=list)  # rows that should become contacts
    invalid: int = 0
    duplicates: int = 0
    absent: list[str] = field(default_factory=list)  # valid phones/emails on rejected rows: must not be found


# ---------------------------------------------------------------- the file


def build_file(rows: int, seed: int) -> tuple[bytes, Expected]:
    rng = random.Random(seed)
    people = make_people(rows, seed)
    expected = Expected()
    lines = []
    for person in people:
        roll = rng.random()
        if roll < INVALID_SHARE:
            lines.append(_invalid_line(person, rng, expected))
            expected.invalid += 1
        elif roll < INVALID_SHARE + DUPLICATE_SHARE and expected.created:
            lines.append(_duplicate_line(person, rng.choice(expected.created), rng, expected))
            expected.duplicates += 1
        else:
            kept = _valid_person(person, rng)
            lines.append(_line(kept, rng))
            expected.created.append(kept)
    return to_csv(HEADER, lines), expected


def _valid_person(person: Person, rng: random.Random) -> Person:
    """Most contacts have both; some only a phone or only an email."""
    roll = rng.random()
    if roll < 0.05:
        return Person(person.first, person.last, person.phone, None)
    if roll < 0.10:
        return Person(person.first, person.last, None, person.email)
    return person


def _line(person: Person, rng: random.Random, *, whatsapp: str | None = None) -> list[str]:
    phone = phone_as_typed(person.phone, rng) if person.phone else ""
    email = email_as_typed(person.email, rng) if person.email else ""
    if whatsapp is None:
        whatsapp = rng.choice(("yes", "no", "", "Y", "1")) if person.phone else rng.choice(("", "no"))
    sms = rng.choice(("", "", "yes", "no")) if person.phone else ""
    notes = rng.choice(("", "", "met at expo", "prefers email, \"no calls\""))
    return [person.first, person.last, phone, email, random_tags(rng), whatsapp, sms, notes]


def _invalid_line(person: Person, rng: random.Random, expected: Expected) -> list[str]:
    """One of the usual mistakes; the good value on the same row is recorded as must-not-exist."""
    kind = rng.randrange(6)
    if kind == 0:  # unusable phone
        expected.absent.append(person.email)
        row = _line(Person(person.first, person.last, None, person.email), rng)
        row[2] = rng.choice(("415-12", "call me", "+1 415 200 123"))
        return row
    if kind == 1:  # unusable email
        expected.absent.append(person.phone)
        row = _line(person, rng)
        row[3] = rng.choice((f"{person.email.split('@')[0]}@", person.email.replace("@", " at ")))
        return row
    if kind == 2:  # a phone with an extension (refused, never cut: a name alone is not needed any more)
        expected.absent.append(person.email)
        row = _line(person, rng)
        row[2] = (row[2] or "+44 7700 900123") + " ext. 12"
        return row
    if kind == 3:  # consent that is neither yes nor no
        expected.absent.append(person.email)
        return _line(person, rng, whatsapp="maybe")
    if kind == 4:  # nothing to reach them by
        return _line(Person(person.first, person.last, None, None), rng)
    expected.absent.append(person.email)  # WhatsApp consent without a phone
    return _line(Person(person.first, person.last, None, person.email), rng, whatsapp="yes")


def _duplicate_line(person: Person, earlier: Person, rng: random.Random, expected: Expected) -> list[str]:
    """A later row repeating an earlier row's phone (typed differently) or email, with a new other value."""
    if earlier.phone and (not earlier.email or rng.random() < 0.5):
        expected.absent.append(person.email)
        return _line(Person(person.first, person.last, earlier.phone, person.email), rng)
    expected.absent.append(person.phone)
    return _line(Person(person.first, person.last, person.phone, earlier.email.upper()), rng)


# ---------------------------------------------------------------- timing


def timed(label: str, database, profile: bool, work):
    """Run `work()`, print wall and CPU split (and the hottest functions with --profile)."""
    profiler = ThreadedProfile() if profile else None
    start = cpu_sample(database)
    if profiler:
        profiler.start()
    result = work()
    if profiler:
        profiler.stop()
    end = cpu_sample(database)
    print(f"  {label:<24} {describe_cpu(start, end)}")
    if profiler:
        profiler.print_top(18)
    return result, end.wall - start.wall


class ThreadedProfile:
    """cProfile of this thread and of every thread started meanwhile: the import does its DynamoDB
    calls in worker pools, which a plain cProfile (main thread only) would see as one long wait."""

    def __init__(self):
        self.profiles: list[cProfile.Profile] = []

    def start(self) -> None:
        threading.setprofile(self._profile_new_thread)
        self._enable()

    def _profile_new_thread(self, *_event) -> None:
        self._enable()  # replaces this hook in the new thread with a real profiler

    def _enable(self) -> None:
        profile = cProfile.Profile()
        self.profiles.append(profile)
        profile.enable()

    def stop(self) -> None:
        threading.setprofile(None)
        self.profiles[0].disable()

    def print_top(self, count: int) -> None:
        out = io.StringIO()
        stats = pstats.Stats(self.profiles[0], stream=out)
        for profile in self.profiles[1:]:
            stats.add(profile)
        stats.sort_stats("tottime").print_stats(count)
        print(f"    (all {len(self.profiles)} threads summed; socket reads are waits for DynamoDB Local)")
        print("\n".join("    " + line for line in out.getvalue().splitlines() if line.strip()))


# ---------------------------------------------------------------- checking


def check_database(actor, plan, summary, expected: Expected, rng: random.Random) -> list[str]:
    """Problems found (empty when all is well); prints what it checked."""
    from backend.models.contact import LIVE_PARTITION, ContactModel
    from backend.services.contacts.importer import RowStatus
    from backend.services.contacts.contacts import search_contacts

    problems = []
    plan_new, plan_invalid, plan_dupes = (plan.count(s) for s in (RowStatus.NEW, RowStatus.INVALID, RowStatus.DUPLICATE))
    live = ContactModel.by_created.count(LIVE_PARTITION)
    print(f"  plan: {plan_new:,} new, {plan_invalid:,} invalid, {plan_dupes:,} duplicate in file, "
          f"{plan.count(RowStatus.EXISTING):,} existing   (generated: {len(expected.created):,} valid, "
          f"{expected.invalid:,} invalid, {expected.duplicates:,} duplicates)")
    print(f"  run_import: created {summary.created:,}, skipped {summary.skipped:,}, invalid {summary.invalid:,}, "
          f"failed {len(summary.failed):,}; live contacts in the table: {live:,}")
    for label, got, want in (
        ("plan new rows", plan_new, len(expected.created)),
        ("plan invalid rows", plan_invalid, expected.invalid),
        ("plan duplicate rows", plan_dupes, expected.duplicates),
        ("created", summary.created, plan_new),
        ("live contacts in table", live, plan_new),
        ("failed rows", len(summary.failed), 0),
    ):
        if got != want:
            problems.append(f"{label}: {got:,}, expected {want:,}")
    problems += _check_present(actor, search_contacts, rng.sample(expected.created, min(SAMPLE_CHECKS, len(expected.created))))
    problems += _check_absent(actor, search_contacts, rng.sample(expected.absent, min(SAMPLE_CHECKS, len(expected.absent))))
    return problems


def _check_present(actor, search_contacts, people: list[Person]) -> list[str]:
    problems = []
    for person in people:
        query = person.email or person.phone
        items = search_contacts(actor, query).items
        if len(items) != 1 or (items[0].name, items[0].phone, items[0].email) != (person.name, person.phone, person.email):
            problems.append(f"{query}: found {[(c.name, c.phone, c.email) for c in items]}")
    print(f"  search_contacts by email (or phone): {len(people) - len(problems)}/{len(people)} sampled new rows found with the right name/phone/email")
    return problems


def _check_absent(actor, search_contacts, values: list[str]) -> list[str]:
    problems = [f"{value}: should not exist" for value in values if search_contacts(actor, value).items]
    print(f"  search_contacts: {len(values) - len(problems)}/{len(values)} values from rejected rows correctly absent")
    return problems


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000, help="rows in the generated CSV (default 20,000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="cProfile each phase and print the hottest functions")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"Machine: {machine_load()}")
    started = time.perf_counter()
    data, expected = build_file(args.rows, args.seed)
    print(f"Generated {args.rows:,} rows ({len(data) / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s")
    with local_database("import") as database:
        from backend.services.platform.access import Actor, Role
        from backend.services.contacts.importer import DuplicatePolicy, plan_import, run_import

        actor = Actor(user_id="bench-admin", email="bench@example.com", role=Role.ADMIN)
        print("Timings:")
        plan, validate_s = timed("plan_import (validate)", database, args.profile, lambda: plan_import(actor, data))
        summary, write_s = timed("run_import (write)", database, args.profile, lambda: run_import(actor, plan, DuplicatePolicy.SKIP))
        total_s = validate_s + write_s
        rows = len(plan.rows)
        print(f"  validation: {rows / validate_s:,.0f} rows/s ({rows:,} rows in {validate_s:.2f} s)")
        print(f"  writes:     {summary.created / write_s:,.0f} contacts/s ({summary.created:,} created in {write_s:.2f} s; "
              f"{rows / write_s:,.0f} file rows/s)")
        print(f"  total:      {rows / total_s:,.0f} rows/s ({rows:,} rows in {total_s:.2f} s)")
        print("Correctness:")
        problems = check_database(actor, plan, summary, expected, random.Random(args.seed + 1))
    print(f"Machine at the end: {machine_load()}")
    for problem in problems[:20]:
        print(f"  PROBLEM {problem}")
    rate = rows / total_s
    verdict = "PASS" if rate >= TARGET_ROWS_PER_S and not problems else "MISS"
    print(f"SUMMARY contacts_import: {rows:,} rows, {rate:,.0f} rows/s total (validate {rows / validate_s:,.0f}, "
          f"write {rows / write_s:,.0f}); target >= {TARGET_ROWS_PER_S:,} rows/s; "
          f"checks {'ok' if not problems else f'{len(problems)} problem(s)'}: {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
