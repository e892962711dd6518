"""Zone offsets over a period, and local days by arithmetic: the same answers as astimezone."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

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
