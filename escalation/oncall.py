"""On-call rotations: who carries the pager at a given instant, and who comes next.

Pure and clock-free: every instant comes in as an argument and must be timezone-aware.

Daily and weekly rotations hand off at the local wall-clock ``handoff`` time in the rotation's
``timezone``, so across a DST change the hand-off keeps its local time and the shift spanning
the change is an hour shorter or longer (23 h / 25 h for a daily rotation). Custom
``timedelta`` shifts are fixed elapsed durations counted from ``anchor`` at ``handoff``
(converted to UTC once) and ignore DST afterwards.

A hand-off happens at the first instant at which the local clock shows the hand-off time:

* **non-existent local time** (spring-forward gap, e.g. 02:30 in Europe/Berlin on 2026-03-29):
  the first valid instant after the gap, i.e. the transition itself (03:00 CEST = 01:00 UTC).
  A plain ``fold=0`` UTC round trip would give 03:30 CEST instead, and on a skipped day (e.g.
  Pacific/Apia, 2011-12-30) a zero-length shift; neither is what a clock-watcher would see.
* **ambiguous local time** (fall-back overlap): the first occurrence (``fold=0``).

Shifts are numbered from ``anchor`` (shift 0 belongs to ``members[0]``) and extend backwards
too: shift ``k`` belongs to ``members[k % len(members)]`` for negative ``k`` as well. A weekly
rotation whose ``handoff_weekday`` differs from the anchor's weekday starts shift 0 on the
first such weekday on or after ``anchor``.

Overrides replace the scheduled member over ``[start, end)``; with ``covers`` set, only while
that member is scheduled. When several overlap, the one listed last wins. Overrides split
shifts into pieces; every piece is a :class:`Shift` (same ``scheduled``, own ``override``).
Pieces are never merged across a scheduled hand-off, even when the user stays the same.

**Calendar rotations** (``calendar`` set, see :mod:`escalation.calendar`): the shifts are the
calendar's slots, in order; any time no slot covers (before the first, between two, after the
last) is a shift of ``members[0]``, the rotation's fallback, so someone is always on call.
``shift``, ``anchor`` and ``handoff`` are then unused; overrides apply as above.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from escalation.calendar import CalendarSlot

_MIN_CUSTOM_SHIFT = timedelta(hours=1)
_MICROSECOND = timedelta(microseconds=1)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
"""Where a calendar rotation's first fallback shift starts (no calendar reaches before)."""
LATEST = datetime(9999, 1, 1, tzinfo=UTC)
"""Where a calendar rotation's last fallback shift ends."""


@dataclass(frozen=True, slots=True)
class Override:
    user: str
    """Slack user id of whoever covers."""
    start: datetime
    end: datetime
    """Exclusive; must be after ``start``. Both aware."""
    covers: str | None = None
    """Only replace this member's shifts; ``None`` replaces whoever is on call."""


@dataclass(frozen=True, slots=True)
class Rotation:
    name: str
    members: tuple[str, ...]
    """Ordered Slack user ids, at least one."""
    timezone: str
    """IANA name, e.g. ``"Europe/Berlin"``."""
    handoff: time
    """Naive local wall-clock time of the hand-off."""
    shift: Literal["daily", "weekly"] | timedelta
    """``timedelta`` = custom elapsed shift length, at least one hour."""
    anchor: date
    """Local date on which ``members[0]`` starts a shift at ``handoff``."""
    handoff_weekday: int | None = None
    """Weekly rotations only: 0 = Monday ... 6 = Sunday; default is the anchor's weekday."""
    overrides: tuple[Override, ...] = ()
    calendar: tuple[CalendarSlot, ...] | None = None
    """Shifts from a calendar, in order, not overlapping; ``members[0]`` holds the gaps."""


@dataclass(frozen=True, slots=True)
class Shift:
    user: str
    """Who is on call, after overrides."""
    start: datetime
    end: datetime
    """Both aware UTC; ``end`` is exclusive."""
    scheduled: str
    """The member the rotation itself puts on, before overrides."""
    override: Override | None


def on_call(rotation: Rotation, *, at: datetime) -> Shift:
    """The shift (or override piece of one) that contains ``at``."""
    return next_shifts(rotation, at=at, count=1)[0]


def next_shifts(rotation: Rotation, *, at: datetime, count: int) -> list[Shift]:
    """``count`` shifts: the one containing ``at`` first, then the following ones in order."""
    _require_aware(at, "at")
    if count < 0:
        raise ValueError(f"count must not be negative, got {count}")
    sched = _Schedule(rotation)
    shifts: list[Shift] = []
    k = sched.index_at(at)
    while len(shifts) < count and not sched.exhausted(k):
        shifts.extend(p for p in sched.pieces(k) if p.end > at)
        k += 1
    return shifts[:count]


