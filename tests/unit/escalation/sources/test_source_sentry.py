"""Sentry's integration platform webhooks — issue alerts, issues, metric alerts — from fixtures
shaped as Sentry documents them (tests/unit/fixtures/sentry/SOURCE.md says where)."""

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from escalation.errors import MissingFieldsError, PayloadError
from escalation.model import Link, SourceStatus
from escalation.sources.sentry import parse_sentry

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sentry"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_an_issue_alert_fires_keyed_by_its_issue_with_the_event_level() -> None:
    payload = load("issue_alert.json")
    before = copy.deepcopy(payload)

    (event,) = parse_sentry(payload)

    assert payload == before
    assert event.status is SourceStatus.FIRING
    assert event.fingerprint == "sentry:issue:1117540176"
    assert event.title == "TypeError: 'NoneType' object is not subscriptable"
    assert event.severity == "error"
    assert event.source == "sentry"
    assert event.starts_at == datetime(2026, 11, 21, 10, 0, 0, 123000, tzinfo=UTC)
    assert event.links == (
        Link(
            "Event",
            "https://sentry.io/organizations/example/issues/1117540176/events/"
            "e4874d664c3540c1a32eab185f12c5ab/",
        ),
    )


def test_the_rule_the_event_and_its_tags_become_labels() -> None:
    (event,) = parse_sentry(load("issue_alert.json"))

    assert event.labels == {
        "issue_id": "1117540176",
        "rule": "Checkout errors in production",
        "culprit": "checkout/views.py in submit_order",
        "environment": "production",
        "release": "checkout@2026.11.3",
        "platform": "python",
        "project": "1",
        "level": "error",
        "server_name": "checkout-1",
        "transaction": "/orders/submit",
    }
    assert event.details["event_id"] == "e4874d664c3540c1a32eab185f12c5ab"


def test_resolving_the_issue_resolves_what_its_issue_alert_fired() -> None:
    (fired,) = parse_sentry(load("issue_alert.json"))
    (resolved,) = parse_sentry(load("issue_resolved.json"))

    assert resolved.status is SourceStatus.RESOLVED
    assert resolved.fingerprint == fired.fingerprint
    assert resolved.labels["short_id"] == "CHECKOUT-3F"
    assert resolved.labels["project"] == "checkout"
    assert resolved.links == (
        Link("Issue", "https://sentry.io/organizations/example/issues/1117540176/"),
    )


def test_assigning_the_issue_acknowledges_it_at_the_source() -> None:
    (event,) = parse_sentry(load("issue_assigned.json"))

    assert event.status is SourceStatus.ACKNOWLEDGED
    assert event.fingerprint == "sentry:issue:1117540176"


@pytest.mark.parametrize(
    ("action", "status"),
    [
        ("created", SourceStatus.FIRING),
        ("unresolved", SourceStatus.FIRING),
        ("ignored", SourceStatus.RESOLVED),
        ("archived", SourceStatus.RESOLVED),
    ],
)
def test_every_issue_action_maps_to_a_status(action: str, status: SourceStatus) -> None:
    payload = load("issue_resolved.json")
    payload["action"] = action

    (event,) = parse_sentry(payload)

    assert event.status is status


def test_a_critical_metric_alert_fires_keyed_by_its_incident() -> None:
    (event,) = parse_sentry(load("metric_critical.json"))

    assert event.status is SourceStatus.FIRING
    assert event.fingerprint == "sentry:metric_alert:53"
    assert event.title == "Too many errors"
    assert event.severity == "critical"
    assert event.description == "1000 events in the last 10 minutes\nFilter: level:error"
    assert event.starts_at == datetime(2026, 11, 21, 9, 50, tzinfo=UTC)
    assert event.labels == {
        "incident_id": "53",
        "alert_rule_id": "7",
        "aggregate": "count()",
        "query": "level:error",
        "dataset": "events",
        "environment": "production",
        "projects": "checkout",
    }
    assert event.links == (
        Link(
            "Metric alert",
            "https://sentry.io/organizations/example/alerts/rules/details/7/?alert=53",
        ),
    )


def test_a_warning_updates_the_same_incident_with_its_severity() -> None:
    (critical,) = parse_sentry(load("metric_critical.json"))
    (warning,) = parse_sentry(load("metric_warning.json"))

    assert warning.status is SourceStatus.FIRING
    assert warning.fingerprint == critical.fingerprint
    assert warning.severity == "warning"


def test_the_resolved_metric_alert_resolves_its_incident() -> None:
    (resolved,) = parse_sentry(load("metric_resolved.json"))

    assert resolved.status is SourceStatus.RESOLVED
    assert resolved.fingerprint == "sentry:metric_alert:53"
    assert resolved.severity is None
    assert resolved.ends_at == datetime(2026, 11, 21, 10, 30, tzinfo=UTC)


def test_every_missing_field_is_named_with_its_place() -> None:
    with pytest.raises(MissingFieldsError) as error:
        parse_sentry(load("missing_fields.json"))

    assert error.value.fields == ("data.event.issue_id", "data.event.title")


def test_a_metric_action_sentry_does_not_send_is_refused() -> None:
    with pytest.raises(PayloadError) as error:
        parse_sentry(load("wrong_action.json"))

    assert error.value.field == "action"
    assert error.value.problem.endswith('got "fired"')


def test_a_body_of_no_known_resource_is_refused_saying_what_it_needs() -> None:
    with pytest.raises(PayloadError) as error:
        parse_sentry({"action": "created", "data": {"installation": {}}})

    assert error.value.field == "data"
    assert "metric_alert" in error.value.problem


@pytest.mark.parametrize(
    ("name", "change", "field"),
    [
        ("issue_alert.json", lambda p: p.update(action="resolved"), "action"),
        (
            "issue_alert.json",
            lambda p: p["data"]["event"].update(issue_id=[]),
            "data.event.issue_id",
        ),
        ("issue_alert.json", lambda p: p["data"]["event"].update(title=" "), "data.event.title"),
        (
            "issue_alert.json",
            lambda p: p["data"]["event"]["tags"].append(["x"]),
            "data.event.tags[5]",
        ),
        (
            "issue_alert.json",
            lambda p: p["data"]["event"].update(datetime="now"),
            "data.event.datetime",
        ),
        (
            "issue_resolved.json",
            lambda p: p["data"]["issue"].update(project="x"),
            "data.issue.project",
        ),
        (
            "metric_critical.json",
            lambda p: p["data"]["metric_alert"]["alert_rule"].update(projects="checkout"),
            "data.metric_alert.alert_rule.projects",
        ),
        ("metric_critical.json", lambda p: p.update(data=[]), "data"),
    ],
)
def test_a_malformed_part_is_named(name: str, change: Any, field: str) -> None:
    payload = load(name)
    change(payload)

    with pytest.raises(PayloadError) as error:
        parse_sentry(payload)

    assert error.value.field == field


def test_a_body_without_action_or_data_names_both() -> None:
    with pytest.raises(MissingFieldsError) as error:
        parse_sentry({"installation": {"uuid": "x"}})

    assert error.value.fields == ("action", "data")
