"""Deviation bands: a metric alert is graded by how far its value is from the baseline."""

from __future__ import annotations

import pytest

from escalation.model import AlertEvent, Metric, SourceStatus
from escalation.triage.grading import Band, Grade, GradingRule, Noise, grade
from escalation.triage.matchers import Matchers

THREE_BANDS = (
    Band(0.0, 0.05, None),
    Band(0.05, 0.10, 3),
    Band(0.10, 0.20, 2),
    Band(0.20, None, 1),
)
RULES = [
    GradingRule(level=1, severities=frozenset({"page"})),
    GradingRule(level=None, metrics=frozenset({"orders_per_minute"}), bands=THREE_BANDS),
    GradingRule(
        level=None,
        matchers=Matchers.build(equal={"category": "financial"}),
        bands=(Band(0.02, 0.5, 2), Band(0.5, None, 1)),
    ),
]


def _metric_event(
    value: float,
    *,
    name: str = "orders_per_minute",
    baseline: float | None = 100.0,
    threshold: float | None = None,
    category: str | None = None,
    level: int | None = None,
) -> AlertEvent:
    return AlertEvent(
        fingerprint="orders",
        status=SourceStatus.FIRING,
        title="Orders per minute",
        source="generic",
        category=category,
        level=level,
        metric=Metric(name, value=value, baseline=baseline, threshold=threshold),
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (100.0, None),
        (96.0, None),
        (95.0, 3),
        (91.0, 3),
        (110.0, 2),
        (85.0, 2),
        (80.0, 1),
        (250.0, 1),
    ],
    ids=["0%", "4%", "5%_lower_edge", "9%", "10%_lower_edge", "15%", "20%_lower_edge", "150%"],
)
def test_three_band_filter(value: float, expected: int | None) -> None:
    result = grade(_metric_event(value), RULES, default_level=3)

    if expected is None:
        assert isinstance(result, Noise)
        assert result.rule == 2
    else:
        assert isinstance(result, Grade)
        assert result.level == expected


def test_grade_says_which_rule_band_and_deviation_decided() -> None:
    result = grade(_metric_event(77.0), RULES, default_level=3)

    assert result == Grade(1, "grading rule 2: deviation 23% in 20% and over", 0.23)


def test_noise_says_it_is_noise_and_keeps_the_deviation() -> None:
    result = grade(_metric_event(97.0), RULES, default_level=3)

    assert result == Noise("grading rule 2: deviation 3% in under 5% (noise)", 0.03, 2)


def test_band_rule_for_another_metric_does_not_apply() -> None:
    result = grade(_metric_event(50.0, name="signups"), RULES, default_level=3)

    assert result == Grade(3, "default level")


def test_band_rule_can_select_by_category() -> None:
    result = grade(
        _metric_event(40.0, name="revenue", category="financial"), RULES, default_level=3
    )

    assert result == Grade(1, "grading rule 3: deviation 60% in 50% and over", 0.6)


def test_deviation_below_every_band_falls_through_to_the_next_rule() -> None:
    event = _metric_event(99.0, name="revenue", category="financial")

    assert grade(event, RULES, default_level=3) == Grade(3, "default level")


def test_threshold_is_the_reference_without_a_baseline() -> None:
    result = grade(_metric_event(88.0, baseline=None, threshold=100.0), RULES, default_level=3)

    assert isinstance(result, Grade)
    assert result.level == 2


def test_metric_without_reference_is_not_graded_by_bands() -> None:
    result = grade(_metric_event(10.0, baseline=None), RULES, default_level=3)

    assert result == Grade(3, "default level")


def test_zero_baseline_with_a_value_is_in_the_open_ended_band() -> None:
    result = grade(_metric_event(5.0, baseline=0.0), RULES, default_level=3)

    assert isinstance(result, Grade)
    assert result.level == 1


def test_level_given_by_the_source_beats_deviation() -> None:
    result = grade(_metric_event(99.0, level=2), RULES, default_level=3)

    assert result == Grade(2, "level given by the source")


def test_alert_without_metric_skips_band_rules() -> None:
    event = AlertEvent(fingerprint="x", status=SourceStatus.FIRING, title="t", source="generic")

    assert grade(event, RULES, default_level=2) == Grade(2, "default level")


def test_rule_needs_a_level_or_bands_but_not_both() -> None:
    with pytest.raises(ValueError, match="either a level or deviation bands"):
        GradingRule(level=None)
    with pytest.raises(ValueError, match="either a level or deviation bands"):
        GradingRule(level=1, bands=THREE_BANDS)