def handoffs_between(rotation: Rotation, *, start: datetime, end: datetime) -> list[Shift]:
    """Shifts (after overrides) that start in ``(start, end]``, in order."""
    _require_aware(start, "start")
    _require_aware(end, "end")
    sched = _Schedule(rotation)
    shifts: list[Shift] = []
    k = sched.index_at(start)
    while sched.start(k) <= end and not sched.exhausted(k):
        shifts.extend(p for p in sched.pieces(k) if start < p.start <= end)
        k += 1
    return shifts


def shifts_between(rotation: Rotation, *, start: datetime, end: datetime) -> list[Shift]:
    """Every shift (after overrides) that overlaps ``[start, end)``, in order, uncut: the first
    may begin before ``start`` and the last end after ``end``."""
    _require_aware(start, "start")
    _require_aware(end, "end")
    if end <= start:
        return []
    sched = _Schedule(rotation)
    shifts: list[Shift] = []
    k = sched.index_at(start)
    while sched.start(k) < end and not sched.exhausted(k):
        shifts.extend(p for p in sched.pieces(k) if p.end > start and p.start < end)
        k += 1
    return shifts


def validate_rotation(rotation: Rotation) -> list[str]:
    """Everything wrong with ``rotation``, as sentences fit to show an operator."""
    problems: list[str] = []
    if not rotation.name.strip():
        problems.append("rotation has no name")
    label = f"rotation {rotation.name!r}"
    if not rotation.members:
        problems.append(f"{label} has no members")
    if any(not m.strip() for m in rotation.members):
        problems.append(f"{label} has an empty member id")
    try:
        ZoneInfo(rotation.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"{label}: unknown timezone {rotation.timezone!r}")
    if rotation.handoff.tzinfo is not None:
        problems.append(f"{label}: handoff must be a naive local time, without tzinfo")
    if isinstance(rotation.shift, timedelta):
        if rotation.shift < _MIN_CUSTOM_SHIFT:
            problems.append(f"{label}: custom shift {rotation.shift} is shorter than 1 hour")
    elif rotation.shift not in ("daily", "weekly"):
        problems.append(
            f"{label}: shift must be 'daily', 'weekly' or a timedelta, not {rotation.shift!r}"
        )
    wd = rotation.handoff_weekday
    if wd is not None and rotation.shift != "weekly":
        problems.append(f"{label}: handoff_weekday only applies to weekly rotations")
    elif wd is not None and wd not in range(7):
        problems.append(f"{label}: handoff_weekday must be 0 (Monday) to 6 (Sunday), not {wd}")
    problems.extend(_calendar_problems(rotation, label))
    for i, o in enumerate(rotation.overrides, start=1):
        where = f"{label}, override {i} ({o.user or '?'})"
        if not o.user.strip():
            problems.append(f"{where}: no user")
        naive = [n for n, v in (("start", o.start), ("end", o.end)) if not _is_aware(v)]
        for n in naive:
            problems.append(f"{where}: {n} {o.start if n == 'start' else o.end} has no timezone")
        if not naive and o.end <= o.start:
            problems.append(f"{where}: end {o.end.isoformat()} is not after start")
        if o.covers is not None and rotation.calendar is None and o.covers not in rotation.members:
            problems.append(f"{where}: covers {o.covers!r}, who is not a member")
    return problems


# --- internals ------------------------------------------------------------------------------


def _calendar_problems(rotation: Rotation, label: str) -> list[str]:
    problems: list[str] = []
    previous = EARLIEST
    for slot in rotation.calendar or ():
        if not (_is_aware(slot.start) and _is_aware(slot.end)):
            problems.append(f"{label}: calendar shift at {slot.start} has no timezone")
            continue
        if slot.end <= slot.start or slot.start < previous or slot.end > LATEST:
            problems.append(
                f"{label}: calendar shifts must be in order and not overlap "
                f"({slot.start.isoformat()} to {slot.end.isoformat()})"
            )
        previous = slot.end
    return problems


