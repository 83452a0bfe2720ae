"""Benchmark: kill -9 the app in the middle of a bulk campaign, start it again, and count what was sent twice or lost.

    PYTHONPATH=. .venv/bin/python bench/bulk_crash.py [--recipients 3000] [--kill-at 0.4]

On a throwaway DynamoDB Local, in sandbox mode: `--recipients` contacts with SMS consent and one tag, and a
campaign to that tag (unpaced: SystemConfig `bulk.unlimited` and `rateLimit.off`). A worker process
(bench/crash_recovery.py's, with its schedule: the app's local runtime without the web server, `start_messaging`:
the send queue's workers, the campaign runner thread and the minute's schedule) runs it. When the sandbox has received `--kill-at` of the
sends, the worker gets SIGKILL, mid-batch, with sends in flight; a second worker starts at once and finishes.

The sandbox records every send durably (`<data_dir>/sandbox/sms-sends.jsonl`, by our message id), so a send is
counted from what the "provider" received, not from our own rows. Printed:
- sent twice: recipients whose message reached the sandbox more than once (target 0);
- lost: recipients not skipped that never reached the sandbox (target 0); none left PENDING/QUEUED;
- whether the job's counts (the recipient index, what the pages show) equal the recipient rows themselves;
- what happened to the sends in flight at the kill (the sweep asks the sandbox: it had them → ACCEPTED, it had
  not → sent again), and how long the second worker took (the runner's lease lapses after 30 s, an interrupted
  send's claim after its longest send, 80 s, and the schedule runs every minute).
"""
from __future__ import annotations

import argparse
import collections
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bulk_throughput import make_contacts, sandbox_sends  # noqa: E402
from bench.crash_recovery import start_worker, wait_until  # noqa: E402
from bench.local_dynamodb import local_database  # noqa: E402

TAG = "crash-bench"
FINISH_TIMEOUT = 600.0


def rows_by_status(job_id: str) -> dict[str, list]:
    """The recipient rows themselves (the table, not its index), grouped by status."""
    from backend.models.campaigns import BulkRecipientModel

    found: dict[str, list] = collections.defaultdict(list)
    for row in BulkRecipientModel.query(job_id, consistent_read=True):
        found[row.status].append(row)
    return found


def message_statuses(job_id: str, contact_ids: list[str]) -> collections.Counter:
    from backend.models.messaging import MessageModel
    from backend.services.messaging.campaign_recipients import campaign_message_id

    ids = [campaign_message_id(job_id, contact_id, 0) for contact_id in contact_ids]
    found = collections.Counter()
    for start in range(0, len(ids), 100):
        for row in MessageModel.batch_get(ids[start:start + 100], attributes_to_get=["messageId", "status"]):
            found[row.status] += 1
    return found


def run(recipients: int, kill_at: float) -> int:
    os.environ["WECARE_SANDBOX_LATENCY_MS"] = "1000"
    with local_database("bulk-crash", in_memory=True):
        from backend.models.campaigns import BulkJobModel
        from backend.services.campaigns import jobs, runner
        from backend.services.messaging.campaign_recipients import campaign_message_id
        from backend.services.platform import system_config
        from backend.services.platform.access import Actor, Role
        from backend.settings import get_settings

        data_dir = Path(get_settings().data_dir)
        operator = Actor(user_id="bench-operator", email="bench@example.test", role=Role.OPERATOR)
        make_contacts(recipients, TAG)
        system_config.write(runner.UNLIMITED_KEY, True, updated_by="bench")
        system_config.write("rateLimit.off", True, updated_by="bench")
        job = jobs.create_job(operator, {"name": "Crash", "channel": "sms", "audience": {"tags": [TAG]},
                                         "message": {"body": "Bench: the crash test."}, "confirmed": True})
        print(f"campaign {job.job_id} to {recipients:,} recipients; the worker sends unpaced")

        spawned = time.perf_counter()
        first = start_worker(schedule=True)
        killed_at = wait_until(lambda: len(sandbox_sends(data_dir)) >= recipients * kill_at, 600, spawned, 0.05)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        contact_ids = [row.contactId for rows in rows_by_status(job.job_id).values() for row in rows]
        at_kill = message_statuses(job.job_id, contact_ids)
        print(f"kill -9 {killed_at:.1f} s after the worker was spawned: {len(sandbox_sends(data_dir)):,} sends at the sandbox; "
              f"recipients {_counts(rows_by_status(job.job_id))}; their messages {dict(at_kill)}")

        restarted = time.perf_counter()
        second = start_worker(schedule=True)
        finished = wait_until(lambda: BulkJobModel.get(job.job_id, consistent_read=True).status == jobs.FINISHED,
                              FINISH_TIMEOUT, restarted, 0.5)
        since_finish = time.perf_counter()
        settled = wait_until(lambda: not ({"SENT"} & set(rows_by_status(job.job_id))), 120, since_finish, 1.0)
        settled = None if settled is None else settled + since_finish - restarted
        time.sleep(2.0)  # the last status events
        second.send_signal(signal.SIGKILL)
        second.wait()

        rows = rows_by_status(job.job_id)
        sends = collections.Counter(record["message_id"] for record in sandbox_sends(data_dir))
        ours = {contact_id: sends[campaign_message_id(job.job_id, contact_id, 0)] for contact_id in contact_ids}
        skipped = {row.contactId for row in rows.get("SKIPPED", [])}
        twice = [c for c, n in ours.items() if n > 1]
        lost = [c for c, n in ours.items() if n == 0 and c not in skipped]
        waiting = len(rows.get("PENDING", []))
        view = jobs.get_job(operator, job.job_id)
        from_rows = {status: len(found) for status, found in rows.items()}
        shown = {status: n for status, n in view.counts.items() if n and status in jobs.RECIPIENT_STATUSES and status != "QUEUED"}
        counts_match = shown == from_rows and len(contact_ids) == recipients
        print(f"after the restart: job FINISHED {_seconds(finished)}, every recipient past SENT {_seconds(settled)} after the second worker was spawned")
        print(f"their messages now: {dict(message_statuses(job.job_id, contact_ids))}; "
              f"sandbox sends for this campaign: {sum(ours.values()):,} for {recipients:,} recipients")
        print(f"recipient rows: {from_rows}; the job's counts: {shown} -> {'equal' if counts_match else 'DIFFERENT'}")
        ok = not twice and not lost and not waiting and counts_match and finished is not None
        print(f"\nSUMMARY bulk_crash: sent twice {len(twice)}, lost {len(lost)}, left waiting {waiting}, counts equal the rows: "
              f"{'yes' if counts_match else 'NO'} -> {'PASS' if ok else 'FAIL'}")
        return 0 if ok else 1


def _counts(rows: dict[str, list]) -> dict[str, int]:
    return {status: len(found) for status, found in rows.items()}


def _seconds(value: float | None) -> str:
    return "never (timed out)" if value is None else f"{value:.1f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=3_000)
    parser.add_argument("--kill-at", type=float, default=0.4, help="share of the sends before the kill")
    args = parser.parse_args()
    return run(args.recipients, args.kill_at)


if __name__ == "__main__":
    sys.exit(main())
