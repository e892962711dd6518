"""Azure Monitor's common alert schema, from fixtures shaped like Microsoft's sample payloads."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from escalation.errors import MissingFieldsError, PayloadError
from escalation.model import Link, SourceStatus
from escalation.sources.azure_monitor import parse_azure_monitor

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "azure_monitor"
ALERT_ID = (
    "/subscriptions/11111111-2222-3333-4444-555555555555/providers/"
    "Microsoft.AlertsManagement/alerts/b9569717-bc32-442f-add5-83a997729330"
)


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_fired_becomes_a_firing_event_keyed_by_its_alert_id() -> None:
    (event,) = parse_azure_monitor(load("fired_metric.json"))

    assert event.status is SourceStatus.FIRING
    assert event.fingerprint == ALERT_ID
    assert event.title == "WCUS-R2-Gen2"
    assert event.description == "CPU of wcus-r2-gen2 above 25%"
    assert event.source == "azure_monitor"
    assert event.starts_at == datetime(2019, 3, 22, 13, 58, 24, 371321, tzinfo=UTC)
    assert event.ends_at is None


def test_resolved_resolves_the_same_alert() -> None:
    (fired,) = parse_azure_monitor(load("fired_metric.json"))
    (resolved,) = parse_azure_monitor(load("resolved_metric.json"))

    assert resolved.status is SourceStatus.RESOLVED
    assert resolved.fingerprint == fired.fingerprint
    assert resolved.ends_at == datetime(2019, 3, 22, 14, 3, 16, 224631, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "severity"), [("fired_metric.json", "Sev3"), ("fired_log_sev0.json", "Sev0")]
)
def test_the_azure_severity_word_is_the_events_severity(name: str, severity: str) -> None:
    (event,) = parse_azure_monitor(load(name))

    assert event.severity == severity


def test_rule_signal_and_target_become_labels() -> None:
    (event,) = parse_azure_monitor(load("fired_metric.json"))

    assert event.labels == {
        "alert_rule": "WCUS-R2-Gen2",
        "signal_type": "Metric",
        "monitoring_service": "Platform",
        "target_resource_type": "microsoft.compute/virtualmachines",
        "target_resource_group": "pipelinealertrg",
        "configuration_items": "wcus-r2-gen2",
    }


def test_investigation_link_and_target_resources_become_portal_links() -> None:
    (event,) = parse_azure_monitor(load("fired_metric.json"))

    assert [link.title for link in event.links] == [
        "Investigate in Azure",
        "Resource wcus-r2-gen2",
    ]
    assert event.links[0].url.startswith("https://portal.azure.com/#view/")
    assert event.links[1] == Link(
        "Resource wcus-r2-gen2",
        "https://portal.azure.com/#resource/subscriptions/11111111-2222-3333-4444-555555555555"
        "/resourcegroups/pipelinealertrg/providers/microsoft.compute/virtualmachines/"
        "wcus-r2-gen2",
    )


def test_alert_context_and_custom_properties_are_kept_in_details() -> None:
    (event,) = parse_azure_monitor(load("resolved_metric.json"))

    assert event.details["customProperties"] == {"Key1": "Value1", "Key2": "Value2"}
    context = event.details["alertContext"]
    assert isinstance(context, dict)
    assert context["conditionType"] == "SingleResourceMultipleMetricCriteria"
    assert event.details["essentialsVersion"] == "1.0"


def test_every_missing_essential_is_named() -> None:
    with pytest.raises(MissingFieldsError) as error:
        parse_azure_monitor(load("missing_fields.json"))

    assert error.value.fields == ("data.essentials.alertId", "data.essentials.monitorCondition")


def test_a_body_without_data_names_it() -> None:
    with pytest.raises(MissingFieldsError) as error:
        parse_azure_monitor({"schemaId": "azureMonitorCommonAlertSchema"})

    assert error.value.fields == ("data",)


def test_a_severity_outside_sev0_to_sev4_is_refused_naming_the_allowed_words() -> None:
    with pytest.raises(PayloadError) as error:
        parse_azure_monitor(load("wrong_severity.json"))

    assert error.value.field == "data.essentials.severity"
    assert '"Sev0", "Sev1", "Sev2", "Sev3" or "Sev4", got "Critical"' in error.value.problem


def test_an_unknown_monitor_condition_is_refused() -> None:
    payload = load("fired_metric.json")
    payload["data"]["essentials"]["monitorCondition"] = "Acknowledged"

    with pytest.raises(PayloadError) as error:
        parse_azure_monitor(payload)

    assert error.value.field == "data.essentials.monitorCondition"
    assert '"Fired" or "Resolved"' in error.value.problem


def test_another_schema_id_is_refused() -> None:
    payload = load("fired_metric.json")
    payload["schemaId"] = "Microsoft.Insights/activityLogs"

    with pytest.raises(PayloadError) as error:
        parse_azure_monitor(payload)

    assert error.value.field == "schemaId"


def test_a_target_of_the_wrong_type_is_named_with_its_index() -> None:
    payload = load("fired_metric.json")
    payload["data"]["essentials"]["alertTargetIDs"] = ["/subscriptions/x", 7]

    with pytest.raises(PayloadError) as error:
        parse_azure_monitor(payload)

    assert (error.value.field, error.value.problem) == (
        "data.essentials.alertTargetIDs[1]",
        "must be a string, got number",
    )


def test_a_bad_fired_time_is_named() -> None:
    payload = load("fired_metric.json")
    payload["data"]["essentials"]["firedDateTime"] = "yesterday"

    with pytest.raises(PayloadError) as error:
        parse_azure_monitor(payload)

    assert error.value.field == "data.essentials.firedDateTime"


def test_an_alert_context_that_is_no_object_is_named() -> None:
    payload = load("fired_metric.json")
    payload["data"]["alertContext"] = "CPU"

    with pytest.raises(PayloadError) as error:
        parse_azure_monitor(payload)

    assert (error.value.field, error.value.problem) == (
        "data.alertContext",
        "must be an object, got string",
    )


def test_a_criterion_that_is_no_object_is_named_with_its_index() -> None:
    payload = load("fired_metric.json")
    payload["data"]["alertContext"]["condition"]["allOf"].append("CPU > 25")

    with pytest.raises(PayloadError) as error:
        parse_azure_monitor(payload)

    assert error.value.field == "data.alertContext.condition.allOf[1]"
