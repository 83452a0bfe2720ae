"""The outbox's recurring upkeep, run every minute by a schedule (APScheduler in the local app, EventBridge →
the dlq-replay Lambda in AWS): re-enqueue what a crash left behind, retry failed media fetches, replay dead
letters whose error was transient."""
from __future__ import annotations

import logging

from backend.services.channels.whatsapp.inbound_media import retry_pending_media
from backend.services.messaging import dlq, outbox

log = logging.getLogger(__name__)


def run_dlq_schedule() -> dict:
    """One pass of the upkeep; the counts of what it did."""
    sweep = outbox.sweep_stale()
    media = retry_pending_media()
    replays = dlq.scheduled_replay()
    summary = {
        "requeued": sweep.requeued,
        "deadLettered": sweep.dead_lettered,
        "mediaStored": media,
        "replayed": sum(r.outcome == "replayed" for r in replays),
    }
    if any(summary.values()):
        log.info("schedule: %s", summary)
    return summary
