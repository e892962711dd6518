"""Storm detection rules: window counting, thresholds, entering and leaving a storm."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from escalation.noise.storm import (
    Change,
    StormRules,
    Traffic,
    arrival_time,
    calm_at,
    observe,
    resumed,
)

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
RULES = StormRules(
    window=timedelta(seconds=10),
    start_above=10,
    calm_at_most=2,
    calm_for=timedelta(seconds=30),
)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def feed(traffic: Traffic, seconds: list[float], *, now: float) -> tuple[Traffic, Change]:
    seen = observe(traffic, [at(s) for s in seconds], now=at(now), rules=RULES)
    return seen.traffic, seen.change


def test_alerts_up_to_the_threshold_within_a_window_are_not_a_storm() -> None:
    traffic, change = feed(Traffic(), [i * 0.5 for i in range(10)], now=5)
    assert change is Change.NONE
    assert not traffic.in_storm
    assert len(traffic.arrivals) == 10


def test_one_alert_past_the_threshold_within_a_window_starts_a_storm() -> None:
    traffic, _ = feed(Traffic(), [i * 0.5 for i in range(10)], now=5)
    traffic, change = feed(traffic, [5.5], now=5.5)
    assert change is Change.STARTED
    assert traffic.storm_since == at(5.5)


def test_a_steady_one_alert_per_second_never_starts_a_storm() -> None:
    traffic = Traffic()
    for second in range(120):
        traffic, change = feed(traffic, [second], now=second)
        assert change is Change.NONE
    assert len(traffic.arrivals) == 10  # the window keeps only the last 10 s (exclusive start)


def test_arrivals_older_than_the_window_are_forgotten() -> None:
    traffic, _ = feed(Traffic(), [0.0] * 8, now=0)
    traffic, change = feed(traffic, [10.5] * 8, now=10.5)
    assert change is Change.NONE
    assert traffic.arrivals == (at(10.5),) * 8


def test_an_alert_still_waiting_to_be_posted_counts_as_arriving_in_the_current_window() -> None:
    assert arrival_time(at(0), now=at(100), window=timedelta(seconds=10)) == at(100)
    assert arrival_time(at(95), now=at(100), window=timedelta(seconds=10)) == at(95)
    # a backlog found at start-up is traffic now, so it starts a storm
    _, change = feed(Traffic(), [0.0] * 11, now=600)
    assert change is Change.STARTED


def test_a_storm_goes_on_while_windows_are_busy() -> None:
    traffic, change = feed(Traffic(), [0.0] * 11, now=0)
    assert change is Change.STARTED
    for second in range(1, 100):
        traffic, change = feed(traffic, [second] * 3, now=second)  # 3 a second > calm_at_most
        assert change is Change.NONE
        assert traffic.in_storm


def test_a_storm_ends_once_calm_for_has_passed_without_a_busy_window() -> None:
    traffic, _ = feed(Traffic(), [0.0] * 11, now=0)
    # the window stays busy until the 3rd newest arrival (at 0 s) leaves it at 10 s
    assert calm_at(traffic, RULES) == at(10 + 30)
    traffic, change = feed(traffic, [], now=39.9)
    assert change is Change.NONE
    traffic, change = feed(traffic, [], now=40)
    assert change is Change.ENDED
    assert not traffic.in_storm


def test_a_trickle_at_or_below_calm_at_most_does_not_keep_a_storm_alive() -> None:
    traffic, _ = feed(Traffic(), [0.0] * 11, now=0)
    change = Change.NONE
    second = 0.0
    while change is not Change.ENDED:
        second += 5
        traffic, change = feed(traffic, [second], now=second)  # 2 per 10 s window
        assert second <= 45
    assert second == 40


def test_a_busy_window_late_in_the_calm_period_restarts_the_calm_count() -> None:
    traffic, _ = feed(Traffic(), [0.0] * 11, now=0)
    traffic, _ = feed(traffic, [35.0] * 3, now=35)  # busy again until 45
    traffic, change = feed(traffic, [], now=41)
    assert change is Change.NONE
    assert calm_at(traffic, RULES) == at(45 + 30)
    _, change = feed(traffic, [], now=75)
    assert change is Change.ENDED


def test_after_a_storm_the_threshold_applies_afresh() -> None:
    traffic, _ = feed(Traffic(), [0.0] * 11, now=0)
    traffic, change = feed(traffic, [], now=40)
    assert change is Change.ENDED
    traffic, change = feed(traffic, [50.0] * 10, now=50)
    assert change is Change.NONE
    _, change = feed(traffic, [50.5], now=50.5)
    assert change is Change.STARTED


def test_a_storm_resumed_from_storage_lasts_at_least_calm_for() -> None:
    traffic = resumed(since=at(-600), now=at(0))
    assert traffic.in_storm
    traffic, change = feed(traffic, [], now=29)
    assert change is Change.NONE
    _, change = feed(traffic, [], now=30)
    assert change is Change.ENDED


def test_disabled_rules_never_start_a_storm_and_end_one_going_on() -> None:
    off = StormRules(
        window=RULES.window, start_above=1, calm_at_most=0, calm_for=RULES.calm_for, enabled=False
    )
    seen = observe(Traffic(), [at(0)] * 100, now=at(0), rules=off)
    assert seen.change is Change.NONE
    seen = observe(resumed(since=at(0), now=at(0)), [], now=at(1), rules=off)
    assert seen.change is Change.ENDED


@pytest.mark.parametrize(
    ("window", "start_above", "calm_at_most", "calm_for", "problem"),
    [
        (0, 10, 2, 30, "window"),
        (10, 0, 0, 30, "start_above"),
        (10, 5, 6, 30, "calm_at_most"),
        (10, 5, 2, -1, "calm_for"),
    ],
)
def test_inconsistent_rules_are_refused(
    window: int, start_above: int, calm_at_most: int, calm_for: int, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        StormRules(
            window=timedelta(seconds=window),
            start_above=start_above,
            calm_at_most=calm_at_most,
            calm_for=timedelta(seconds=calm_for),
        )
