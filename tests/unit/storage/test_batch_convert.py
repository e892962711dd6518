"""storage.batch.convert_column: each distinct value converted once, and never two values a
column's processor could tell apart taken for one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from storage.batch import convert_column

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def convert(values: list[Any]) -> tuple[list[Any], list[Any]]:
    seen: list[Any] = []

    def process(value: Any) -> Any:
        seen.append(value)
        return ("converted", repr(value))

    return convert_column(values, process), seen


def test_none_stays_none_and_is_not_converted() -> None:
    out, seen = convert([None, NOW, None])
    assert out == [None, ("converted", repr(NOW)), None]
    assert seen == [NOW]


def test_one_object_in_every_row_is_converted_once() -> None:
    out, seen = convert([NOW] * 5)
    assert out == [("converted", repr(NOW))] * 5
    assert seen == [NOW]


def test_equal_times_in_the_same_zone_are_converted_once() -> None:
    due = [NOW + timedelta(seconds=600) for _ in range(4)]  # equal values, distinct objects
    out, seen = convert([*due, NOW])
    assert len(seen) == 2
    assert out[:4] == [("converted", repr(due[0]))] * 4


def test_equal_instants_in_other_zones_or_folds_are_converted_each() -> None:
    paris = NOW.astimezone(timezone(timedelta(hours=1), "CET"))
    other_utc = NOW.astimezone(timezone(timedelta(0), "Z"))  # equal, another tzinfo object
    new_york = ZoneInfo("America/New_York")
    first = datetime(2026, 11, 1, 1, 30, tzinfo=new_york)  # the hour that repeats
    second = first.replace(fold=1)  # compares equal to ``first``, an hour later
    values = [NOW, paris, other_utc, first, second]

    out, seen = convert(values)

    assert seen == values
    assert out == [("converted", repr(v)) for v in values]


def test_other_values_are_taken_for_one_only_when_they_are_the_same_object() -> None:
    shared: dict[str, Any] = {"tier": 1}
    equal_but_another = {"tier": 1}
    out, seen = convert([shared, shared, equal_but_another, True, 1])
    assert seen == [shared, equal_but_another, True, 1]
    assert out[0] is out[1]


def test_equal_strings_are_converted_once() -> None:
    text = "2026-11-21 12:00:00.000000"
    rows = ["".join(text), "".join(list(text)), "2026-11-21 12:10:00.000000"]  # 2 equal, apart
    assert rows[0] is not rows[1]

    out, seen = convert(rows)

    assert seen == [text, "2026-11-21 12:10:00.000000"]
    assert out == [("converted", repr(text))] * 2 + [("converted", repr(rows[2]))]
