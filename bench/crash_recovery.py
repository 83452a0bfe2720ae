"""Benchmark: kill -9 the send worker mid-send, restart it, and count what was lost or sent twice.

    PYTHONPATH=. .venv/bin/python bench/crash_recovery.py [--messages 200] [--per-second 40] [--kill-after 0.35]

On a throwaway DynamoDB Local, in sandbox mode: N WhatsApp template messages are queued (PENDING rows), then a
worker process (this script with --worker: the app's local messaging runtime, `start_messaging`, without the
web server) sends them at `--per-second` (the token bucket). Once a share of them has reached the sandbox
(`--kill-after`), the worker gets SIGKILL; a second worker starts at once. The sandbox records every send
durably (`<data_dir>/sandbox/whatsapp-sends.jsonl`, keyed by our message id), so duplicates are counted from
what the "provider" received, not from our own rows.

Afterwards: a send the kill interrupted (SENDING) is in doubt; once its claim lapses the minute's sweep asks
the sandbox (`registry.find_send`): it had the send → ACCEPTED with its id, it had not → sent again. The script
plays that sweep at once (as of that time) and, if it re-queued any, a third worker sends them.
Figures: sent twice (must be 0), lost (neither received by the sandbox nor dead-lettered: must be 0), stuck
at ACCEPTED/SENT (the sandbox's status events lost with the process: must be 0), and how long the second
worker took to send the rest and to deliver every status. One case is counted apart: a send the kill caught
between the sandbox's record of it and the sandbox's journal of its coming events is settled ACCEPTED and gets
no events (a sandbox artefact: a real provider's events do not die with our process).
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.local_dynamodb import local_database  # noqa: E402

FINAL_WAIT_SECONDS = 60.0


def worker(schedule: bool = False) -> None:
    """The send side of the app: the local queue's workers, the sandbox's events, the start-up recovery; with
    `schedule`, the campaign runner and the minute's schedule too (bench/bulk_crash.py)."""
    import logging

    from backend.models import configure_models
    from backend.runtime.messaging import start_messaging
    from backend.settings import get_settings

    logging.basicConfig(level=logging.WARNING)
    configure_models(get_settings())
    start_messaging(scheduler=schedule)
    print("ready", flush=True)
    while True:
        time.sleep(3600)


def queue_messages(count: int, per_second: float) -> list[str]:
    from backend.services.channels.whatsapp.send import send_whatsapp
    from backend.services.contacts.contacts import create_contact
    from backend.services.platform import system_config
    from backend.services.platform.access import Actor, Role

    operator = Actor(user_id="bench", email="bench@example.test", role=Role.ADMIN)
    system_config.write("rateLimit.whatsapp", {"perSecond": per_second, "burst": 1}, updated_by="bench")
    contact = create_contact(operator, {"name": "Crash Bench", "phone": "+447911123456", "optInWhatsApp": True})
    request = {"contactId": contact.contact_id, "type": "template", "template": {"name": "welcome_back", "language": "en_US"}}
    return [send_whatsapp(operator, request).message_id for _ in range(count)]


def sends_by_message(data_dir: Path) -> collections.Counter:
    path = data_dir / "sandbox" / "whatsapp-sends.jsonl"
    if not path.is_file():
        return collections.Counter()
    lines = path.read_text(encoding="utf-8").splitlines()
    return collections.Counter(json.loads(line)["idempotency_key"] for line in lines if line.endswith("}"))


def statuses(ids: list[str]) -> dict[str, str]:
    from backend.models.messaging import MessageModel

    return {row.messageId: row.status for row in MessageModel.batch_get(ids, consistent_read=True)}


def start_worker(*, schedule: bool = False) -> subprocess.Popen:
    """A worker process (this script with --worker), with this process's settings."""
    flags = ["--worker", "--schedule"] if schedule else ["--worker"]
    return subprocess.Popen([sys.executable, __file__, *flags], stdout=subprocess.PIPE, text=True, env=os.environ.copy())


def wait_until(condition, timeout: float, since: float, step: float = 0.25) -> float | None:
    """Seconds from `since` (a perf_counter) until `condition()` held, or None if not within `timeout`."""
    while time.perf_counter() - since < timeout:
        if condition():
            return time.perf_counter() - since
        time.sleep(step)
    return None


