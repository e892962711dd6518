"""Time windows for routes: days of the week and a span of wall-clock time in a named zone.

Times are compared on the wall clock of the window's zone, so "09:00-18:00 Europe/Berlin"
stays 09:00-18:00 across daylight-saving changes. A span whose end is not after its start
runs overnight and belongs to the day it starts on: ``days: fri`` with ``22:00-06:00`` covers
Friday 22:00 to Saturday 06:00.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

DAY_MINUTES = 24 * 60


@dataclass(frozen=True, slots=True)
class TimeWindow:
    days: frozenset[int]
    """Weekdays the window starts on, 0 = Monday … 6 = Sunday."""
    start_minute: int
    """Start of the span, minutes after local midnight (inclusive)."""
    end_minute: int
    """End of the span, minutes after local midnight (exclusive); 1440 is midnight."""
    timezone: str

    def __post_init__(self) -> None:
        if not 0 <= self.start_minute < DAY_MINUTES or not 0 < self.end_minute <= DAY_MINUTES:
            raise ValueError("a window's span must lie within one day (00:00-24:00)")
        if self.start_minute == self.end_minute:
            raise ValueError("a window's span must not be empty")

    def contains(self, now: datetime) -> bool:
        """Whether the aware instant ``now`` falls in the window."""
        local = now.astimezone(ZoneInfo(self.timezone))
        minute = local.hour * 60 + local.minute
        day = local.weekday()
        if self.start_minute < self.end_minute:
            return day in self.days and self.start_minute <= minute < self.end_minute
        # overnight: the evening part today, or the morning part of a window started yesterday
        started_today = day in self.days and minute >= self.start_minute
        started_yesterday = (day - 1) % 7 in self.days and minute < self.end_minute
        return started_today or started_yesterday


def in_any(windows: Sequence[TimeWindow], now: datetime) -> bool:
    """No windows: always. Otherwise ``now`` must fall in at least one of them."""
    return not windows or any(w.contains(now) for w in windows)
