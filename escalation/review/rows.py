"""The review's fast path: facts arrive as plain rows from the database cursor — one tuple per
alert, and pages and timeline activity already counted per group and class — and go into a
:class:`escalation.review.figures.Review` without a Python object per row.

The figures are the same as adding :class:`AlertFacts`, :class:`PageFacts` and
:class:`ActivityFacts` one by one (an equivalence test holds the two paths together): durations
are rounded to the millisecond the same way, an alert's day is its local date of firing, and
the leaves of the review are the same (group, person) pairs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from escalation.model import Status
from escalation.review.figures import ActivityFacts, Day, Review, Tally, Where, others
from escalation.review.zone_spans import LocalDays, zone_spans

NIGHT = 1
WEEKEND = 2
"""Page classes (bits): the database classifies each page's minute in its team's zone."""

ESCALATION = 1
APPROVAL_ASKED = 2
APPROVED = 4
DENIED = 8
TIMED_OUT = 16
PAGED = 32
"""Timeline classes (bits). PAGED alone (a first-tier page) counts nothing but, as in the
straightforward path, still makes the group part of the review."""

ALERT_COLUMNS = (
    "team", "level", "category", "route", "source", "count", "status", "resolved_by_source",
    "acknowledged_by", "root_cause", "fired_s", "tta_s", "ttr_s", "ack_within_s", "owner",
    "resolved_by",
)  # fmt: skip
"""The columns of an alert row, in order (``tta_s``/``ttr_s`` unrounded, from firing)."""

_RESOLVED = Status.RESOLVED.value


class AlertRows:
    """Adds alert rows to one review; keep one per review and call :meth:`add` per batch."""

    __slots__ = ("_days", "_leaves", "_local", "_review")

    def __init__(self, review: Review) -> None:
        self._review = review
        self._local = LocalDays(zone_spans(review.zone, review.since, review.until))
        self._leaves: dict[tuple[Any, ...], Tally] = {}
        self._days: dict[int, Day] = {}

    def _leaf(self, key: tuple[Any, ...]) -> Tally:
        team, level, category, route, source, person = key
        where = Where(team=team, level=int(level), category=category, route=route, source=source)
        found = self._leaves[key] = self._review.leaf(where, person)
        return found

    def _day(self, ordinal: int) -> Day:
        day = date.fromordinal(ordinal)
        days = self._review.days
        found = days.get(day)
        if found is None:
            found = days[day] = Day()
        self._days[ordinal] = found
        return found

    def add(self, rows: Iterable[Sequence[Any]]) -> None:
        self._leaves.clear()  # each batch asks the review again: figures read before are stale
        leaves, days, ordinal_of = self._leaves, self._days, self._local.ordinal
        causes = self._review.root_causes
        for (
            team, level, category, route, source, count, status, by_source, person, cause,
            fired, tta, ttr, deadline, owner, resolver,
        ) in rows:  # fmt: skip
            key = (team, level, category, route, source, person)
            leaf = leaves.get(key)
            if leaf is None:
                leaf = self._leaf(key)
            ordinal = ordinal_of(fired)
            day = days.get(ordinal)
            if day is None:
                day = self._day(ordinal)
            day.by_level[int(level)] += 1
            leaf.alerts += 1
            leaf.firings += count
            if tta is not None:
                tta = round(tta, 3)
                leaf.acknowledged += 1
                leaf.tta.append(tta)
                day.tta.append(tta)
            if status == _RESOLVED:
                leaf.resolved += 1
                if by_source:
                    leaf.resolved_by_source += 1
                if ttr is not None:
                    ttr = round(ttr, 3)
                    leaf.ttr.append(ttr)
                    day.ttr.append(ttr)
                causes[cause or ("by the source" if by_source else "unknown")] += 1
            if deadline is not None:
                leaf.with_deadline += 1
                if tta is not None and tta <= deadline:
                    leaf.within_deadline += 1
            if (owner or resolver) and (owner != person or resolver != person):
                for other in others(person, (owner, resolver)):
                    _also(
                        self._review.involved(other), count, status, by_source, tta, ttr, deadline
                    )


def _also(
    tally: Tally,
    count: int,
    status: str,
    by_source: bool,
    tta: float | None,
    ttr: float | None,
    deadline: float | None,
) -> None:
    """One alert into the tally of someone who owned or resolved it (``tta``/``ttr`` already
    rounded), as :meth:`Tally.add` counts it."""
    tally.alerts += 1
    tally.firings += count
    if tta is not None:
        tally.acknowledged += 1
        tally.tta.append(tta)
    if status == _RESOLVED:
        tally.resolved += 1
        if by_source:
            tally.resolved_by_source += 1
        if ttr is not None:
            tally.ttr.append(ttr)
    if deadline is not None:
        tally.with_deadline += 1
        if tta is not None and tta <= deadline:
            tally.within_deadline += 1


def _where(row: Sequence[Any]) -> Where:
    return Where(team=row[0], level=int(row[1]), category=row[2], route=row[3], source=row[4])


def add_page_counts(review: Review, rows: Iterable[Sequence[Any]]) -> None:
    """Rows of (team, level, category, route, source, person, classes, pages)."""
    for row in rows:
        classes, pages = int(row[6]), int(row[7])
        review.leaf(_where(row), row[5]).add_pages(
            pages, night=bool(classes & NIGHT), weekend=bool(classes & WEEKEND)
        )


def add_activity_counts(review: Review, rows: Iterable[Sequence[Any]]) -> None:
    """Rows of (team, level, category, route, source, actor, classes, events)."""
    for row in rows:
        classes, events = int(row[6]), int(row[7])
        review.add_activity(
            ActivityFacts(
                where=_where(row),
                actor=row[5],
                escalations=events if classes & ESCALATION else 0,
                approvals_asked=events if classes & APPROVAL_ASKED else 0,
                approved=events if classes & APPROVED else 0,
                denied=events if classes & DENIED else 0,
                timed_out=events if classes & TIMED_OUT else 0,
            )
        )
