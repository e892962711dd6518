"""Datadog's Webhooks integration with the payload Tocsin documents, from fixtures shaped as
Datadog fills it (tests/unit/fixtures/datadog/SOURCE.md says where the variables are
documented)."""

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from escalation.errors import MissingFieldsError, PayloadError
from escalation.model import Link, SourceStatus
from escalation.sources.datadog import parse_datadog

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "datadog"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_a_triggered_monitor_fires_keyed_by_its_aggregation_key() -> None:
    payload = load("triggered.json")
    before = copy.deepcopy(payload)

    (event,) = parse_datadog(payload)

    assert payload == before
    assert event.status is SourceStatus.FIRING
    assert event.fingerprint == "datadog:6f1c2a9b8e7d4c3b"
    assert event.title == "[P1] [Triggered on {host:db-1}] Disk almost full on db-1"
    assert event.description.startswith("/var/lib/postgresql is 97% full")
    assert event.source == "datadog"
    assert event.severity == "P1"
    assert event.starts_at == datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    assert event.ends_at is None


def test_the_recovery_resolves_the_same_alert() -> None:
    (triggered,) = parse_datadog(load("triggered.json"))
    (recovered,) = parse_datadog(load("recovered.json"))

    assert recovered.status is SourceStatus.RESOLVED
    assert recovered.fingerprint == triggered.fingerprint
    assert recovered.ends_at == datetime(2026, 11, 21, 10, 15, tzinfo=UTC)
    assert recovered.starts_at is None


def test_identifiers_and_tags_become_labels_and_the_event_a_link() -> None:
    (event,) = parse_datadog(load("triggered.json"))

    assert event.labels == {
        "alert_id": "98765432",
        "scope": "host:db-1",
        "host": "db-1",
        "transition": "Triggered",
        "alert_type": "error",
        "priority": "P1",
        "env": "prod",
        "service": "postgres",
        "team": "storage",
        "monitor": "",
    }
    assert event.links == (
        Link("Event", "https://app.datadoghq.com/event/event?id=7399382851234567890"),
    )
    assert event.details["alert_metric"] == "system.disk.in_use"
    assert event.details["org"] == {"id": "123456", "name": "Example Inc"}


def test_a_warning_without_priority_or_key_is_graded_by_its_type_and_keyed_by_monitor() -> None:
    (event,) = parse_datadog(load("warn_no_priority.json"))

    assert event.status is SourceStatus.FIRING
    assert event.severity == "warning"
    assert event.fingerprint == "datadog:55512345:service:checkout"
    assert "host" not in event.labels
    assert "priority" not in event.labels


@pytest.mark.parametrize("transition", ["Re-Triggered", "No Data", "Re-Warn", "Renotify"])
def test_every_alerting_transition_fires(transition: str) -> None:
    payload = load("triggered.json")
    payload["alert_transition"] = transition

    (event,) = parse_datadog(payload)

    assert event.status is SourceStatus.FIRING


def test_unfilled_variables_count_as_absent_and_every_missing_field_is_named() -> None:
    with pytest.raises(MissingFieldsError) as error:
        parse_datadog(load("missing_fields.json"))

    assert error.value.fields == ("title", "alert_transition", "aggreg_key")


def test_an_unknown_transition_is_refused_listing_the_known_ones() -> None:
    with pytest.raises(PayloadError) as error:
        parse_datadog(load("wrong_transition.json"))

    assert error.value.field == "alert_transition"
    assert "Triggered" in error.value.problem
    assert error.value.problem.endswith('got "Muted"')


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p.update(title=5), "title"),
        (lambda p: p.update(title="x" * 1001), "title"),
        (lambda p: p.update(tags=["env:prod"]), "tags"),
        (lambda p: p.update(alert_priority=1), "alert_priority"),
        (lambda p: p.update(org="Example"), "org"),
    ],
)
def test_a_malformed_part_is_named(change: Any, field: str) -> None:
    payload = load("triggered.json")
    change(payload)

    with pytest.raises(PayloadError) as error:
        parse_datadog(payload)

    assert error.value.field == field


def test_an_odd_date_is_left_out_rather_than_refused() -> None:
    payload = load("triggered.json")
    payload["date"] = "yesterday"

    (event,) = parse_datadog(payload)

    assert event.starts_at is None


def test_a_payload_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(PayloadError) as error:
        parse_datadog("[P1] Disk almost full")

    assert error.value.field == ""
