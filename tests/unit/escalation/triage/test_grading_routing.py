"""Grading (which level) and routing (which team/channel/policy), as tables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from escalation.model import AlertEvent, RouteDecision, SourceStatus
from escalation.triage.grading import Grade, GradingRule, grade
from escalation.triage.routing import SPECIAL_KEYS, Route, route


def _event(
    *,
    severity: str | None = None,
    level: int | None = None,
    category: str | None = None,
    source: str = "alertmanager",
    labels: Mapping[str, str] | None = None,
) -> AlertEvent:
    return AlertEvent(
        fingerprint="0123456789abcdef",
        status=SourceStatus.FIRING,
        title="Disk full",
        source=source,
        severity=severity,
        level=level,
        category=category,
        labels=dict(labels or {}),
    )


# --- grading --------------------------------------------------------------------------------

RULES = [
    GradingRule(level=1, severities=frozenset({"critical", "page"})),
    GradingRule(level=2, labels={"env": "prod", "team": "db"}),
    GradingRule(level=1, labels={"env": "prod"}),
    GradingRule(level=2, categories=frozenset({"capacity"})),
    GradingRule(level=3, severities=frozenset({"warning"}), labels={"env": "staging"}),
]


@dataclass(frozen=True)
class GradeCase:
    name: str
    event: AlertEvent
    expected: Grade


GRADE_CASES = [
    GradeCase(
        "source_level_beats_matching_rule",
        _event(severity="critical", level=3),
        Grade(3, "level given by the source"),
    ),
    GradeCase(
        "source_level_used_when_no_rule_matches",
        _event(severity="nothing", level=2),
        Grade(2, "level given by the source"),
    ),
    GradeCase("severity_matches_rule", _event(severity="page"), Grade(1, "grading rule 1")),
    GradeCase(
        "severity_match_is_case_insensitive",
        _event(severity="CriTicaL"),
        Grade(1, "grading rule 1"),
    ),
    GradeCase(
        "first_matching_rule_wins",
        _event(labels={"env": "prod", "team": "db"}),
        Grade(2, "grading rule 2"),
    ),
    GradeCase(
        "labels_must_all_match",
        _event(labels={"env": "prod", "team": "web"}),
        Grade(1, "grading rule 3"),
    ),
    GradeCase(
        "label_values_compare_exactly",
        _event(labels={"env": "Prod"}),
        Grade(3, "default level"),
    ),
    GradeCase(
        "category_matches_case_insensitively",
        _event(category="Capacity"),
        Grade(2, "grading rule 4"),
    ),
    GradeCase(
        "every_condition_of_a_rule_must_hold",
        _event(severity="warning", labels={"env": "prod-eu"}),
        Grade(3, "default level"),
    ),
    GradeCase(
        "severity_and_labels_together_match",
        _event(severity="Warning", labels={"env": "staging"}),
        Grade(3, "grading rule 5"),
    ),
    GradeCase("no_severity_matches_no_severity_rule", _event(), Grade(3, "default level")),
    GradeCase(
        "unknown_severity_gets_default_level",
        _event(severity="bizarre"),
        Grade(3, "default level"),
    ),
]


@pytest.mark.parametrize("case", GRADE_CASES, ids=lambda c: c.name)
def test_grade_table(case: GradeCase) -> None:
    assert grade(case.event, RULES, default_level=3) == case.expected


def test_grade_with_no_rules_gives_default_level() -> None:
    assert grade(_event(severity="critical"), [], default_level=2) == Grade(2, "default level")


def test_grade_default_level_is_the_one_passed_in() -> None:
    graded = grade(_event(severity="bizarre"), RULES, default_level=1)
    assert isinstance(graded, Grade)
    assert graded.level == 1


def test_grading_rule_written_in_capitals_still_matches_case_insensitively() -> None:
    rules = [GradingRule(level=1, severities=frozenset({"CRITICAL"}))]

    graded = grade(_event(severity="critical"), rules, default_level=3)
    assert isinstance(graded, Grade)
    assert graded.level == 1


def test_rule_without_conditions_matches_everything() -> None:
    assert GradingRule(level=2).matches(_event())


# --- routing --------------------------------------------------------------------------------

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
FALLBACK = RouteDecision(team="ops", channel="#alerts", policy="default", route_index=None)

ROUTES = [
    Route(team="db", channel="#db-alerts", policy="db", match={"service": "postgres"}),
    Route(team="dba", channel="#dba", policy="default", match={"service": "postgres"}),
    Route(team="web", channel="#web", policy="default", match={"service": "web", "env": "prod"}),
    Route(team="cap", channel="#capacity", policy="default", match={"category": "capacity"}),
    Route(team="gen", channel="#generic", policy="default", match={"source": "generic"}),
    Route(team="sev", channel="#pages", policy="page", match={"severity": "critical"}),
    Route(team="red", channel="#red", policy="page", match={"level": "1"}),
]


@dataclass(frozen=True)
class RouteCase:
    name: str
    event: AlertEvent
    level: int
    team: str
    index: int | None


ROUTE_CASES = [
    RouteCase("label_match", _event(labels={"service": "postgres"}), 3, "db", 0),
    RouteCase(
        "first_match_wins_over_later_identical_route",
        _event(labels={"service": "postgres", "env": "prod"}),
        1,
        "db",
        0,
    ),
    RouteCase("all_matchers_must_hold", _event(labels={"service": "web"}), 3, "ops", None),
    RouteCase("all_matchers_hold", _event(labels={"service": "web", "env": "prod"}), 3, "web", 2),
    RouteCase("category_is_the_alert_category", _event(category="capacity"), 3, "cap", 3),
    RouteCase(
        "category_is_not_a_label",
        _event(labels={"category": "capacity"}),
        3,
        "ops",
        None,
    ),
    RouteCase("source_is_the_alert_source", _event(source="generic"), 3, "gen", 4),
    RouteCase(
        "source_is_not_a_label",
        _event(labels={"source": "generic"}),
        3,
        "ops",
        None,
    ),
    RouteCase("severity_is_the_alert_severity", _event(severity="critical"), 3, "sev", 5),
    RouteCase(
        "severity_is_not_a_label",
        _event(labels={"severity": "critical"}),
        3,
        "ops",
        None,
    ),
    RouteCase("level_is_the_graded_level", _event(), 1, "red", 6),
    RouteCase("level_is_not_the_source_level", _event(level=1), 2, "ops", None),
    RouteCase("fallback_when_none_match", _event(labels={"service": "mail"}), 3, "ops", None),
]


@pytest.mark.parametrize("case", ROUTE_CASES, ids=lambda c: c.name)
def test_route_table(case: RouteCase) -> None:
    decision = route(case.event, case.level, ROUTES, fallback=FALLBACK, now=NOW)

    assert decision.team == case.team
    assert decision.route_index == case.index


def test_route_decision_carries_channel_and_policy_of_the_matching_route() -> None:
    decision = route(_event(severity="critical"), 3, ROUTES, fallback=FALLBACK, now=NOW)

    assert decision == RouteDecision("sev", "#pages", "page", 5)


def test_route_falls_back_to_the_fallback_decision_itself() -> None:
    assert route(_event(), 3, ROUTES, fallback=FALLBACK, now=NOW) is FALLBACK


def test_route_with_no_routes_falls_back() -> None:
    assert (
        route(_event(labels={"service": "postgres"}), 1, [], fallback=FALLBACK, now=NOW) is FALLBACK
    )


def test_route_with_empty_match_catches_everything() -> None:
    routes = [Route(team="all", channel="#all", policy="default")]

    assert route(_event(), 3, routes, fallback=FALLBACK, now=NOW).route_index == 0


def test_special_keys_are_category_source_severity_level_metric() -> None:
    assert set(SPECIAL_KEYS) == {"category", "source", "severity", "level", "metric"}
