"""The Metric value object: deviation arithmetic and its stored form."""

import math

from escalation.model import Metric


def test_deviation_is_relative_to_the_baseline() -> None:
    assert Metric("orders", value=88.0, baseline=100.0).deviation() == 0.12


def test_deviation_falls_back_to_the_threshold_when_there_is_no_baseline() -> None:
    assert Metric("latency", value=150.0, threshold=100.0).deviation() == 0.5


def test_deviation_is_unknown_without_a_reference() -> None:
    assert Metric("x", value=1.0).deviation() is None


def test_deviation_from_a_zero_baseline_is_infinite_unless_the_value_is_zero() -> None:
    assert math.isinf(Metric("x", value=3.0, baseline=0.0).deviation() or 0.0)
    assert Metric("x", value=0.0, baseline=0.0).deviation() is None


def test_metric_round_trips_through_its_stored_dict() -> None:
    metric = Metric("revenue", value=9.5, baseline=10.0, unit="kEUR", window="1h")
    assert Metric.from_dict(metric.to_dict()) == metric
