"""Zone offsets over a period, and local days by arithmetic: the same answers as astimezone."""

from __future__ import annotations

import importlib
import random
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import pairwise
from zoneinfo import ZoneInfo, available_timezones

import pytest

from escalation.review import zone_spans as zone_spans_module
from escalation.review.period import LONGEST
from escalation.review.zone_spans import LocalDays, zone_spans

SINCE = datetime(2026, 10, 10, tzinfo=UTC)
UNTIL = datetime(2026, 11, 10, tzinfo=UTC)


@pytest.mark.parametrize(("zone", "offset"), [("UTC", 0), ("Asia/Kolkata", 19800)])
def test_a_zone_without_daylight_saving_has_one_offset_over_the_period(
    zone: str, offset: int
) -> None:
    spans = zone_spans(ZoneInfo(zone), SINCE, UNTIL)
    assert spans.offsets == (offset,)
    assert spans.starts[0] <= SINCE.timestamp() - 86400
    assert spans.end >= UNTIL.timestamp() + 86400


@pytest.mark.parametrize(
    ("zone", "change", "before", "after"),
    [
        ("Europe/Berlin", datetime(2026, 10, 25, 1, tzinfo=UTC), 7200, 3600),
        ("America/New_York", datetime(2026, 11, 1, 6, tzinfo=UTC), -14400, -18000),
    ],
)
def test_the_daylight_saving_change_is_found_to_the_second(
    zone: str, change: datetime, before: int, after: int
) -> None:
    spans = zone_spans(ZoneInfo(zone), SINCE, UNTIL)
    assert spans.transitions() == [(int(change.timestamp()), after)]
    assert spans.offsets[0] == before
    assert spans.offset_at(change.timestamp() - 1) == before
    assert spans.offset_at(change.timestamp()) == after


def _instants(zone: ZoneInfo, rng: random.Random) -> list[float]:
    """Random instants, and instants a hair either side of each local midnight and of each
    transition (where float seconds and microsecond rounding disagree)."""
    spans = zone_spans(zone, SINCE, UNTIL)
    edges = [float(at) for at, _ in spans.transitions()]
    day = datetime.combine(SINCE.astimezone(zone).date(), datetime.min.time(), zone)
    while day < UNTIL:
        edges.append(day.timestamp())
        day = datetime.combine(day.date() + timedelta(days=1), datetime.min.time(), zone)
    found = [rng.uniform(SINCE.timestamp(), UNTIL.timestamp()) for _ in range(2000)]
    for edge in edges:
        found += [edge + d for d in (0, -1e-7, 1e-7, -4e-7, -6e-7, 6e-7, -2e-3, 2e-3, -1, 1)]
    return found


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "Asia/Kolkata", "America/New_York"])
def test_local_days_agree_with_astimezone_everywhere_including_the_edges(name: str) -> None:
    zone = ZoneInfo(name)
    days = LocalDays(zone_spans(zone, SINCE, UNTIL))
    for epoch in _instants(zone, random.Random(3)):
        expected = datetime.fromtimestamp(epoch, UTC).astimezone(zone).date().toordinal()
        assert days.ordinal(epoch) == expected, epoch


def test_an_instant_outside_the_spans_still_gets_its_day() -> None:
    zone = ZoneInfo("Europe/Berlin")
    days = LocalDays(zone_spans(zone, SINCE, UNTIL))
    far = datetime(2027, 7, 1, 23, 30, tzinfo=UTC)  # 01:30 on the 2nd in Berlin (summer)
    assert days.ordinal(far.timestamp()) == datetime(2027, 7, 2).toordinal()


def _hourly_spans(zone: ZoneInfo, since: datetime, until: datetime) -> list[tuple[int, int]]:
    """The reference: the offset sampled every hour, each change bisected to the second."""
    first, last = int(since.timestamp()) - 86400, int(until.timestamp()) + 86400
    found = [(first, zone_spans_module._offset(zone, first))]
    for at in range(first, last, 3600):
        step = min(at + 3600, last)
        if zone_spans_module._offset(zone, step) != found[-1][1]:
            low, high = at, step
            while high - low > 1:
                middle = (low + high) // 2
                if zone_spans_module._offset(zone, middle) == found[-1][1]:
                    low = middle
                else:
                    high = middle
            found.append((high, zone_spans_module._offset(zone, high)))
    return found


def test_the_longest_period_samples_a_few_hundred_offsets_not_one_an_hour(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = 0
    offset = zone_spans_module._offset

    def counted(zone: tzinfo, epoch: int) -> int:
        nonlocal calls
        calls += 1
        return offset(zone, epoch)

    monkeypatch.setattr(zone_spans_module, "_offset", counted)
    since = datetime(2025, 10, 6, tzinfo=UTC)
    spans = zone_spans(ZoneInfo("Europe/Berlin"), since, since + LONGEST)
    assert len(spans.transitions()) == 3  # Oct 2025, Mar 2026, Oct 2026
    assert calls < 600  # 402 days sampled, ~17 bisection steps per change; hourly was 9,700


@pytest.mark.parametrize(
    ("name", "since"),
    [
        ("Pacific/Apia", datetime(2011, 3, 1, tzinfo=UTC)),  # skipped 30 Dec 2011 (+24 h)
        ("Europe/Moscow", datetime(2010, 6, 1, tzinfo=UTC)),  # permanent summer time in 2011
        ("Australia/Lord_Howe", datetime(2025, 6, 1, tzinfo=UTC)),  # 30-minute daylight saving
        ("Antarctica/Troll", datetime(2025, 6, 1, tzinfo=UTC)),  # two hours of daylight saving
        ("America/Asuncion", datetime(2024, 6, 1, tzinfo=UTC)),  # changed rules in 2024
        ("Asia/Gaza", datetime(2040, 1, 1, tzinfo=UTC)),  # Ramadan changes a week apart
    ],
)
def test_daily_sampling_finds_the_same_changes_as_hourly_sampling(
    name: str, since: datetime
) -> None:
    zone = ZoneInfo(name)
    spans = zone_spans(zone, since, since + LONGEST)
    assert list(zip(spans.starts, spans.offsets, strict=True)) == _hourly_spans(
        zone, since, since + LONGEST
    )


def test_no_zone_changes_its_offset_twice_within_a_sample_since_1970() -> None:
    """What daily sampling relies on, checked against the installed tz database: the explicit
    transitions of every zone since 1970 are further apart than a sample."""
    pure = importlib.import_module("zoneinfo._zoneinfo").ZoneInfo  # lists its transitions
    closest = min(
        (later - earlier, name)
        for name in available_timezones()
        for earlier, later in pairwise(t for t in pure.no_cache(name)._trans_utc if t >= 0)
    )
    assert closest[0] > zone_spans_module.SAMPLE_S, closest
