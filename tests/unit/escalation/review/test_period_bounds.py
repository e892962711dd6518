"""Every report period is bounded in one place: at most 400 days, between 1970 and 9998, so no
request walks centuries or overflows a date (issue 15, item 1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from escalation.review.period import (
    LONGEST,
    LONGEST_DAYS,
    PeriodError,
    check_period,
    parse_period,
)

NOW = datetime(2026, 11, 10, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("0001-01-02..9999-12-30", "between 1970-01-01 and 9998-12-31"),
        ("2026-01-01..9999-12-31", "between 1970-01-01 and 9998-12-31"),
        ("9999-12-31..9999-12-31", "between 1970-01-01 and 9998-12-31"),
        ("0001-01-01..0001-01-01", "between 1970-01-01 and 9998-12-31"),
        ("2000-01-01..2030-12-31", "at most 400 days"),
        ("2025-01-01..2026-02-05", "at most 400 days"),
        ("999999999w", "at most 400 days"),
        ("999999999999d", "at most 400 days"),
        ("401d", "at most 400 days"),
        ("58w", "at most 400 days"),
        ("9601h", "at most 400 days"),
        ("9" * 5000 + "d", "is not a period"),
    ],
)
def test_abusive_periods_are_refused_with_a_clear_error(text: str, words: str) -> None:
    with pytest.raises(PeriodError) as refused:
        parse_period(text, now=NOW)
    assert words in str(refused.value)
    assert len(str(refused.value)) < 200  # a 5,000-digit period is not quoted back whole
    assert isinstance(refused.value, ValueError)  # what every caller already answers


@pytest.mark.parametrize("text", ["400d", "57w", "9600h", "2025-01-01..2026-02-04"])
def test_the_longest_periods_are_allowed(text: str) -> None:
    since, until = parse_period(text, now=NOW)
    assert until - since <= LONGEST


def test_the_earliest_and_latest_days_work_in_any_time_zone() -> None:
    zones = ("Asia/Tokyo", "Pacific/Kiritimati", "Etc/GMT+12", "UTC")
    for zone in map(ZoneInfo, zones):
        since, until = parse_period("1970-01-01..1970-01-31", now=NOW, zone=zone)
        assert until - since == timedelta(days=31)
        since, until = parse_period("9998-12-01..9998-12-31", now=NOW, zone=zone)
        assert until - since == timedelta(days=31)


def test_check_period_says_which_end_is_wrong() -> None:
    with pytest.raises(PeriodError) as early:
        check_period(datetime(1900, 1, 1, tzinfo=UTC), datetime(1900, 2, 1, tzinfo=UTC))
    assert early.value.end is False
    with pytest.raises(PeriodError) as long:
        check_period(NOW - timedelta(days=LONGEST_DAYS + 1), NOW)
    assert long.value.end is True
    check_period(NOW - LONGEST, NOW)
