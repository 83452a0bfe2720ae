"""The quiet-hours setting's value, checked: `{"start": "HH:MM", "end": "HH:MM", "timeZone": "Area/City"}`
(SystemConfig `bulk.quietHours`). The rule that holds campaign messages at night is
backend/services/messaging/quiet_hours.py; the settings catalog checks an admin's value with this `parse`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from backend.errors import ValidationError


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time
    zone: ZoneInfo

    def describe(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M} in each recipient's time zone ({self.zone.key} where it is not known)"

    def until(self, at: datetime, zone: ZoneInfo) -> datetime | None:
        """When the quiet period `at` falls in ends (UTC), or None when `at` is not quiet in `zone`."""
        local = at.astimezone(zone)
        now = local.time()
        overnight = self.start > self.end
        quiet = (now >= self.start or now < self.end) if overnight else (self.start <= now < self.end)
        if not quiet:
            return None
        day = local.date() + timedelta(days=1) if overnight and now >= self.start else local.date()
        return datetime.combine(day, self.end, tzinfo=zone).astimezone(at.tzinfo)


def parse(value: object) -> QuietHours:
    """The setting checked field by field (ValidationError names the field and the reason)."""
    if not isinstance(value, dict):
        raise ValidationError('quietHours: an object {"start": "HH:MM", "end": "HH:MM", "timeZone": "Area/City"}', field="quietHours")
    bounds = {}
    for name in ("start", "end"):
        try:
            bounds[name] = time.fromisoformat(str(value.get(name, "")))
        except ValueError:
            raise ValidationError(f"quietHours.{name}: a time of day as HH:MM", field=f"quietHours.{name}") from None
    if bounds["start"] == bounds["end"]:
        raise ValidationError("quietHours.end: must differ from the start", field="quietHours.end")
    try:
        zone = ZoneInfo(str(value.get("timeZone") or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("quietHours.timeZone: an IANA time zone such as Europe/London", field="quietHours.timeZone") from None
    return QuietHours(bounds["start"], bounds["end"], zone)
