"""On-call rotations: wall-clock hand-offs across DST, custom shifts, overrides, validation.

Time is always passed in; every datetime below is fixed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest

from escalation.oncall import (
    Override,
    Rotation,
    Shift,
    handoffs_between,
    next_shifts,
    on_call,
    shifts_between,
    validate_rotation,
)

ALICE = "U0ALICE"
BOB = "U0BOB"
CAROL = "U0CAROL"
DAVE = "U0DAVE"
ERIN = "U0ERIN"

H = timedelta(hours=1)
US = timedelta(microseconds=1)
BERLIN = ZoneInfo("Europe/Berlin")


def utc(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# Anchor Monday 2026-01-05; hand-off 09:00 UTC.
DAILY = Rotation(
    name="primary",
    members=(ALICE, BOB, CAROL),
    timezone="UTC",
    handoff=time(9, 0),
    shift="daily",
    anchor=date(2026, 1, 5),
)


# --- the rotation walks ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "user", "start"),
    [
        (utc(1, 5, 9), ALICE, utc(1, 5, 9)),
        (utc(1, 5, 20), ALICE, utc(1, 5, 9)),
        (utc(1, 6, 10), BOB, utc(1, 6, 9)),
        (utc(1, 7, 9), CAROL, utc(1, 7, 9)),
        (utc(1, 8, 12), ALICE, utc(1, 8, 9)),
        (utc(1, 9, 8, 59), ALICE, utc(1, 8, 9)),
        (utc(3, 1, 9), BOB, utc(3, 1, 9)),  # shift 55: 55 % 3 == 1
    ],
)
def test_daily_rotation_of_three_walks_members_in_order(
    at: datetime, user: str, start: datetime
) -> None:
    shift = on_call(DAILY, at=at)
    assert (shift.user, shift.scheduled, shift.start, shift.end) == (
        user,
        user,
        start,
        start + 24 * H,
    )
    assert shift.override is None


@pytest.mark.parametrize(
    ("at", "user", "start"),
    [
        (utc(1, 5, 8, 59), CAROL, utc(1, 4, 9)),
        (utc(1, 4, 9), CAROL, utc(1, 4, 9)),
        (utc(1, 3, 9), BOB, utc(1, 3, 9)),
        (utc(1, 2, 23), ALICE, utc(1, 2, 9)),
        (utc(12, 1, 12, year=2025), BOB, utc(12, 1, 9, year=2025)),  # shift -35: -35 % 3 == 1
    ],
)
def test_rotation_extends_backwards_before_the_anchor(
    at: datetime, user: str, start: datetime
) -> None:
    shift = on_call(DAILY, at=at)
    assert (shift.user, shift.start) == (user, start)


@pytest.mark.parametrize(
    ("handoff_weekday", "at", "user", "start"),
    [
        (None, utc(1, 5, 9), ALICE, utc(1, 5, 9)),  # default: the anchor's weekday (Monday)
        (None, utc(1, 11, 23), ALICE, utc(1, 5, 9)),  # Sunday: still Alice's week
        (None, utc(1, 12, 9), BOB, utc(1, 12, 9)),
        (None, utc(1, 19, 9), CAROL, utc(1, 19, 9)),
        (None, utc(1, 26, 8, 59), CAROL, utc(1, 19, 9)),
        (2, utc(1, 7, 9), ALICE, utc(1, 7, 9)),  # Wednesday: first one on/after the anchor
        (2, utc(1, 6, 12), CAROL, utc(12, 31, 9, year=2025)),  # before shift 0
        (2, utc(1, 14, 9), BOB, utc(1, 14, 9)),
    ],
)
def test_weekly_rotation_hands_off_on_the_weekday(
    handoff_weekday: int | None, at: datetime, user: str, start: datetime
) -> None:
    rotation = replace(DAILY, shift="weekly", handoff_weekday=handoff_weekday)
    shift = on_call(rotation, at=at)
    assert (shift.user, shift.start, shift.end) == (user, start, start + 7 * 24 * H)
    assert shift.start.weekday() == (0 if handoff_weekday is None else handoff_weekday)


@pytest.mark.parametrize(
    ("at", "user"),
    [
        (utc(1, 6, 8), BOB),  # 09:00 CET, exactly at the hand-off: the new person
        (utc(1, 6, 8) - US, ALICE),  # one microsecond before: still the old person
    ],
)
def test_handoff_instant_belongs_to_the_new_person(at: datetime, user: str) -> None:
    rotation = replace(DAILY, timezone="Europe/Berlin")
    assert on_call(rotation, at=at).user == user


def test_at_in_any_timezone_means_the_same_instant() -> None:
    local = datetime(2026, 1, 6, 9, 0, tzinfo=BERLIN)  # 08:00 UTC
    rotation = replace(DAILY, timezone="Europe/Berlin")
    assert on_call(rotation, at=local) == on_call(rotation, at=utc(1, 6, 8))
    assert on_call(rotation, at=local).start.tzinfo is UTC


# --- wall-clock hand-offs across DST --------------------------------------------------------


@pytest.mark.parametrize(
    ("timezone", "local_day", "start", "hours"),
    [
        # Europe/Berlin: CET (+1) -> CEST (+2) on 2026-03-29, back on 2026-10-25.
        ("Europe/Berlin", date(2026, 3, 28), utc(3, 28, 8), 23),
        ("Europe/Berlin", date(2026, 3, 29), utc(3, 29, 7), 24),
        ("Europe/Berlin", date(2026, 10, 24), utc(10, 24, 7), 25),
        ("Europe/Berlin", date(2026, 10, 25), utc(10, 25, 8), 24),
        # America/New_York: EST (-5) -> EDT (-4) on 2026-03-08, back on 2026-11-01.
        ("America/New_York", date(2026, 3, 7), utc(3, 7, 14), 23),
        ("America/New_York", date(2026, 3, 8), utc(3, 8, 13), 24),
        ("America/New_York", date(2026, 10, 31), utc(10, 31, 13), 25),
        ("America/New_York", date(2026, 11, 1), utc(11, 1, 14), 24),
        # Australia/Sydney (southern hemisphere): AEDT (+11) -> AEST (+10) on 2026-04-05,
        # forward again on 2026-10-04. 09:00 local is the previous day in UTC.
        ("Australia/Sydney", date(2026, 4, 4), utc(4, 3, 22), 25),
        ("Australia/Sydney", date(2026, 4, 5), utc(4, 4, 23), 24),
        ("Australia/Sydney", date(2026, 10, 3), utc(10, 2, 23), 23),
        ("Australia/Sydney", date(2026, 10, 4), utc(10, 3, 22), 24),
    ],
)
def test_daily_0900_hands_off_at_local_wall_clock_across_dst(
    timezone: str, local_day: date, start: datetime, hours: int
) -> None:
    rotation = replace(DAILY, timezone=timezone, anchor=date(2026, 1, 1))
    shift = on_call(rotation, at=start)
    assert shift.start == start
    assert shift.end - shift.start == hours * H
    assert shift.start.astimezone(ZoneInfo(timezone)).date() == local_day
    assert shift.start.astimezone(ZoneInfo(timezone)).time() == time(9, 0)


def test_handoff_inside_spring_forward_gap_uses_first_instant_after_the_gap() -> None:
    # 02:30 does not exist in Berlin on 2026-03-29: clocks jump from 02:00 CET to 03:00 CEST.
    rotation = replace(DAILY, timezone="Europe/Berlin", handoff=time(2, 30))
    before, gap_day, after = next_shifts(rotation, at=utc(3, 28, 1, 30), count=3)
    assert gap_day.start == utc(3, 29, 1)  # 03:00 CEST, the transition itself
    assert gap_day.start.astimezone(BERLIN).time() == time(3, 0)
    assert (before.start, before.end - before.start) == (utc(3, 28, 1, 30), 23.5 * H)
    assert (after.start, gap_day.end - gap_day.start) == (utc(3, 30, 0, 30), 23.5 * H)
    # Not the fold=0 reading (02:30+01:00 = 03:30 CEST): by 03:29 CEST the hand-off happened.
    assert on_call(rotation, at=utc(3, 29, 1, 29)).user == gap_day.user != before.user
    assert on_call(rotation, at=utc(3, 29, 1) - US).user == before.user


def test_ambiguous_fall_back_handoff_uses_the_first_occurrence() -> None:
    # 02:30 happens twice in Berlin on 2026-10-25: first CEST (00:30 UTC), then CET (01:30 UTC).
    rotation = replace(DAILY, timezone="Europe/Berlin", handoff=time(2, 30))
    shift = on_call(rotation, at=utc(10, 25, 1))
    assert shift.start == utc(10, 25, 0, 30)
    assert shift.end - shift.start == 25 * H  # until 02:30 CET on 10-26 (01:30 UTC)
    assert on_call(rotation, at=utc(10, 25, 0, 30) - US).end == utc(10, 25, 0, 30)


def test_skipped_calendar_day_gives_a_short_shift_not_an_empty_one() -> None:
    # Samoa skipped 2011-12-30 entirely: 2011-12-29 23:59:59 -10 -> 2011-12-31 00:00 +14.
    rotation = replace(
        DAILY, timezone="Pacific/Apia", anchor=date(2011, 12, 28), members=(ALICE, BOB, CAROL)
    )
    shifts = next_shifts(rotation, at=utc(12, 29, 19, year=2011), count=3)
    assert [(s.user, s.start, s.end - s.start) for s in shifts] == [
        (BOB, utc(12, 29, 19, year=2011), 15 * H),  # 12-29 09:00 -10
        (CAROL, utc(12, 30, 10, year=2011), 9 * H),  # "12-30 09:00" -> 12-31 00:00 +14
        (ALICE, utc(12, 30, 19, year=2011), 24 * H),  # 12-31 09:00 +14
    ]


# --- custom shift lengths -------------------------------------------------------------------


def test_custom_12h_shifts_are_elapsed_time_not_wall_clock() -> None:
    # Starts 2026-03-28 20:00 CET (19:00 UTC); the DST change does not move later hand-offs.
    rotation = replace(
        DAILY,
        members=(ALICE, BOB),
        timezone="Europe/Berlin",
        handoff=time(20, 0),
        shift=timedelta(hours=12),
        anchor=date(2026, 3, 28),
    )
    shifts = next_shifts(rotation, at=utc(3, 28, 19), count=4)
    assert [(s.user, s.start) for s in shifts] == [
        (ALICE, utc(3, 28, 19)),
        (BOB, utc(3, 29, 7)),  # 09:00 CEST, not 08:00 local
        (ALICE, utc(3, 29, 19)),  # 21:00 CEST
        (BOB, utc(3, 30, 7)),
    ]
    assert all(s.end - s.start == 12 * H for s in shifts)
    assert on_call(rotation, at=utc(3, 28, 19) - US) == Shift(
        user=BOB, start=utc(3, 28, 7), end=utc(3, 28, 19), scheduled=BOB, override=None
    )


# --- overrides ------------------------------------------------------------------------------


def test_override_replaces_whoever_is_on_call_for_its_window() -> None:
    cover = Override(user=DAVE, start=utc(1, 6, 12), end=utc(1, 6, 15))
    rotation = replace(DAILY, overrides=(cover,))
    assert on_call(rotation, at=utc(1, 6, 13)) == Shift(
        user=DAVE, start=utc(1, 6, 12), end=utc(1, 6, 15), scheduled=BOB, override=cover
    )
    assert on_call(rotation, at=utc(1, 6, 15)) == Shift(
        user=BOB, start=utc(1, 6, 15), end=utc(1, 7, 9), scheduled=BOB, override=None
    )


@pytest.mark.parametrize(
    ("at", "user", "scheduled"),
    [
        (utc(1, 5, 12), ERIN, ALICE),
        (utc(1, 6, 12), BOB, BOB),
        (utc(1, 7, 12), CAROL, CAROL),
        (utc(1, 8, 12), ALICE, ALICE),  # the override ended at 01-08 09:00
    ],
)
def test_override_with_covers_applies_only_while_that_member_is_scheduled(
    at: datetime, user: str, scheduled: str
) -> None:
    cover = Override(user=ERIN, start=utc(1, 5, 9), end=utc(1, 8, 9), covers=ALICE)
    shift = on_call(replace(DAILY, overrides=(cover,)), at=at)
    assert (shift.user, shift.scheduled) == (user, scheduled)
    assert shift.override == (cover if user == ERIN else None)


def test_override_in_the_middle_of_a_shift_splits_it_in_next_shifts() -> None:
    cover = Override(user=DAVE, start=utc(1, 6, 12), end=utc(1, 6, 15))
    shifts = next_shifts(replace(DAILY, overrides=(cover,)), at=utc(1, 6, 10), count=4)
    assert shifts == [
        Shift(user=BOB, start=utc(1, 6, 9), end=utc(1, 6, 12), scheduled=BOB, override=None),
        Shift(user=DAVE, start=utc(1, 6, 12), end=utc(1, 6, 15), scheduled=BOB, override=cover),
        Shift(user=BOB, start=utc(1, 6, 15), end=utc(1, 7, 9), scheduled=BOB, override=None),
        Shift(user=CAROL, start=utc(1, 7, 9), end=utc(1, 8, 9), scheduled=CAROL, override=None),
    ]


def test_override_across_a_scheduled_handoff_yields_one_piece_per_scheduled_shift() -> None:
    local = Override(  # given in Berlin time; pieces still come out in UTC
        user=DAVE,
        start=datetime(2026, 1, 6, 1, 0, tzinfo=BERLIN),
        end=datetime(2026, 1, 7, 1, 0, tzinfo=BERLIN),
    )
    shifts = next_shifts(replace(DAILY, overrides=(local,)), at=utc(1, 5, 9), count=4)
    assert [(s.user, s.scheduled, s.start, s.end) for s in shifts] == [
        (ALICE, ALICE, utc(1, 5, 9), utc(1, 6, 0)),
        (DAVE, ALICE, utc(1, 6, 0), utc(1, 6, 9)),
        (DAVE, BOB, utc(1, 6, 9), utc(1, 7, 0)),
        (BOB, BOB, utc(1, 7, 0), utc(1, 7, 9)),
    ]
    assert all(s.start.tzinfo is UTC and s.end.tzinfo is UTC for s in shifts)


LONG = Override(user=DAVE, start=utc(1, 6, 10), end=utc(1, 6, 18))
SHORT = Override(user=ERIN, start=utc(1, 6, 12), end=utc(1, 6, 14))


@pytest.mark.parametrize(
    ("overrides", "pieces"),
    [
        (
            (LONG, SHORT),  # the short one is listed last: it wins inside the long one
            [
                (BOB, utc(1, 6, 9)),
                (DAVE, utc(1, 6, 10)),
                (ERIN, utc(1, 6, 12)),
                (DAVE, utc(1, 6, 14)),
                (BOB, utc(1, 6, 18)),
            ],
        ),
        (
            (SHORT, LONG),  # the long one is listed last: it hides the short one
            [(BOB, utc(1, 6, 9)), (DAVE, utc(1, 6, 10)), (BOB, utc(1, 6, 18))],
        ),
    ],
)
def test_overlapping_overrides_the_last_listed_wins(
    overrides: tuple[Override, ...], pieces: list[tuple[str, datetime]]
) -> None:
    rotation = replace(DAILY, overrides=overrides)
    shifts = next_shifts(rotation, at=utc(1, 6, 9), count=len(pieces) + 1)
    assert [(s.user, s.start) for s in shifts[:-1]] == pieces
    assert shifts[-1].start == utc(1, 7, 9)
    assert all(a.end == b.start for a, b in pairwise(shifts))


def test_next_shifts_starts_with_the_current_shift_and_honours_count() -> None:
    shifts = next_shifts(DAILY, at=utc(1, 6, 20), count=3)
    assert [(s.user, s.start) for s in shifts] == [
        (BOB, utc(1, 6, 9)),
        (CAROL, utc(1, 7, 9)),
        (ALICE, utc(1, 8, 9)),
    ]
    assert next_shifts(DAILY, at=utc(1, 6, 20), count=0) == []


# --- hand-off notices -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "starts"),
    [
        # (start, end]: the shift starting exactly at `start` is excluded, at `end` included.
        (
            utc(1, 6, 9),
            utc(1, 8, 9),
            [
                (DAVE, utc(1, 6, 12)),
                (BOB, utc(1, 6, 15)),
                (CAROL, utc(1, 7, 9)),
                (ALICE, utc(1, 8, 9)),
            ],
        ),
        (utc(1, 6, 8, 59), utc(1, 6, 12), [(BOB, utc(1, 6, 9)), (DAVE, utc(1, 6, 12))]),
        (utc(1, 7, 9), utc(1, 8, 9) - US, []),
        (utc(1, 7, 9), utc(1, 7, 9), []),
        (utc(1, 8, 9), utc(1, 7, 9), []),  # an inverted window holds nothing
    ],
)
def test_handoffs_between_lists_exactly_the_shift_starts_in_the_window(
    start: datetime, end: datetime, starts: list[tuple[str, datetime]]
) -> None:
    cover = Override(user=DAVE, start=utc(1, 6, 12), end=utc(1, 6, 15))
    shifts = handoffs_between(replace(DAILY, overrides=(cover,)), start=start, end=end)
    assert [(s.user, s.start) for s in shifts] == starts


def test_handoffs_between_follows_the_wall_clock_across_dst() -> None:
    rotation = replace(DAILY, timezone="Europe/Berlin")
    shifts = handoffs_between(rotation, start=utc(3, 28, 0), end=utc(3, 31, 0))
    assert [s.start for s in shifts] == [utc(3, 28, 8), utc(3, 29, 7), utc(3, 30, 7)]


def test_shifts_between_lists_every_piece_overlapping_the_window_uncut() -> None:
    cover = Override(user=DAVE, start=utc(1, 6, 12), end=utc(1, 6, 15))
    shifts = shifts_between(replace(DAILY, overrides=(cover,)), start=utc(1, 6, 13), end=utc(1, 8))
    assert [(s.user, s.start, s.end) for s in shifts] == [
        (DAVE, utc(1, 6, 12), utc(1, 6, 15)),  # begins before the window: kept whole
        (BOB, utc(1, 6, 15), utc(1, 7, 9)),
        (CAROL, utc(1, 7, 9), utc(1, 8, 9)),  # ends after the window: kept whole
    ]


@pytest.mark.parametrize(
    ("start", "end", "count"),
    [
        (utc(1, 6, 9), utc(1, 6, 9), 0),  # an empty window
        (utc(1, 7, 9), utc(1, 6, 9), 0),  # an inverted one
        (utc(1, 6, 8), utc(1, 6, 9), 1),  # ends at a hand-off: the next shift is not in it
        (utc(1, 6, 9), utc(1, 6, 9) + US, 1),
    ],
)
def test_shifts_between_treats_the_window_as_half_open(
    start: datetime, end: datetime, count: int
) -> None:
    assert len(shifts_between(DAILY, start=start, end=end)) == count


def test_shifts_between_matches_next_shifts_over_a_long_window() -> None:
    rotation = replace(DAILY, timezone="Europe/Berlin")
    shifts = shifts_between(rotation, start=utc(3, 1), end=utc(6, 1))
    assert shifts == next_shifts(rotation, at=utc(3, 1), count=len(shifts))
    assert shifts[-1].start < utc(6, 1) <= shifts[-1].end


# --- validation -----------------------------------------------------------------------------

NAIVE = datetime(2026, 1, 6, 12, 0)  # deliberately naive


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"members": ()}, "rotation 'primary' has no members"),
        ({"members": (ALICE, "")}, "rotation 'primary' has an empty member id"),
        ({"name": " "}, "rotation has no name"),
        ({"timezone": "Mars/Olympus"}, "rotation 'primary': unknown timezone 'Mars/Olympus'"),
        ({"timezone": ""}, "rotation 'primary': unknown timezone ''"),
        ({"handoff": time(9, 0, tzinfo=UTC)}, "handoff must be a naive local time"),
        ({"shift": timedelta(minutes=30)}, "custom shift 0:30:00 is shorter than 1 hour"),
        ({"shift": cast(Any, "monthly")}, "shift must be 'daily', 'weekly' or a timedelta"),
        ({"shift": "weekly", "handoff_weekday": 7}, "must be 0 (Monday) to 6 (Sunday), not 7"),
        ({"handoff_weekday": 2}, "handoff_weekday only applies to weekly rotations"),
        (
            {"overrides": (Override(user=DAVE, start=utc(1, 6, 12), end=utc(1, 6, 12)),)},
            "override 1 (U0DAVE): end 2026-01-06T12:00:00+00:00 is not after start",
        ),
        (
            {"overrides": (Override(user=DAVE, start=NAIVE, end=utc(1, 6, 15)),)},
            "override 1 (U0DAVE): start 2026-01-06 12:00:00 has no timezone",
        ),
        (
            {"overrides": (Override(user="", start=utc(1, 6, 12), end=utc(1, 6, 15)),)},
            "override 1 (?): no user",
        ),
        (
            {"overrides": (Override(DAVE, utc(1, 6, 12), utc(1, 6, 15), covers=ERIN),)},
            "covers 'U0ERIN', who is not a member",
        ),
    ],
)
def test_validate_rotation_reports_each_problem(changes: dict[str, Any], message: str) -> None:
    problems = validate_rotation(replace(DAILY, **changes))
    assert len(problems) == 1
    assert message in problems[0]


def test_validate_rotation_accepts_a_good_rotation_and_reports_all_problems_at_once() -> None:
    assert validate_rotation(DAILY) == []
    assert validate_rotation(replace(DAILY, shift="weekly", handoff_weekday=6)) == []
    assert validate_rotation(replace(DAILY, shift=timedelta(hours=1))) == []
    bad = replace(DAILY, members=(), timezone="Nowhere/Town", shift=timedelta(0))
    assert len(validate_rotation(bad)) == 3


def test_invalid_rotation_is_refused_with_its_problems() -> None:
    with pytest.raises(ValueError, match="unknown timezone 'Nowhere/Town'"):
        on_call(replace(DAILY, timezone="Nowhere/Town"), at=utc(1, 6, 12))
    with pytest.raises(ValueError, match="has no members"):
        handoffs_between(replace(DAILY, members=()), start=utc(1, 6), end=utc(1, 7))


@pytest.mark.parametrize(
    "call",
    [
        lambda: on_call(DAILY, at=NAIVE),
        lambda: next_shifts(DAILY, at=NAIVE, count=1),
        lambda: handoffs_between(DAILY, start=NAIVE, end=utc(1, 7)),
        lambda: handoffs_between(DAILY, start=utc(1, 6), end=NAIVE),
        lambda: shifts_between(DAILY, start=NAIVE, end=utc(1, 7)),
        lambda: shifts_between(DAILY, start=utc(1, 6), end=NAIVE),
    ],
)
def test_naive_datetimes_are_refused(call: Any) -> None:
    with pytest.raises(ValueError, match="must be timezone-aware"):
        call()


def test_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="count must not be negative"):
        next_shifts(DAILY, at=utc(1, 6), count=-1)
