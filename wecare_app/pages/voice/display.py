"""How voice calls read on screen: statuses, colours, durations, the log's rows and the call's timeline.
Plain strings and flags; no components."""
from __future__ import annotations

from datetime import datetime

from backend.services.channels.voice.calls import VoiceCall
from backend.services.channels.voice.events import CALL_STATUSES, TERMINAL
from wecare_app.components.formatting import as_utc, shorten, utc_stamp
from wecare_app.state.speech_form import voice_label  # JOANNA -> Joanna, as the voice select shows it

TEXT_PREVIEW = 70

STATUS_LABELS = {
    "queued": "Queued",
    "initiated": "Dialling",
    "ringing": "Ringing",
    "answered": "Answered",
    "completed": "Completed",
    "busy": "Busy",
    "no-answer": "No answer",
    "failed": "Failed",
}
STATUS_COLORS = {
    "queued": "gray",
    "initiated": "blue",
    "ringing": "blue",
    "answered": "teal",
    "completed": "green",
    "busy": "orange",
    "no-answer": "amber",
    "failed": "red",
}
STATUS_ICONS = {
    "queued": "clock",
    "initiated": "phone-outgoing",
    "ringing": "bell-ring",
    "answered": "phone-call",
    "completed": "circle-check",
    "busy": "phone-off",
    "no-answer": "phone-missed",
    "failed": "circle-alert",
}
assert set(STATUS_LABELS) == set(CALL_STATUSES)


def call_duration(seconds: int | None) -> str:
    """'42 s', '3 min 05 s', or '—' without one."""
    if seconds is None:
        return "—"
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"


def _elapsed(start: datetime, moment: datetime) -> str:
    seconds = max(0.0, (as_utc(moment) - as_utc(start)).total_seconds())
    return f"+{seconds:.1f} s" if seconds < 60 else f"+{int(seconds) // 60} min {int(seconds) % 60:02d} s"


def is_live(status: str) -> bool:
    """Still moving: a terminal status never changes again."""
    return status not in TERMINAL


def call_row(call: VoiceCall, contact_name: str = "") -> dict[str, str]:
    """One call in the log."""
    return {
        "call_id": call.call_id,
        "href": f"/voice/{call.call_id}",
        "started": as_utc(call.started_at).strftime("%d %b, %H:%M"),
        "started_full": utc_stamp(call.started_at),
        "contact_id": call.contact_id or "",
        "contact_name": contact_name or call.to,
        "to": call.to,
        "status": call.status,
        "status_label": STATUS_LABELS.get(call.status, call.status),
        "status_color": STATUS_COLORS.get(call.status, "gray"),
        "duration": call_duration(call.duration_seconds),
        "voice": voice_label(call.voice_id),
        "text": shorten(call.spoken, TEXT_PREVIEW) or "—",
        "text_full": call.text or "",
        "ssml": "SSML" if call.text_type == "SSML" else "",
    }


def call_events(call: VoiceCall) -> list[dict[str, str]]:
    """The call's timeline, oldest first: each status with its time, the time since the call was placed and
    the provider's detail (a reason for a failure, or how it was placed)."""
    events = sorted(call.events, key=lambda e: e.at)
    return [
        {
            "status": event.status,
            "label": STATUS_LABELS.get(event.status, event.status),
            "fg": f"var(--{STATUS_COLORS.get(event.status, 'gray')}-11)",
            "bg": f"var(--{STATUS_COLORS.get(event.status, 'gray')}-4)",
            "icon": STATUS_ICONS.get(event.status, "dot"),
            "time": as_utc(event.at).strftime("%H:%M:%S"),
            "time_full": utc_stamp(event.at),
            "elapsed": _elapsed(call.started_at, event.at) if index else "",
            "detail": event.detail or "",
        }
        for index, event in enumerate(events)
    ]
