"""Quiet hours: a campaign's messages are not sent at night where the recipient is. One rule, read by the outbox
(a campaign message due in quiet hours waits in the queue until they end) and by the campaign view (what the
page says about it).

SystemConfig `bulk.quietHours` = {"start": "21:00", "end": "08:00", "timeZone": "Europe/London"} (empty: none):
from `start` to `end` (across midnight when start > end), in the recipient's time zone, known from their phone number when the
number belongs to one zone (or to several with the same time now); else, and for email, the account's
`timeZone`. Unset (the default): no quiet hours. Single sends (a reply in the inbox) are never held: a person
chose to send them now.
"""
from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_zones

from backend.errors import ValidationError
from backend.services.platform import system_config
from backend.services.rules.quiet_hours import QuietHours, parse

log = logging.getLogger(__name__)
KEY = "bulk.quietHours"


def configured() -> QuietHours | None:
    """The quiet hours in force (SystemConfig, cached a few seconds), or None; a bad value is logged and ignored."""
    value = system_config.cached(KEY)
    if not value:
        return None
    try:
        return parse(value)
    except ValidationError as error:
        log.warning("system config %s ignored: %s", KEY, error.message)
        return None


def zone_of(address: str | None, quiet: QuietHours, at: datetime) -> ZoneInfo:
    """The recipient's time zone from their phone number, else the account's."""
    if not address or not address.startswith("+"):
        return quiet.zone
    try:
        names = phone_zones.time_zones_for_number(phonenumbers.parse(address))
        zones = [ZoneInfo(name) for name in names if name != "Etc/Unknown"]
    except (phonenumbers.NumberParseException, ZoneInfoNotFoundError, ValueError):
        return quiet.zone
    if not zones or quiet.zone in zones:
        return quiet.zone  # the account's zone where the number may be there
    if len({at.astimezone(zone).utcoffset() for zone in zones}) == 1:
        return zones[0]  # one zone, or several with the same time now
    return quiet.zone  # a country across time zones with no way to tell which: the account's


def held_until(address: str | None, at: datetime) -> datetime | None:
    """When a campaign message to `address` may go, if `at` is in quiet hours where the recipient is; else None."""
    quiet = configured()
    if quiet is None:
        return None
    return quiet.until(at, zone_of(address, quiet, at))


def note(at: datetime) -> str | None:
    """What a campaign's page says while it is quiet in the account's time zone (None otherwise)."""
    quiet = configured()
    if quiet is None:
        return None
    ends = quiet.until(at, quiet.zone)
    if ends is None:
        return None
    return f"Quiet hours, {quiet.describe()}: messages wait until {ends.astimezone(quiet.zone):%H:%M} {quiet.zone.key}."
