"""Matchers shared by grading rules and routes: lists, regular expressions, negations."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from escalation.model import AlertEvent, Metric, SourceStatus
from escalation.triage.grading import Grade, GradingRule, grade
from escalation.triage.matchers import Matcher, Matchers


def _event(
    labels: Mapping[str, str] | None = None,
    *,
    severity: str | None = None,
    category: str | None = None,
    metric: Metric | None = None,
) -> AlertEvent:
    return AlertEvent(
        fingerprint="f",
        status=SourceStatus.FIRING,
        title="t",
        source="grafana",
        severity=severity,
        category=category,
        labels=dict(labels or {}),
        metric=metric,
    )


@pytest.mark.parametrize(
    ("matchers", "event", "expected"),
    [
        (Matchers.build(equal={"env": ["prod", "live"]}), _event({"env": "live"}), True),
        (Matchers.build(equal={"env": ["prod", "live"]}), _event({"env": "dev"}), False),
        (Matchers.build(regex={"service": "db-.*"}), _event({"service": "db-eu"}), True),
        (Matchers.build(regex={"service": "db-"}), _event({"service": "db-eu"}), False),
        (Matchers.build(regex={"service": "db-.*"}), _event({"service": "mydb-eu"}), False),
        (Matchers.build(not_equal={"env": "staging"}), _event({"env": "prod"}), True),
        (Matchers.build(not_equal={"env": "staging"}), _event({"env": "staging"}), False),
        (Matchers.build(not_equal={"env": "staging"}), _event(), True),
        (Matchers.build(not_equal={"env": ["dev", "test"]}), _event({"env": "test"}), False),
        (Matchers.build(not_regex={"host": ".*-canary"}), _event({"host": "web-canary"}), False),
        (Matchers.build(not_regex={"host": ".*-canary"}), _event({"host": "web-1"}), True),
        (Matchers.build(equal={"env": "prod"}), _event(), False),
        (Matchers.build(regex={"env": ".*"}), _event(), True),
        (Matchers.build(equal={"severity": "critical"}), _event(severity="CRITICAL"), True),
        (Matchers.build(regex={"category": "fin.*"}), _event(category="Financial"), True),
        (Matchers.build(equal={"team": "DB"}), _event({"team": "db"}), False),
        (Matchers.build(equal={"metric": "orders"}), _event(metric=Metric("orders", 1.0)), True),
        (Matchers.build(equal={"metric": "orders"}), _event({"metric": "orders"}), False),
        (Matchers.build(), _event(), True),
    ],
    ids=[
        "list_is_any_of",
        "list_none_equal",
        "regex_matches_whole_value",
        "regex_is_anchored_at_the_end",
        "regex_is_anchored_at_the_start",
        "negation_holds_for_other_value",
        "negation_fails_for_that_value",
        "negation_holds_for_missing_label",
        "negated_list_is_none_of",
        "negated_regex_excludes",
        "negated_regex_keeps_others",
        "missing_label_is_not_equal",
        "missing_label_is_empty_for_regex",
        "severity_is_case_insensitive",
        "category_regex_is_case_insensitive",
        "labels_are_case_sensitive",
        "metric_key_is_the_metric_name",
        "metric_key_is_not_a_label",
        "no_matchers_match_everything",
    ],
)
def test_matcher_table(matchers: Matchers, event: AlertEvent, expected: bool) -> None:
    assert matchers.matches(event, level=None) is expected


def test_level_key_compares_the_level_given() -> None:
    matchers = Matchers.build(equal={"level": "1"})

    assert matchers.matches(_event(), level=1)
    assert not matchers.matches(_event(), level=2)
    assert not matchers.matches(_event(), level=None)


def test_bad_regular_expression_is_refused_when_built() -> None:
    with pytest.raises(Exception, match=r"unterminated|missing"):
        Matcher.regex("service", "(db")


def test_grading_rule_with_regex_and_negation() -> None:
    rules = [
        GradingRule(
            level=1,
            severities=frozenset({"critical"}),
            matchers=Matchers.build(regex={"service": "pay.*"}, not_equal={"env": "staging"}),
        ),
        GradingRule(level=2, severities=frozenset({"critical"})),
    ]

    prod = _event({"service": "payments", "env": "prod"}, severity="critical")
    staging = _event({"service": "payments", "env": "staging"}, severity="critical")
    other = _event({"service": "search"}, severity="critical")
    assert grade(prod, rules, default_level=3) == Grade(1, "grading rule 1")
    assert grade(staging, rules, default_level=3) == Grade(2, "grading rule 2")
    assert grade(other, rules, default_level=3) == Grade(2, "grading rule 2")
