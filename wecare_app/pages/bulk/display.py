"""How a campaign reads on every bulk page: its status badge, progress bar, counts and what the next actions are
(the view's own `can…` flags: no page decides what a job may do)."""
from __future__ import annotations

import reflex as rx

from backend.services.campaigns.jobs import RECIPIENT_LABELS, BulkJob
from wecare_app.components.formatting import CHANNEL_ICONS, CHANNEL_LABELS, as_utc, utc_stamp

JOB_COLORS = {"expanding": "gray", "scheduled": "violet", "sending": "blue", "paused": "amber", "finished": "green",
              "cancelling": "orange", "cancelled": "gray"}
RECIPIENT_COLORS = {"PENDING": "gray", "QUEUED": "blue", "SENT": "cyan", "DELIVERED": "green", "READ": "grass",
                    "FAILED": "red", "SKIPPED": "amber", "CANCELLED": "gray"}
SHOWN_COUNTS = ("PENDING", "QUEUED", "SENT", "DELIVERED", "READ", "FAILED", "SKIPPED", "CANCELLED")


def _eta(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def job_view(job: BulkJob) -> dict:
    """A job as the pages show it (strings and flags only)."""
    counts = job.counts or {}
    return {
        "job_id": job.job_id,
        "name": job.name,
        "channel": job.channel,
        "channel_label": CHANNEL_LABELS.get(job.channel, job.channel),
        "channel_icon": CHANNEL_ICONS.get(job.channel, "send"),
        "status": job.status,
        "status_label": job.status_label,
        "status_color": JOB_COLORS.get(job.status, "gray"),
        "live": "yes" if job.status in ("expanding", "sending", "cancelling") else "",
        "progress": int(round(job.progress)),
        "progress_text": f"{job.progress:g}%",
        "total": f"{job.total_recipients:,}",
        "done": f"{sum(counts.get(s, 0) for s in ('SENT', 'DELIVERED', 'READ', 'FAILED', 'SKIPPED', 'CANCELLED')):,}",
        "sent": f"{sum(counts.get(s, 0) for s in ('SENT', 'DELIVERED', 'READ')):,}",
        "failed": f"{counts.get('FAILED', 0):,}",
        "rate": f"{job.rate:g}/s" if job.rate is not None else "—",
        "eta": _eta(job.eta_seconds),
        "scheduled": utc_stamp(job.scheduled_at) or "",
        "scheduled_input": as_utc(job.scheduled_at).strftime("%Y-%m-%dT%H:%M") if job.scheduled_at else "",  # datetime-local
        "created": utc_stamp(job.created_at),
        "started": utc_stamp(job.started_at) or "—",
        "finished": utc_stamp(job.finished_at) or "—",
        "error": job.error or "",
        "quiet": job.quiet_note or "",
        "can_pause": job.can_pause,
        "can_resume": job.can_resume,
        "can_cancel": job.can_cancel,
        "can_retry": job.can_retry_failed,
        "can_delete": job.can_delete,
        "can_reschedule": job.can_reschedule,
    }


def count_tiles(job: BulkJob) -> list[dict]:
    counts = job.counts or {}
    return [{"status": s, "label": RECIPIENT_LABELS[s], "count": f"{counts.get(s, 0):,}", "color": RECIPIENT_COLORS[s]}
            for s in SHOWN_COUNTS]


def skipped_lines(job: BulkJob) -> list[dict]:
    return [{"reason": line.label, "count": f"{line.count:,}"} for line in job.skipped]


def status_badge(job: rx.Var, size: str = "2") -> rx.Component:
    return rx.badge(job["status_label"], color_scheme=job["status_color"].to(str), size=size, variant="soft",
                    class_name="job-status job-status-" + job["status"].to(str))


def progress_bar(job: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.progress(value=job["progress"].to(int), max=100, size="2", color_scheme=job["status_color"].to(str), width="100%"),
        rx.text(job["progress_text"], size="1", color=rx.color("gray", 10), min_width="44px", text_align="right"),
        align="center",
        spacing="2",
        width="100%",
    )


def channel_tag(job: rx.Var) -> rx.Component:
    return rx.hstack(rx.icon(job["channel_icon"].to(str), size=14), rx.text(job["channel_label"], size="2"), spacing="1", align="center")
