"""The outbox's recurring upkeep, run every minute by a schedule (APScheduler in the local app, EventBridge →
the dlq-replay Lambda in AWS): re-enqueue what a crash left behind, retry failed media fetches, replay dead
letters whose error was transient (never those that may already have been delivered: those it names in the
log, for a person); wake the snoozed conversations whose time has come."""
from __future__ import annotations

import logging

from backend.services.channels.registry import find_send
from backend.services.channels.whatsapp.inbound_media import retry_pending_media
from backend.services.messaging import conversations, dlq, outbox

log = logging.getLogger(__name__)


def run_dlq_schedule() -> dict:
    """One pass of the upkeep; the counts of what it did."""
    sweep = outbox.sweep_stale(find_send=find_send)
    media = retry_pending_media()
    replays = dlq.scheduled_replay()
    woken = conversations.wake_snoozed()
    summary = {
        "requeued": sweep.requeued,
        "deadLettered": sweep.dead_lettered,
        "expired": sweep.expired,
        "settled": sweep.settled,
        "mediaStored": media,
        "replayed": sum(r.outcome == "replayed" for r in replays),
        "conversationsWoken": woken,
    }
    if any(summary.values()):
        log.info("schedule: %s", summary)
    _report_skipped(replays)
    return summary


def _report_skipped(replays: list[dlq.DlqResult]) -> None:
    """Entries the schedule will not replay however long they wait: said in the log on every pass, with why
    and what a person can do, so that they are not mistaken for entries still to come."""
    skipped = [r for r in replays if r.outcome == "skipped"]
    if skipped:
        reasons = "; ".join(dict.fromkeys(r.reason or "" for r in skipped))
        log.warning("schedule: %d dead letter(s) not replayed (%s): %s", len(skipped), reasons, ", ".join(r.dlq_id for r in skipped))
