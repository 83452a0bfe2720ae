"""The local stand-in for EventBridge: APScheduler runs the outbox's upkeep (a service) every minute; in AWS
the same service runs from the dlq-replay Lambda on an EventBridge schedule."""
from __future__ import annotations

from backend.services.channels.maintenance import run_dlq_schedule

INTERVAL_SECONDS = 60


def start_local_scheduler():
    """Start the schedule; returns the scheduler so the app can stop it."""
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(daemon=True)
    scheduler.add_job(run_dlq_schedule, "interval", seconds=INTERVAL_SECONDS, id="dlq-schedule", max_instances=1, coalesce=True)
    scheduler.start()
    return scheduler
