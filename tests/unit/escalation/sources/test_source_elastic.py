"""Elastic/Kibana alerting through a Webhook connector with the body Tocsin documents, from
fixtures shaped as Kibana fills it (tests/unit/fixtures/elastic/SOURCE.md says where the
variables are documented)."""

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from escalation.errors import MissingFieldsError, PayloadError
from escalation.model import Link, SourceStatus
from escalation.sources.elastic import parse_elastic

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "elastic"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_an_active_alert_fires_keyed_by_rule_and_alert() -> None:
    payload = load("active.json")
    before = copy.deepcopy(payload)

    (event,) = parse_elastic(payload)

    assert payload == before
    assert event.status is SourceStatus.FIRING
    assert event.fingerprint == "elastic:0b1e7d30-3c5a-11ef-9d6e-0f5c2e0c9a11:web-1"
    assert event.title == "CPU usage above 90%: web-1"
    assert event.description.startswith("system.cpu.total.norm.pct is 94.2%")
    assert event.severity == "metrics.threshold.fired"
    assert event.starts_at == datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    assert event.links == (
        Link(
            "Rule",
            "https://kibana.example.com/app/observability/alerts/rules/"
            "0b1e7d30-3c5a-11ef-9d6e-0f5c2e0c9a11",
        ),
    )


def test_rule_alert_space_and_tags_become_labels() -> None:
    (event,) = parse_elastic(load("active.json"))

    assert event.labels == {
        "rule_id": "0b1e7d30-3c5a-11ef-9d6e-0f5c2e0c9a11",
        "alert_id": "web-1",
        "rule": "CPU usage above 90%",
        "space": "default",
        "prod": "true",
        "team": "web",
    }


def test_a_warning_updates_the_same_alert_and_recovered_resolves_it() -> None:
    (fired,) = parse_elastic(load("active.json"))
    (warning,) = parse_elastic(load("warning.json"))
    (recovered,) = parse_elastic(load("recovered.json"))

    assert warning.status is SourceStatus.FIRING
    assert warning.severity == "metrics.threshold.warning"
    assert recovered.status is SourceStatus.RESOLVED
    assert fired.fingerprint == warning.fingerprint == recovered.fingerprint
    assert recovered.ends_at == datetime(2026, 11, 21, 10, 20, tzinfo=UTC)
    assert recovered.severity is None


def test_a_severity_in_the_body_wins_and_empty_variables_are_absent() -> None:
    (event,) = parse_elastic(load("es_query_matched.json"))

    assert event.severity == "critical"
    assert event.title == "Payment errors in logs: query matched"
    assert event.links == ()
    assert set(event.labels) == {"rule_id", "alert_id", "rule", "space"}


def test_every_missing_field_is_named() -> None:
    with pytest.raises(MissingFieldsError) as error:
        parse_elastic(load("missing_fields.json"))

    assert error.value.fields == ("rule_id", "alert_id")


def test_a_field_of_the_wrong_type_is_named() -> None:
    with pytest.raises(PayloadError) as error:
        parse_elastic(load("wrong_type.json"))

    assert str(error.value) == "alert_id: must be a string, got array"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p.update(rule_id="x" * 201), "rule_id"),
        (lambda p: p.update(tags=["prod"]), "tags"),
        (lambda p: p.update(severity="s" * 101), "severity"),
        (lambda p: p.update(reason={"text": "x"}), "reason"),
    ],
)
def test_a_malformed_part_is_named(change: Any, field: str) -> None:
    payload = load("active.json")
    change(payload)

    with pytest.raises(PayloadError) as error:
        parse_elastic(payload)

    assert error.value.field == field


def test_an_odd_date_is_left_out_rather_than_refused() -> None:
    payload = load("active.json")
    payload["date"] = "Sat Nov 21 2026"

    (event,) = parse_elastic(payload)

    assert event.starts_at is None


def test_a_payload_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(PayloadError) as error:
        parse_elastic([load("active.json")])

    assert error.value.field == ""
