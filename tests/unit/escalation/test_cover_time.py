"""escalation.cover_time: periods typed as people type them, in the rotation's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from escalation.cover_time import PeriodError, parse_period

BERLIN = "Europe/Berlin"
# Wednesday 2026-12-02, 10:30 in Berlin (CET, UTC+1)
NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


def period(text: str, *, now: datetime = NOW, tz: str = BERLIN) -> tuple[datetime, datetime]:
    found = parse_period(text.split(), now=now, timezone=tz)
    return found.start, found.end


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_tomorrow_at_a_time_for_a_day_is_read_in_the_rotations_zone() -> None:
    assert period("tomorrow 09:00 for 1d") == (utc(2026, 12, 3, 8), utc(2026, 12, 4, 8))


def test_a_weekday_is_the_next_one_and_until_a_weekday_comes_after_the_start() -> None:
    # fri 18:00 CET = 17:00 UTC; the Monday after it, 09:00 CET = 08:00 UTC
    assert period("fri 18:00 until mon 09:00") == (utc(2026, 12, 4, 17), utc(2026, 12, 7, 8))


def test_todays_weekday_counts_while_that_time_is_ahead_and_else_means_next_week() -> None:
    assert period("wed 18:00 for 1h")[0] == utc(2026, 12, 2, 17)
    assert period("wed 08:00 for 1h")[0] == utc(2026, 12, 9, 7)


def test_weekdays_may_be_spelt_out() -> None:
    assert period("friday 18:00 for 2h") == period("fri 18:00 for 2h")


def test_a_date_alone_is_the_start_of_that_day() -> None:
    assert period("2026-12-24 until 2026-12-27") == (utc(2026, 12, 23, 23), utc(2026, 12, 26, 23))


def test_a_date_with_a_time_and_an_end_without_until() -> None:
    assert period("2026-12-24 18:00 2026-12-25 09:00") == (
        utc(2026, 12, 24, 17),
        utc(2026, 12, 25, 8),
    )


def test_now_and_a_time_alone() -> None:
    assert period("now until 18:00") == (NOW, utc(2026, 12, 2, 17))


def test_durations_add_up() -> None:
    start, end = period("tomorrow 09:00 for 1d12h30m")
    assert end - start == timedelta(days=1, hours=12, minutes=30)
    start, end = period("tomorrow 09:00 for 2w")
    assert end - start == timedelta(days=14)


def test_a_day_across_the_spring_change_keeps_the_wall_clock_time() -> None:
    now = utc(2026, 3, 27, 12)
    start, end = period("2026-03-28 09:00 for 1d", now=now)
    assert (start, end) == (utc(2026, 3, 28, 8), utc(2026, 3, 29, 7))
    assert end - start == timedelta(hours=23)


def test_hours_across_the_autumn_change_are_elapsed_time() -> None:
    now = utc(2026, 10, 20, 12)
    start, end = period("2026-10-24 22:00 for 12h", now=now)
    assert end - start == timedelta(hours=12)
    assert end == utc(2026, 10, 25, 8)  # 09:00 CET, not 10:00 CEST-shifted


def test_a_local_time_in_the_spring_gap_is_the_first_instant_after_it() -> None:
    now = utc(2026, 3, 27, 12)
    start, _ = period("2026-03-29 02:30 for 1h", now=now)
    assert start == utc(2026, 3, 29, 1)  # 03:00 CEST, when the clock jumps


def test_an_ambiguous_autumn_time_is_its_first_occurrence() -> None:
    now = utc(2026, 10, 20, 12)
    start, _ = period("2026-10-25 02:30 for 1h", now=now)
    assert start == utc(2026, 10, 25, 0, 30)  # 02:30 CEST


def test_another_zone_reads_the_same_words_differently() -> None:
    start, _ = period("tomorrow 09:00 for 1d", tz="America/New_York")
    assert start == utc(2026, 12, 3, 14)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "No period given"),
        ("tomorrow", "no end"),
        ("tomorrow for", "one duration"),
        ("tomorrow for 3x", "not a duration"),
        ("tomorrow for 0d", "zero"),
        ("soonish for 1d", "I do not understand `soonish`"),
        ("2026-02-30 for 1d", "not a date on the calendar"),
        ("tomorrow until fri 09:00 please", "`please`"),
        ("tomorrow 25:00 for 1h", "`25:00`"),
    ],
)
def test_bad_periods_are_refused_with_a_sentence(text: str, says: str) -> None:
    with pytest.raises(PeriodError, match=None) as error:
        period(text)
    assert says in str(error.value)


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_period(["now", "for", "1h"], now=datetime(2026, 1, 1), timezone=BERLIN)


def test_a_period_past_the_end_of_the_calendar_is_refused_not_crashed() -> None:
    with pytest.raises(PeriodError, match="beyond the calendar"):
        period("9999-12-31 for 2w")
