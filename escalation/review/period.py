"""Report periods: ``7d``, ``30d``, ``24h``, or ``2026-11-01..2026-11-08`` (whole days).

Every report — ``tocsin report``, ``/tocsin report``, ``GET /api/reports``, the review page —
is bounded here: at most :data:`LONGEST_DAYS` long, between :data:`EARLIEST` and
:data:`LATEST`, so no request can make the review walk centuries or overflow a date.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

LONGEST_DAYS = 400
LONGEST = timedelta(days=LONGEST_DAYS)
"""The longest period a report may cover (a year and a bit, for year-on-year reviews)."""
EARLIEST = date(1970, 1, 1)
LATEST = date(9998, 12, 31)
"""The first and last days a period may touch: far from the ends of ``datetime``, so a day
either side (time zones, the review's margins) never overflows."""

_RELATIVE = re.compile(r"^(\d{1,12})([hdw])$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
_TOO_LONG = f"a period may be at most {LONGEST_DAYS} days long"
_OUT_OF_RANGE = f"dates must lie between {EARLIEST} and {LATEST}"
_FIRST = datetime.combine(EARLIEST - timedelta(days=1), time(0), tzinfo=UTC)
_LAST = datetime.combine(LATEST + timedelta(days=2), time(0), tzinfo=UTC)
"""Instants a period may span: the days above in any time zone."""


class PeriodError(ValueError):
    """A period that is not allowed; ``end`` says whether its end (else its start) is wrong."""

    def __init__(self, message: str, *, end: bool = True) -> None:
        super().__init__(message)
        self.end = end


def check_period(since: datetime, until: datetime) -> None:
    """:class:`PeriodError` unless ``[since, until)`` is a period a report may cover."""
    if since < _FIRST:
        raise PeriodError(_OUT_OF_RANGE, end=False)
    if until > _LAST:
        raise PeriodError(_OUT_OF_RANGE)
    if until - since > LONGEST:
        raise PeriodError(_TOO_LONG)


def parse_period(text: str, *, now: datetime, zone: tzinfo = UTC) -> tuple[datetime, datetime]:
    """[since, until) for ``text``; ``ValueError`` naming the problem otherwise. Dates are
    whole days in ``zone`` (a team's time zone for a team's report)."""
    text = text.strip()
    shown = text if len(text) <= 40 else text[:40] + "…"
    relative = _RELATIVE.match(text)
    if relative:
        amount, unit = int(relative.group(1)), _UNITS[relative.group(2)]
        if amount <= 0:
            raise PeriodError(f'"{shown}": the period must be longer than zero')
        if amount > LONGEST // unit:  # checked before multiplying: 999999999w overflows
            raise PeriodError(f'"{shown}": {_TOO_LONG}')
        since, until = now - amount * unit, now
    elif ".." in text:
        start_text, _, end_text = text.partition("..")
        try:
            start, end = date.fromisoformat(start_text), date.fromisoformat(end_text)
        except ValueError:
            raise PeriodError(f'"{shown}": write dates as YYYY-MM-DD..YYYY-MM-DD') from None
        if end < start:
            raise PeriodError(f'"{shown}": the end comes before the start')
        if start < EARLIEST or end > LATEST:
            raise PeriodError(f'"{shown}": {_OUT_OF_RANGE}', end=end > LATEST)
        if (end - start).days >= LONGEST_DAYS:
            raise PeriodError(f'"{shown}": {_TOO_LONG}')
        since = datetime.combine(start, time(0), tzinfo=zone).astimezone(UTC)
        until = datetime.combine(end + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    else:
        raise PeriodError(f'"{shown}" is not a period: use 7d, 30d, 24h or YYYY-MM-DD..YYYY-MM-DD')
    try:
        check_period(since, until)
    except PeriodError as exc:
        raise PeriodError(f'"{shown}": {exc}', end=exc.end) from None
    return since, until
