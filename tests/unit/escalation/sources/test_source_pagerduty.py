"""PagerDuty Events API v2 events, from fixtures shaped like PagerDuty's docs."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from escalation.errors import MissingFieldsError, PayloadError
from escalation.model import Link, SourceStatus
from escalation.sources.pagerduty import parse_pagerduty

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pagerduty"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_trigger_becomes_a_firing_event_keyed_by_its_dedup_key() -> None:
    (event,) = parse_pagerduty(load("trigger.json"))

    assert event.status is SourceStatus.FIRING
    assert event.fingerprint == "samplekeyhere"
    assert event.title == "Example alert on host1.example.com"
    assert event.severity == "critical"
    assert event.source == "pagerduty"


def test_source_component_group_and_class_become_labels() -> None:
    (event,) = parse_pagerduty(load("trigger.json"))

    assert event.labels == {
        "source": "monitoringtool:cloudvendor:central-region-dc-01:852559987:"
        "cluster/api-stats-prod-003",
        "component": "postgres",
        "group": "prod-datapipe",
        "class": "deploy",
    }


def test_timestamp_with_a_compact_offset_is_read() -> None:
    (event,) = parse_pagerduty(load("trigger.json"))

    assert event.starts_at == datetime(2015, 7, 17, 8, 42, 58, 315000, tzinfo=UTC)


def test_custom_details_are_shown_in_the_description_and_kept_in_details() -> None:
    (event,) = parse_pagerduty(load("trigger.json"))

    assert event.description == "ping time: 1500ms\nload avg: 0.75"
    assert event.details["custom_details"] == {"ping time": "1500ms", "load avg": 0.75}
    assert event.details["client"] == "Sample Monitoring Service"


def test_client_url_links_and_image_links_become_links() -> None:
    (event,) = parse_pagerduty(load("trigger.json"))

    assert event.links == (
        Link("Sample Monitoring Service", "https://monitoring.example.com"),
        Link("Link text", "https://example.com/"),
        Link("Example text", "https://example.com/"),
    )


def test_a_trigger_without_dedup_key_gets_one_that_is_the_same_for_the_same_trigger() -> None:
    (one,) = parse_pagerduty(load("trigger_without_dedup_key.json"))
    (two,) = parse_pagerduty(load("trigger_without_dedup_key.json"))
    other = load("trigger_without_dedup_key.json")
    other["payload"]["source"] = "db-2"
    (three,) = parse_pagerduty(other)

    assert one.fingerprint == two.fingerprint
    assert one.fingerprint != three.fingerprint
    assert len(one.fingerprint) == 16


@pytest.mark.parametrize(
    ("name", "status"),
    [("acknowledge.json", SourceStatus.ACKNOWLEDGED), ("resolve.json", SourceStatus.RESOLVED)],
)
def test_acknowledge_and_resolve_need_only_the_dedup_key(name: str, status: SourceStatus) -> None:
    (event,) = parse_pagerduty(load(name))

    assert (event.status, event.fingerprint) == (status, "samplekeyhere")


def test_acknowledge_without_dedup_key_is_refused_naming_it() -> None:
    with pytest.raises(MissingFieldsError) as error:
        parse_pagerduty({"event_action": "acknowledge"})

    assert error.value.fields == ("dedup_key",)


def test_every_missing_trigger_field_is_named() -> None:
    with pytest.raises(MissingFieldsError) as error:
        parse_pagerduty(load("missing_fields.json"))

    assert error.value.fields == ("payload.summary", "payload.source")


def test_missing_event_action_and_payload_are_named_together() -> None:
    with pytest.raises(MissingFieldsError) as error:
        parse_pagerduty({"routing_key": "k"})

    assert error.value.fields == ("event_action",)


def test_a_trigger_without_payload_names_it() -> None:
    with pytest.raises(MissingFieldsError) as error:
        parse_pagerduty({"event_action": "trigger"})

    assert error.value.fields == ("payload",)


def test_an_unknown_severity_is_refused_naming_the_allowed_words() -> None:
    with pytest.raises(PayloadError) as error:
        parse_pagerduty(load("wrong_severity.json"))

    assert error.value.field == "payload.severity"
    assert '"critical", "error", "warning" or "info"' in error.value.problem


def test_an_unknown_event_action_is_refused() -> None:
    with pytest.raises(PayloadError) as error:
        parse_pagerduty({"event_action": "escalate", "dedup_key": "k"})

    assert error.value.field == "event_action"


def test_a_summary_of_the_wrong_type_is_named() -> None:
    payload = load("trigger.json")
    payload["payload"]["summary"] = 42

    with pytest.raises(PayloadError) as error:
        parse_pagerduty(payload)

    assert (error.value.field, error.value.problem) == (
        "payload.summary",
        "must be a string, got number",
    )


def test_unknown_fields_are_kept_in_details() -> None:
    payload = load("trigger.json")
    payload["team"] = "db"
    payload["payload"]["region"] = "eu"

    (event,) = parse_pagerduty(payload)

    assert event.details["team"] == "db"
    assert event.details["payload"] == {"region": "eu"}
