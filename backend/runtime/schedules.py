"""Recurring jobs: APScheduler in the local app, EventBridge → the dlq-replay Lambda in AWS. Same code."""
from __future__ import annotations

import logging

from backend.services.messaging import dlq

from backend.services.messaging import outbox
from backend.services.channels.whatsapp.inbound_media import retry_pending_media

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 60


def is_scheduled_event(event: dict) -> bool:
    return isinstance(event, dict) and (event.get("source") == "aws.events" or event.get("detail-type") == "Scheduled Event")


def run_dlq_schedule() -> dict:
    """Re-enqueue what a crash left behind, retry media fetches, replay transient dead letters."""
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


def start_local_scheduler():
    """The local stand-in for EventBridge; returns the scheduler so the app can stop it."""
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(daemon=True)
    scheduler.add_job(run_dlq_schedule, "interval", seconds=INTERVAL_SECONDS, id="dlq-schedule", max_instances=1, coalesce=True)
    scheduler.start()
    return scheduler
