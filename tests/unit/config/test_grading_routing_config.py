"""The grading and routes sections of the policy file: what loads, and every mistake named
at its place."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from bot.policy.rules import build_rules
from config.policy import PolicyError, parse_policy
from config.settings import EXAMPLE_POLICY
from escalation.model import AlertEvent, Metric, SourceStatus
from escalation.triage.grading import Grade, Noise, grade
from escalation.triage.routing import route_all
from tests.support.policies import without_lines

ENV = {"TOCSIN_WEBHOOK_TOKEN": "example-token-0123"}
EXAMPLE: dict[str, Any] = yaml.safe_load(EXAMPLE_POLICY.read_text(encoding="utf-8"))
BANDS = [
    {"to": "5%", "level": "noise"},
    {"from": "5%", "to": "10%", "level": 3},
    {"from": "10%", "to": "20%", "level": 2},
    {"from": "20%", "level": 1},
]


def _doc(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(EXAMPLE)
    doc.update(changes)
    return doc


def _load(doc: dict[str, Any]) -> Any:
    return parse_policy(yaml.safe_dump(doc, sort_keys=False), env=ENV)


def _problems(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        _load(doc)
    return without_lines(caught.value.problems)


def _bands_problems(bands: list[dict[str, Any]]) -> list[str]:
    return _problems(_doc(grading=[{"metric": "orders", "bands": bands}]))


# --- what loads -----------------------------------------------------------------------------


def test_example_deviation_rule_grades_the_three_bands() -> None:
    rules = build_rules(_load(_doc())).ingest

    def graded(value: float) -> Grade | Noise:
        event = AlertEvent(
            fingerprint="f",
            status=SourceStatus.FIRING,
            title="Orders",
            source="generic",
            metric=Metric("orders_per_minute", value=value, baseline=100.0),
        )
        return grade(event, rules.grading, default_level=3)

    assert isinstance(graded(97.0), Noise)
    assert [getattr(graded(v), "level", None) for v in (93.0, 88.0, 70.0)] == [3, 2, 1]


def test_percentages_may_be_written_as_numbers() -> None:
    doc = _doc(
        grading=[{"metric": "m", "bands": [{"to": 5, "level": "noise"}, {"from": 5, "level": 1}]}]
    )

    assert _load(doc).grading[0].bands[1].from_ == 0.05


def test_routes_with_matchers_continue_and_window_in_the_teams_zone() -> None:
    doc = _doc(
        routes=[
            {
                "match_re": {"service": "db-.*"},
                "continue": True,
                "team": "ops",
                "channel": "#audit",
            },
            {
                "match": {"level": 1},
                "not": {"env": "staging"},
                "when": {"days": "mon-fri", "between": "09:00-18:00"},
                "team": "ops",
                "channel": "#day",
            },
            {"match": {"level": [1, 2]}, "team": "ops", "channel": "#night"},
        ]
    )
    rules = build_rules(_load(doc)).ingest
    event = AlertEvent(
        fingerprint="f",
        status=SourceStatus.FIRING,
        title="t",
        source="am",
        labels={"service": "db-eu", "env": "prod"},
    )
    # the ops team's zone is Europe/Berlin: 07:30 UTC on a summer Wednesday is 09:30 there
    day = route_all(event, 1, rules.routes, fallback=rules.fallback, now=_utc("2024-05-01T07:30"))
    night = route_all(event, 1, rules.routes, fallback=rules.fallback, now=_utc("2024-05-01T06:30"))

    assert (day.primary.channel, [m.channel for m in day.mirrors]) == ("#audit", ["#day"])
    assert [m.channel for m in night.mirrors] == ["#night"]


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- mistakes, named at their place ---------------------------------------------------------


def test_overlapping_bands_are_named() -> None:
    [problem] = _bands_problems(
        [
            {"to": "10%", "level": 3},
            {"from": "8%", "to": "20%", "level": 2},
            {"from": "20%", "level": 1},
        ]
    )

    assert problem.startswith("grading[0].bands[1].from: 8% overlaps grading[0].bands[0]")
    assert "which runs to 10%" in problem


def test_bands_out_of_order_are_named() -> None:
    [problem] = _bands_problems(
        [{"from": "20%", "level": 1}, {"from": "5%", "to": "20%", "level": 2}]
    )

    assert problem == "grading[0].bands[0].to: is required on every band but the last"


def test_gap_between_bands_is_named() -> None:
    [problem] = _bands_problems(
        [
            {"to": "5%", "level": "noise"},
            {"from": "6%", "to": "10%", "level": 3},
            {"from": "10%", "level": 1},
        ]
    )

    assert problem.startswith("grading[0].bands[1].from: 6% leaves a gap after grading[0].bands[0]")


def test_band_ending_before_it_starts_is_named() -> None:
    [problem] = _bands_problems([{"from": "10%", "to": "5%", "level": 2}])

    assert problem == "grading[0].bands[0]: to (5%) must be above from (10%)"


def test_bad_percentage_is_named() -> None:
    [problem] = _bands_problems([{"to": "five", "level": 2}, {"from": "5%", "level": 1}])

    assert problem == 'grading[0].bands[0].to: "five": must be a percentage like 5% or 12.5%'


def test_unknown_band_level_is_named() -> None:
    [problem] = _bands_problems([{"level": "ignore"}])

    assert problem.startswith('grading[0].bands[0].level: "ignore"')


def test_rule_with_both_level_and_bands_is_named() -> None:
    [problem] = _problems(_doc(grading=[{"metric": "m", "level": 2, "bands": BANDS}]))

    assert problem == "grading[0]: give either level or bands (not both, not neither)"


def test_rule_with_neither_level_nor_bands_is_named() -> None:
    [problem] = _problems(_doc(grading=[{"match": {"severity": "critical"}}]))

    assert problem == "grading[0]: give either level or bands (not both, not neither)"


def test_grading_cannot_match_on_the_level_it_decides() -> None:
    [problem] = _problems(_doc(grading=[{"not": {"level": 1}, "level": 2}]))

    assert problem == "grading[0].not.level: grading decides the level; match severity"


def test_bad_regular_expression_is_named_with_its_key() -> None:
    route = {"match_re": {"service": "(db"}, "team": "ops", "channel": "#db"}
    [problem] = _problems(_doc(routes=[route]))

    assert problem.startswith(
        'routes[0].match_re.service: "(db": is not a valid regular expression'
    )


def test_bad_day_is_named() -> None:
    route = {"when": {"days": "mon-fry"}, "team": "ops", "channel": "#db"}
    [problem] = _problems(_doc(routes=[route]))

    assert (
        problem
        == 'routes[0].when[0].days: "fry" is not a day; use mon, tue, wed, thu, fri, sat, sun'
    )


def test_bad_span_is_named() -> None:
    route = {"when": [{"between": "9-18"}], "team": "ops", "channel": "#db"}
    [problem] = _problems(_doc(routes=[route]))

    assert problem == 'routes[0].when[0].between: "9-18": must be a span of time like 09:00-18:00'


def test_bad_time_zone_is_named() -> None:
    route = {"when": {"timezone": "Mars/Olympus"}, "team": "ops", "channel": "#db"}
    [problem] = _problems(_doc(routes=[route]))

    assert problem == (
        'routes[0].when[0].timezone: "Mars/Olympus": is not an IANA time zone (like Europe/Berlin)'
    )


def test_unknown_route_key_is_named() -> None:
    [problem] = _problems(_doc(routes=[{"contine": True, "team": "ops", "channel": "#db"}]))

    assert problem == "routes[0].contine: is not a known setting; did you mean continue?"