def run(count: int, per_second: float, kill_after: float) -> int:
    with local_database("crash") as _:
        from backend.models.base import utcnow
        from backend.services.channels.registry import find_send
        from backend.services.messaging import outbox
        from backend.settings import get_settings

        data_dir = Path(get_settings().data_dir)
        ids = queue_messages(count, per_second)
        print(f"queued {count} messages; the worker sends {per_second:g}/s")

        spawned = time.perf_counter()
        first = start_worker()
        killed_at = wait_until(lambda: sum(sends_by_message(data_dir).values()) >= count * kill_after, 120, spawned, 0.02)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        before = statuses(ids)
        sent_before = sends_by_message(data_dir)
        print(f"kill -9 {_seconds(killed_at)} after the worker was spawned: {sum(sent_before.values())} sends at the sandbox; rows "
              f"{dict(collections.Counter(before.values()))}")

        restarted = time.perf_counter()
        second = start_worker()
        in_doubt = {i for i, s in before.items() if s == "SENDING"}
        ready = wait_until(lambda: second.stdout.readline().strip() == "ready", FINAL_WAIT_SECONDS, restarted, 0)
        all_sent = wait_until(lambda: not {s for i, s in statuses(ids).items() if i not in in_doubt} & {"PENDING", "SENDING"},
                              FINAL_WAIT_SECONDS, restarted)
        settled = wait_until(lambda: all(s == "DELIVERED" for i, s in statuses(ids).items() if i not in in_doubt),
                             FINAL_WAIT_SECONDS, restarted)
        second.send_signal(signal.SIGKILL)
        second.wait()

        # The claims of the interrupted sends lapse: the minute's sweep, as of then, asks the sandbox about each.
        report = outbox.sweep_stale(utcnow() + outbox.CLAIM_LAPSES_AFTER + timedelta(seconds=1), find_send=find_send)
        if report.requeued:  # the ones the sandbox never got: a worker sends them (its start-up sweep queues them)
            third = start_worker()
            wait_until(lambda: not set(statuses(ids).values()) & {"PENDING", "SENDING", "ACCEPTED", "SENT"},
                       FINAL_WAIT_SECONDS, time.perf_counter())
            third.send_signal(signal.SIGKILL)
            third.wait()
        time.sleep(1.0)  # the status events of the in-doubt sends
        after = statuses(ids)
        sends = sends_by_message(data_dir)
        twice = [i for i in ids if sends[i] > 1]
        lost = [i for i in ids if sends[i] == 0 and after[i] not in ("DEAD", "EXPIRED")]
        settled_quiet = [i for i in in_doubt if after[i] == "ACCEPTED" and sends[i] == 1]
        stuck = [i for i in ids if after[i] in ("ACCEPTED", "SENT", "PENDING", "SENDING") and i not in settled_quiet]
        print(f"after the restart: worker started {_seconds(ready)}, every send not in doubt accepted "
              f"{_seconds(all_sent)}, every one of them DELIVERED {_seconds(settled)} after the spawn")
        print(f"in doubt at the kill (SENDING): {len(in_doubt)}; when their claim lapsed the sandbox had "
              f"{report.settled} (ACCEPTED with its id), {report.requeued} were sent again, {report.dead_lettered} dead-lettered")
        print(f"final rows: {dict(collections.Counter(after.values()))}")
        print(f"sent twice: {len(twice)}   lost: {len(lost)}   stuck at ACCEPTED/SENT/PENDING: {len(stuck)}   "
              f"settled without the sandbox's events: {len(settled_quiet)}")
        return 1 if twice or lost or stuck else 0


def _seconds(value: float | None) -> str:
    return "never (timed out)" if value is None else f"{value:.2f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--per-second", type=float, default=40.0)
    parser.add_argument("--kill-after", type=float, default=0.35, help="share of sends before the kill")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--schedule", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.schedule)
        return 0
    return run(args.messages, args.per_second, args.kill_after)


if __name__ == "__main__":
    sys.exit(main())
