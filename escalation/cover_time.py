"""Periods typed as people type them, for ``/tocsin cover``: pure, the current time passed in.

A period is ``<from> <to>`` where ``<to>`` is ``until <when>``, ``for <duration>`` or just
``<when>``. A ``<when>`` is read in the rotation's time zone:

* ``now``;
* ``today``, ``tomorrow``, a weekday (``mon`` … ``sun``, or spelt out), or a date
  ``YYYY-MM-DD`` — each optionally followed by a time ``HH:MM`` (alone: midnight, the start of
  that day);
* a time ``HH:MM`` alone: today at that time.

A weekday is the next such day: for ``<from>`` today counts while that moment is still ahead
of now; for ``<to>`` it is the next such day after ``<from>``. A duration is ``30m``, ``12h``,
``3d``, ``1w`` or a sum like ``1d12h``; days and weeks keep the wall-clock time across a DST
change (``for 1d`` from 09:00 ends at 09:00), hours and minutes are elapsed time.

Local times are turned into instants as the hand-offs are (escalation.oncall): a time that
does not exist (the spring-forward gap) is the first instant after the gap, an ambiguous one
(fall-back) is its first occurrence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from escalation.oncall import wall_to_utc

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_DURATION = re.compile(r"(?:\d{1,4}[wdhm])+")
_DURATION_PART = re.compile(r"(\d{1,4})([wdhm])")

USAGE = (
    "Write the period as `<from> until <to>` or `<from> for <duration>`, e.g. "
    "`tomorrow 09:00 for 1d`, `fri 18:00 until mon 09:00`, `2026-12-24 until 2026-12-27`."
)


class PeriodError(ValueError):
    """What is wrong with a typed period, as a sentence fit to show the person."""


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime
    end: datetime
    """Both aware UTC; ``end`` exclusive."""


def parse_period(words: Sequence[str], *, now: datetime, timezone: str) -> Period:
    """The period ``words`` describe, in ``timezone``; raise :class:`PeriodError`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    tokens = [w.strip().lower() for w in words if w.strip()]
    if not tokens:
        raise PeriodError(f"No period given. {USAGE}")
    try:
        return _period(tokens, now=now, tz=ZoneInfo(timezone))
    except OverflowError:
        raise PeriodError("That is beyond the calendar Tocsin can count on.") from None


def _period(tokens: list[str], *, now: datetime, tz: ZoneInfo) -> Period:
    start, rest = _when(tokens, now=now, tz=tz, after=None, what="start")
    if not rest:
        raise PeriodError(f"The period has a start but no end. {USAGE}")
    if rest[0] == "for":
        if len(rest) != 2:
            raise PeriodError(f"`for` takes one duration, like `3d` or `12h`. {USAGE}")
        end = add_duration(start, rest[1], tz=tz)
    else:
        if rest[0] == "until":
            rest = rest[1:]
        end, extra = _when(rest, now=now, tz=tz, after=start, what="end")
        if extra:
            raise PeriodError(f"I do not understand `{' '.join(extra)}`. {USAGE}")
    return Period(start.astimezone(UTC), end.astimezone(UTC))


def add_duration(start: datetime, text: str, *, tz: ZoneInfo) -> datetime:
    """``start`` plus a typed duration: days and weeks on the wall clock, hours elapsed."""
    if not _DURATION.fullmatch(text):
        raise PeriodError(f"`{text}` is not a duration (write it like 30m, 12h, 3d or 1w).")
    days, elapsed = 0, timedelta()
    for count, unit in _DURATION_PART.findall(text):
        n = int(count)
        if unit == "w":
            days += 7 * n
        elif unit == "d":
            days += n
        elif unit == "h":
            elapsed += timedelta(hours=n)
        else:
            elapsed += timedelta(minutes=n)
    if days == 0 and elapsed == timedelta():
        raise PeriodError("A duration of zero is no period at all.")
    end = start
    if days:
        local = start.astimezone(tz)
        end = wall_to_utc(local.date() + timedelta(days=days), local.time(), tz)
    return end + elapsed


def _when(
    tokens: list[str], *, now: datetime, tz: ZoneInfo, after: datetime | None, what: str
) -> tuple[datetime, list[str]]:
    """The instant the first token(s) name, and the tokens left over."""
    if not tokens:
        raise PeriodError(f"The period has no {what}. {USAGE}")
    head, rest = tokens[0], tokens[1:]
    local_now = now.astimezone(tz)
    if head == "now":
        return now.astimezone(UTC), rest
    at: time | None = None
    if rest and _TIME.fullmatch(rest[0]):
        at = _time(rest[0])
    day: date
    if head == "today":
        day = local_now.date()
    elif head == "tomorrow":
        day = local_now.date() + timedelta(days=1)
    elif (weekday := _weekday(head)) is not None:
        base = (after.astimezone(tz) if after is not None else local_now).date()
        day = base + timedelta(days=(weekday - base.weekday()) % 7)
        candidate = wall_to_utc(day, at or time(), tz)
        reference = after if after is not None else now
        if candidate <= reference:
            day += timedelta(days=7)
    elif match := _DATE.fullmatch(head):
        try:
            day = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            raise PeriodError(f"`{head}` is not a date on the calendar.") from None
    elif _TIME.fullmatch(head):
        return wall_to_utc(local_now.date(), _time(head), tz), rest
    else:
        raise PeriodError(
            f"I do not understand `{head}` as the {what} (try `today`, `tomorrow`, `fri`, "
            f"`2026-12-24`, optionally with a time like `18:00`). {USAGE}"
        )
    if at is not None:
        rest = rest[1:]
    return wall_to_utc(day, at or time(), tz), rest


def _time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _weekday(text: str) -> int | None:
    if len(text) < 3:
        return None
    for number, name in enumerate(WEEKDAYS):
        if name.startswith(text):
            return number
    return None
