"""Filters of the review page and of ``GET /api/reports``, read from query parameters, with
errors that name the parameter."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from bot.review.reports import report_zone
from config.policy import PolicyFile
from escalation.review.period import PeriodError, check_period, parse_period
from storage.review.facts import ReviewFilter

DEFAULT_PERIOD = "7d"


class QueryError(ValueError):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def _instant(text: str, *, field: str, end: bool, zone: tzinfo) -> datetime:
    """``YYYY-MM-DD`` (a whole day in the team's zone; ``to`` includes that day) or an ISO
    time (UTC unless it carries an offset)."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text) + (timedelta(days=1) if end else timedelta(0))
            return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
        found = datetime.fromisoformat(text)
        return (found if found.tzinfo else found.replace(tzinfo=UTC)).astimezone(UTC)
    except ValueError:
        raise QueryError(field, f'"{text}" is not a date (YYYY-MM-DD) or an ISO time') from None
    except OverflowError:  # a day either side of datetime's range (0001-01-01, 9999-12-31)
        raise QueryError(field, f'"{text}" is out of range') from None


def review_filter(params: Mapping[str, str], *, policy: PolicyFile, now: datetime) -> ReviewFilter:
    """``from``/``to`` (dates or ISO times) or ``period`` (7d, 30d, 24h, A..B); ``team``,
    ``level`` (1-3), ``category``. Default: the last 7 days."""
    team = params.get("team") or None
    if team is not None and policy.teams and team not in policy.teams:
        raise QueryError("team", f'no team "{team}" (known: {", ".join(policy.teams)})')
    zone = report_zone(policy, team)
    start, end, period = params.get("from"), params.get("to"), params.get("period")
    if start or end:
        if period:
            raise QueryError("period", "give either period or from/to, not both")
        if not start:
            raise QueryError("from", "is required with to")
        since = _instant(start, field="from", end=False, zone=zone)
        until = _instant(end, field="to", end=True, zone=zone) if end else now
    else:
        try:
            since, until = parse_period(period or DEFAULT_PERIOD, now=now, zone=zone)
        except ValueError as exc:
            raise QueryError("period", str(exc)) from None
    if until <= since:
        raise QueryError("to", "must be after from")
    try:
        check_period(since, until)
    except PeriodError as exc:
        raise QueryError("to" if exc.end else "from", str(exc)) from None
    level_text = params.get("level") or None
    level = None
    if level_text is not None:
        if level_text not in ("1", "2", "3"):
            raise QueryError("level", f'"{level_text}" is not 1, 2 or 3')
        level = int(level_text)
    category = (params.get("category") or "").strip().lower() or None
    return ReviewFilter(since=since, until=until, team=team, level=level, category=category)
