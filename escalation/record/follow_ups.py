"""Follow-ups: work still owed after an alert is resolved, with an owner and a due date.

When a follow-up is due its owner gets a reminder, and then one every ``every`` seconds
until someone marks it done. Pure: time comes in as ``now``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


class FollowUpError(ValueError):
    """A follow-up that cannot be kept as given; the message says what to change."""


def due_at(day: date, *, at: time, timezone: str) -> datetime:
    """The moment a due *date* means: ``at`` (e.g. 09:00) on ``day`` in the team's zone."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def parse_due_date(text: str, *, today: date) -> date:
    """A due date from a date picker (``YYYY-MM-DD``); never in the past."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise FollowUpError(f'"{text}" is not a date (YYYY-MM-DD)') from None
    if day < today:
        raise FollowUpError("Pick today or a later day.")
    return day


def next_reminder(due: datetime, *, now: datetime, every_seconds: int) -> datetime:
    """The first reminder time after ``now`` on the grid ``due + k·every`` (k ≥ 0), so
    reminders keep their time of day even when one was sent late."""
    if now < due:
        return due
    step = timedelta(seconds=max(every_seconds, 60))
    periods = (now - due) // step + 1
    return due + periods * step


def overdue_days(due: datetime, *, now: datetime) -> int:
    """Whole days past due (0 on the due day itself or before)."""
    return max((now - due).days, 0)
