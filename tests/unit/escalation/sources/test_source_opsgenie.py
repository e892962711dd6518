"""The Opsgenie-compatible intake's parser: Alert API creates as Alertmanager, Grafana and the
API reference send them, and the close/acknowledge form its routes store
(tests/unit/fixtures/opsgenie/SOURCE.md says where the shapes are documented)."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from escalation.errors import PayloadError
from escalation.model import SourceStatus
from escalation.sources.opsgenie import action_body, parse_opsgenie

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "opsgenie"
ALERTMANAGER_ALIAS = "5c1f0f2bcf3a6a7ab9f1d7c3e0d5a2b4e6f8091a2b3c4d5e6f708192a3b4c5d6"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_a_create_fires_keyed_by_its_alias_with_its_priority() -> None:
    payload = load("create_alertmanager.json")
    before = copy.deepcopy(payload)

    (event,) = parse_opsgenie(payload)

    assert payload == before
    assert event.status is SourceStatus.FIRING
    assert event.fingerprint == f"opsgenie:{ALERTMANAGER_ALIAS}"
    assert event.title == "[FIRING:2] DiskFull (postgres prod)"
    assert event.severity == "P1"
    assert event.description.startswith("Alerts Firing:")
    assert event.source == "opsgenie"


def test_source_tags_and_details_become_labels_and_responders_are_ignored() -> None:
    (event,) = parse_opsgenie(load("create_alertmanager.json"))

    assert event.labels == {
        "source": "http://alertmanager.internal:9093/#/alerts?receiver=opsgenie",
        "postgres": "true",
        "env": "prod",
        "alertname": "DiskFull",
        "job": "postgres",
        "severity": "critical",
    }
    assert event.details["details"] == {
        "alertname": "DiskFull",
        "job": "postgres",
        "env": "prod",
        "severity": "critical",
    }
    assert "responders" not in event.details


def test_grafanas_key_value_tags_are_split() -> None:
    (event,) = parse_opsgenie(load("create_grafana.json"))

    assert event.severity == "P2"
    assert event.labels["alertname"] == "HighLatency"
    assert event.labels["service"] == "api"
    assert event.labels["url"] == "https://grafana.example.com/alerting/list"


def test_without_priority_it_is_opsgenies_default_and_without_alias_a_stable_key() -> None:
    (event,) = parse_opsgenie(load("create_minimal.json"))
    (again,) = parse_opsgenie(load("create_minimal.json"))
    (other,) = parse_opsgenie({"message": "An example alert message", "entity": "db-1"})

    assert event.severity == "P3"
    assert event.fingerprint == again.fingerprint
    assert event.fingerprint.startswith("opsgenie:")
    assert other.fingerprint != event.fingerprint


@pytest.mark.parametrize(
    ("action", "status"),
    [("close", SourceStatus.RESOLVED), ("acknowledge", SourceStatus.ACKNOWLEDGED)],
)
def test_close_and_acknowledge_by_alias_reach_the_created_alert(
    action: str, status: SourceStatus
) -> None:
    (created,) = parse_opsgenie(load("create_alertmanager.json"))
    body = action_body(action, ALERTMANAGER_ALIAS, load("close_request_body.json"))

    (event,) = parse_opsgenie(body)

    assert body == {
        "action": action,
        "alias": ALERTMANAGER_ALIAS,
        "user": "Monitoring Script",
        "source": "AWS Lambda",
        "note": "Action executed via Alert API",
    }
    assert event.status is status
    assert event.fingerprint == created.fingerprint
    assert event.details == {
        "user": "Monitoring Script",
        "source": "AWS Lambda",
        "note": "Action executed via Alert API",
    }


def test_a_close_without_body_keeps_only_the_action_and_alias() -> None:
    assert action_body("close", "checkout-5xx", None) == {
        "action": "close",
        "alias": "checkout-5xx",
    }


def test_a_close_body_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(PayloadError) as error:
        action_body("close", "checkout-5xx", ["note"])

    assert error.value.field == ""


def test_a_create_without_message_is_refused_naming_it() -> None:
    with pytest.raises(PayloadError) as error:
        parse_opsgenie(load("missing_fields.json"))

    assert str(error.value) == "message: is required"


def test_a_priority_opsgenie_does_not_know_is_refused() -> None:
    with pytest.raises(PayloadError) as error:
        parse_opsgenie(load("wrong_priority.json"))

    assert str(error.value) == 'priority: must be one of P1, P2, P3, P4, P5, got "critical"'


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"message": "m", "alias": " "}, "alias"),
        ({"message": "m", "alias": "a" * 513}, "alias"),
        ({"message": "m", "tags": "prod"}, "tags"),
        ({"message": "m", "tags": ["prod", 3]}, "tags[1]"),
        ({"message": "m", "details": {"rate": 8.4}}, "details.rate"),
        ({"message": "m", "entity": ["db-1"]}, "entity"),
        ({"message": " "}, "message"),
        ({"action": "delete", "alias": "a"}, "action"),
        ({"action": "close"}, "alias"),
        ({"action": "close", "alias": "a", "note": 5}, "note"),
    ],
)
def test_a_malformed_part_is_named(payload: Any, field: str) -> None:
    with pytest.raises(PayloadError) as error:
        parse_opsgenie(payload)

    assert error.value.field == field


def test_a_payload_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(PayloadError) as error:
        parse_opsgenie("Checkout down")

    assert error.value.field == ""
