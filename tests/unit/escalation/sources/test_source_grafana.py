"""The Grafana Alerting webhook (version 1), from fixtures shaped like Grafana's docs."""

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from escalation.errors import MissingFieldsError, PayloadError
from escalation.model import Link, SourceStatus
from escalation.sources.grafana import parse_grafana

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "grafana"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["firing.json", "resolved.json", "many_truncated.json"])
def test_valid_fixture_gives_one_event_per_alert_and_leaves_the_payload_alone(name: str) -> None:
    payload = load(name)
    before = copy.deepcopy(payload)

    events = parse_grafana(payload)

    assert len(events) == len(payload["alerts"])
    assert payload == before
    assert all(e.source == "grafana" for e in events)


def test_firing_alert_takes_title_description_severity_and_group_key() -> None:
    (event,) = parse_grafana(load("firing.json"))

    assert event.status is SourceStatus.FIRING
    assert event.fingerprint == "a1b2c3d4e5f60718"
    assert event.title == "API p99 latency is 2.4 s"
    assert event.severity == "major"
    assert event.group_key == '{}/{alertname="HighLatency"}:{alertname="HighLatency"}'
    assert event.starts_at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert event.ends_at is None


def test_per_alert_values_are_shown_in_the_description_and_kept_in_details() -> None:
    (event,) = parse_grafana(load("firing.json"))

    assert event.description == "p99 above 2 s for 5 minutes\n\nValues: B=2.4, C=1"
    assert event.details["values"] == {"B": 2.4, "C": 1.0}


def test_dashboard_panel_silence_and_rule_urls_become_links_and_empty_ones_are_skipped() -> None:
    (event,) = parse_grafana(load("firing.json"))

    assert [link.title for link in event.links] == [
        "Alert rule",
        "Dashboard",
        "Panel",
        "Silence",
        "Runbook",
    ]
    assert Link("Panel", "https://grafana.example.com/d/api?orgId=1&viewPanel=2") in event.links


def test_group_fields_are_kept_in_details() -> None:
    (event,) = parse_grafana(load("firing.json"))

    assert event.details["state"] == "alerting"
    assert event.details["title"] == "[FIRING:1] HighLatency API (api major)"
    value_string = event.details["valueString"]
    assert isinstance(value_string, str)
    assert value_string.startswith("[ var='B'")
    assert event.details["truncatedAlerts"] == 0


def test_resolved_alert_with_null_values_is_resolved() -> None:
    (event,) = parse_grafana(load("resolved.json"))

    assert event.status is SourceStatus.RESOLVED
    assert event.ends_at == datetime(2024, 5, 1, 10, 20, tzinfo=UTC)
    assert "values" not in event.details


def test_a_query_without_data_is_shown_as_no_data() -> None:
    first, _, _ = parse_grafana(load("many_truncated.json"))
    _, second, _ = parse_grafana(load("many_truncated.json"))

    assert first.description == "Values: A=97"
    assert second.description == "Values: A=no data"


def test_truncated_alerts_are_kept_on_every_event_of_the_notification() -> None:
    events = parse_grafana(load("many_truncated.json"))

    assert [e.details["truncatedAlerts"] for e in events] == [7, 7, 7]
    assert [e.status for e in events] == [
        SourceStatus.FIRING,
        SourceStatus.FIRING,
        SourceStatus.RESOLVED,
    ]


def test_the_group_message_is_the_description_of_a_single_alert_without_one() -> None:
    payload = load("firing.json")
    payload["alerts"][0]["annotations"] = {}
    payload["alerts"][0]["values"] = None

    (event,) = parse_grafana(payload)

    assert event.description.startswith("**Firing**")
    assert event.title == "HighLatency"


def test_every_missing_required_field_is_named() -> None:
    with pytest.raises(MissingFieldsError) as error:
        parse_grafana(load("missing_fields.json"))

    assert error.value.fields == ("alerts[0].status", "alerts[1].labels")
    assert str(error.value) == "missing required fields: alerts[0].status, alerts[1].labels"


def test_a_value_of_the_wrong_type_is_named() -> None:
    with pytest.raises(PayloadError) as error:
        parse_grafana(load("wrong_value_type.json"))

    assert (error.value.field, error.value.problem) == (
        "alerts[0].values.B",
        "must be a number, got string",
    )


def test_another_version_is_refused() -> None:
    with pytest.raises(PayloadError) as error:
        parse_grafana({"version": "2", "alerts": []})

    assert error.value.field == "version"


def test_without_fingerprint_the_same_alertname_and_labels_give_the_same_fingerprint() -> None:
    payload = load("resolved.json")
    del payload["alerts"][0]["fingerprint"]

    (one,) = parse_grafana(payload)
    (two,) = parse_grafana(copy.deepcopy(payload))

    assert one.fingerprint == two.fingerprint
    assert len(one.fingerprint) == 16
