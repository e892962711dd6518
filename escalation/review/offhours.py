"""Night and weekend, in a team's own time zone: the on-call load figures of the review.

A page is a *night* page when the team's local clock reads within the night window (which may
wrap past midnight, e.g. 22:00-07:00: start included, end excluded), and a *weekend* page
when the local day is one of the weekend days. A Saturday 03:00 page is both; *off-hours*
counts it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class OffHours:
    night_start: time = time(22, 0)
    night_end: time = time(7, 0)
    weekend: frozenset[int] = frozenset({5, 6})
    """Weekday numbers, 0 = Monday."""

    def is_night(self, local: datetime) -> bool:
        clock = local.time().replace(tzinfo=None)
        if self.night_start == self.night_end:
            return False
        if self.night_start < self.night_end:
            return self.night_start <= clock < self.night_end
        return clock >= self.night_start or clock < self.night_end

    def is_weekend(self, local: datetime) -> bool:
        return local.weekday() in self.weekend

    def classify(self, at: datetime, zone: ZoneInfo) -> tuple[bool, bool]:
        """(night, weekend) for the aware instant ``at`` seen in ``zone``."""
        local = at.astimezone(zone)
        return self.is_night(local), self.is_weekend(local)