def _is_aware(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() is not None


def _require_aware(value: datetime, name: str) -> None:
    if not _is_aware(value):
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")


def wall_to_utc(day: date, handoff: time, tz: ZoneInfo) -> datetime:
    """The first instant at which the local clock in ``tz`` shows ``day`` ``handoff``."""
    naive = datetime.combine(day, handoff.replace(tzinfo=None, fold=0))
    after = naive.replace(tzinfo=tz).astimezone(UTC)  # fold=0: first occurrence if ambiguous
    if after.astimezone(tz).replace(tzinfo=None) == naive:
        return after
    # In a gap: fold=1 applies the post-transition offset, landing before the transition;
    # bisect down to the microsecond for the first instant whose local time is >= naive.
    before = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    lo, hi = 0, (after - before) // _MICROSECOND
    while hi - lo > 1:
        mid = (lo + hi) // 2
        local = (before + mid * _MICROSECOND).astimezone(tz).replace(tzinfo=None)
        lo, hi = (lo, mid) if local >= naive else (mid, hi)
    return before + hi * _MICROSECOND


class _Schedule:
    """Shift boundaries and override pieces of a validated rotation."""

    def __init__(self, rotation: Rotation) -> None:
        problems = validate_rotation(rotation)
        if problems:
            raise ValueError("; ".join(problems))
        self.rotation = rotation
        self.tz = ZoneInfo(rotation.timezone)
        self.custom = rotation.shift if isinstance(rotation.shift, timedelta) else None
        self.step_days = 7 if rotation.shift == "weekly" else 1
        self.first_day = rotation.anchor
        if rotation.shift == "weekly" and rotation.handoff_weekday is not None:
            lag = (rotation.handoff_weekday - rotation.anchor.weekday()) % 7
            self.first_day += timedelta(days=lag)
        self.origin = wall_to_utc(self.first_day, rotation.handoff, self.tz)
        self.bounds: list[datetime] = []
        self.holders: list[str] = []
        if rotation.calendar is not None:
            self._lay_out(rotation.calendar)

    def _lay_out(self, slots: tuple[CalendarSlot, ...]) -> None:
        """Calendar shifts with the gaps between them given to the fallback: shift ``k``
        runs from ``bounds[k]`` to ``bounds[k + 1]``."""
        fallback = self.rotation.members[0]
        at = EARLIEST
        for slot in slots:
            start, end = slot.start.astimezone(UTC), slot.end.astimezone(UTC)
            if start > at:
                self.bounds.append(at)
                self.holders.append(fallback)
            self.bounds.append(start)
            self.holders.append(slot.user)
            at = end
        if at < LATEST:
            self.bounds.append(at)
            self.holders.append(fallback)
        self.bounds.append(LATEST)

    def exhausted(self, k: int) -> bool:
        """Past a calendar rotation's last shift (periodic rotations never end)."""
        return bool(self.holders) and k >= len(self.holders)

    def member(self, k: int) -> str:
        if self.holders:
            return self.holders[k]
        members = self.rotation.members
        return members[k % len(members)]

    def start(self, k: int) -> datetime:
        """Start (UTC) of scheduled shift ``k``; shift 0 begins at the anchor."""
        if self.holders:
            return self.bounds[min(max(k, 0), len(self.bounds) - 1)]
        if self.custom is not None:
            return self.origin + k * self.custom
        day = self.first_day + timedelta(days=k * self.step_days)
        return wall_to_utc(day, self.rotation.handoff, self.tz)

    def index_at(self, at: datetime) -> int:
        """Number of the scheduled shift containing ``at``."""
        if self.holders:
            return min(max(bisect_right(self.bounds, at) - 1, 0), len(self.holders) - 1)
        nominal = self.custom or timedelta(days=self.step_days)
        k = (at - self.origin) // nominal
        while self.start(k) > at:
            k -= 1
        while self.start(k + 1) <= at:
            k += 1
        return k

    def pieces(self, k: int) -> list[Shift]:
        """Scheduled shift ``k`` cut into pieces by the overrides that apply to it."""
        if self.exhausted(k) or (k < 0 and self.holders):
            return []
        member = self.member(k)
        begin, finish = self.start(k), self.start(k + 1)
        applicable = [
            (max(o.start.astimezone(UTC), begin), min(o.end.astimezone(UTC), finish), o)
            for o in self.rotation.overrides
            if o.covers in (None, member) and o.start < finish and o.end > begin
        ]
        cuts = sorted({begin, finish}.union(*({s, e} for s, e, _ in applicable)))
        pieces: list[Shift] = []
        for lo, hi in pairwise(cuts):
            winner = next((o for s, e, o in reversed(applicable) if s <= lo and hi <= e), None)
            if pieces and pieces[-1].override is winner:
                last = pieces.pop()
                pieces.append(Shift(last.user, last.start, hi, member, winner))
                continue
            user = member if winner is None else winner.user
            pieces.append(Shift(user=user, start=lo, end=hi, scheduled=member, override=winner))
        return pieces
