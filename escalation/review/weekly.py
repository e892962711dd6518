"""Weekly slots (the digest's "Monday 09:00 in Berlin"), pure: the clock comes in as ``now``."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


def last_slot(now: datetime, *, weekday: int, at: time, zone: ZoneInfo) -> datetime:
    """The latest instant at or before ``now`` whose local time in ``zone`` is ``weekday``
    (0 = Monday) at ``at``; in UTC. Local times are taken with ``fold=0`` (a time repeated
    when clocks go back is its first occurrence)."""
    local = now.astimezone(zone)
    day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    slot = datetime.combine(day, at, tzinfo=zone)
    if slot > now:
        slot = datetime.combine(day - timedelta(days=7), at, tzinfo=zone)
    return slot.astimezone(UTC)
