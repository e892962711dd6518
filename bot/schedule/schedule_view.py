"""What the schedule page shows: each rotation's now and next, its coming days as a timeline
(overrides marked), and each person's upcoming shifts. Pure: rotations and the instant in.

Overrides: the rotation's own (policy file) apply, then ``extra`` ones per rotation (kept
elsewhere, e.g. the database), which win where they overlap, as in bot.schedule.feeds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from escalation.oncall import (
    EARLIEST,
    LATEST,
    Override,
    Rotation,
    Shift,
    next_shifts,
    shifts_between,
)

AHEAD = timedelta(days=14)
"""How far the timeline and each person's list look ahead."""


@dataclass(frozen=True, slots=True)
class ShownShift:
    rotation: str
    user: str
    person: str
    """Display name (``people.<id>.name``, else the Slack id)."""
    start: str
    end: str
    """In the rotation's time zone, as words (``Mon 23 Mar 09:00 CET``; ``—`` for open)."""
    override: bool
    """Someone covers instead of whoever the rotation schedules."""
    covers: str | None
    """Display name of the scheduled person, when ``override``."""
    left: float = 0.0
    width: float = 0.0
    """Place on the timeline, in percent of its width."""
    starts_at: datetime = field(default=EARLIEST, compare=False)


@dataclass(frozen=True, slots=True)
class RotationView:
    name: str
    timezone: str
    now: ShownShift
    next: ShownShift | None
    timeline: list[ShownShift]
    days: list[tuple[str, float]]
    """Day labels and their place on the timeline (percent)."""
    source: str | None = None
    """For a calendar-fed rotation: where its shifts come from and how fresh they are."""


@dataclass(frozen=True, slots=True)
class PersonView:
    user: str
    person: str
    shifts: list[ShownShift]


@dataclass(frozen=True, slots=True)
class ScheduleView:
    rotations: list[RotationView]
    people: list[PersonView]
    until: datetime


def schedule_view(
    rotations: Mapping[str, Rotation],
    names: Mapping[str, str],
    *,
    now: datetime,
    extra: Mapping[str, Sequence[Override]] | None = None,
    sources: Mapping[str, str] | None = None,
) -> ScheduleView:
    end = now + AHEAD
    views: list[RotationView] = []
    by_person: dict[str, list[ShownShift]] = {}
    for name in sorted(rotations):
        rotation = rotations[name]
        added = tuple((extra or {}).get(name, ()))
        if added:
            rotation = replace(rotation, overrides=rotation.overrides + added)
        zone = ZoneInfo(rotation.timezone)
        current, *following = next_shifts(rotation, at=now, count=2)
        timeline = [
            _shown(rotation, s, names, zone, now=now, end=end)
            for s in shifts_between(rotation, start=now, end=end)
        ]
        for shown in timeline:
            by_person.setdefault(shown.user, []).append(shown)
        views.append(
            RotationView(
                name=name,
                timezone=rotation.timezone,
                now=_shown(rotation, current, names, zone, now=now, end=end),
                next=_shown(rotation, following[0], names, zone, now=now, end=end)
                if following
                else None,
                timeline=timeline,
                days=_days(zone, now=now, end=end),
                source=(sources or {}).get(name),
            )
        )
    people = [
        PersonView(user, names.get(user, user), sorted(shifts, key=lambda s: s.starts_at))
        for user, shifts in by_person.items()
    ]
    people.sort(key=lambda p: p.person.lower())
    return ScheduleView(rotations=views, people=people, until=end)


def _shown(
    rotation: Rotation,
    shift: Shift,
    names: Mapping[str, str],
    zone: ZoneInfo,
    *,
    now: datetime,
    end: datetime,
) -> ShownShift:
    covered = shift.override is not None and shift.user != shift.scheduled
    span = (end - now).total_seconds()
    lo, hi = max(shift.start, now), min(shift.end, end)
    return ShownShift(
        rotation=rotation.name,
        user=shift.user,
        person=names.get(shift.user, shift.user),
        start="—" if shift.start <= EARLIEST else _when(shift.start, zone),
        end="—" if shift.end >= LATEST else _when(shift.end, zone),
        override=shift.override is not None,
        covers=names.get(shift.scheduled, shift.scheduled) if covered else None,
        left=round(max((lo - now).total_seconds(), 0.0) / span * 100, 3),
        width=round(max((hi - lo).total_seconds(), 0.0) / span * 100, 3),
        starts_at=shift.start,
    )


def _when(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%a %d %b %H:%M %Z")


def _days(zone: ZoneInfo, *, now: datetime, end: datetime) -> list[tuple[str, float]]:
    """Local midnights between ``now`` and ``end``, labelled, with their place in percent."""
    span = (end - now).total_seconds()
    local = now.astimezone(zone)
    day = local.date() + timedelta(days=1)
    marks: list[tuple[str, float]] = []
    while True:
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
        if midnight >= end:
            return marks
        place = (midnight - now).total_seconds() / span * 100
        marks.append((midnight.strftime("%a %d"), round(place, 3)))
        day += timedelta(days=1)
