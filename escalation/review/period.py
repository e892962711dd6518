"""Report periods: ``7d``, ``30d``, ``24h``, or ``2026-11-01..2026-11-08`` (whole days)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

_RELATIVE = re.compile(r"^(\d+)([hdw])$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def parse_period(text: str, *, now: datetime, zone: tzinfo = UTC) -> tuple[datetime, datetime]:
    """[since, until) for ``text``; ``ValueError`` naming the problem otherwise. Dates are
    whole days in ``zone`` (a team's time zone for a team's report)."""
    text = text.strip()
    relative = _RELATIVE.match(text)
    if relative:
        amount = int(relative.group(1))
        if amount <= 0:
            raise ValueError(f'"{text}": the period must be longer than zero')
        return now - amount * _UNITS[relative.group(2)], now
    if ".." in text:
        start_text, _, end_text = text.partition("..")
        try:
            start, end = date.fromisoformat(start_text), date.fromisoformat(end_text)
        except ValueError:
            raise ValueError(f'"{text}": write dates as YYYY-MM-DD..YYYY-MM-DD') from None
        if end < start:
            raise ValueError(f'"{text}": the end comes before the start')
        since = datetime.combine(start, time(0), tzinfo=zone).astimezone(UTC)
        until = datetime.combine(end + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
        return since, until
    raise ValueError(f'"{text}" is not a period: use 7d, 30d, 24h or YYYY-MM-DD..YYYY-MM-DD')
