"""When a snooze ends: a number of minutes, or tomorrow 09:00 in the team's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

TOMORROW = "tomorrow"
MORNING = time(9, 0)


def snooze_until(choice: str, *, now: datetime, timezone: str) -> datetime:
    """The end of a snooze chosen at ``now``; ``ValueError`` for an unknown choice."""
    if choice == TOMORROW:
        zone = ZoneInfo(timezone)
        local = now.astimezone(zone)
        morning = datetime.combine(local.date() + timedelta(days=1), MORNING, tzinfo=zone)
        # a wall-clock time: a DST change overnight is absorbed by the zone
        return morning.astimezone(UTC)
    if choice.isdigit() and 0 < int(choice) <= 7 * 24 * 60:
        return now + timedelta(minutes=int(choice))
    raise ValueError(f"unknown snooze choice {choice!r}")
