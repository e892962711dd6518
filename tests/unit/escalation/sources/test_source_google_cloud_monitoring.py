"""Google Cloud Monitoring's webhook incidents (version 1.2), from fixtures shaped like the
schema's example in Google's notification-channel documentation."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from escalation.errors import MissingFieldsError, PayloadError
from escalation.model import Link, SourceStatus
from escalation.sources.google_cloud_monitoring import parse_google_cloud_monitoring as parse

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "google_cloud_monitoring"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_an_open_incident_fires_keyed_by_its_incident_id() -> None:
    (event,) = parse(load("open.json"))

    assert event.status is SourceStatus.FIRING
    assert event.fingerprint == "0.opqiw61fsv7p"
    assert event.title == "Monitor-Project-Cluster"
    assert event.source == "google_cloud_monitoring"
    assert event.starts_at == datetime(2020, 1, 1, 1, 1, 1, tzinfo=UTC)
    assert event.ends_at is None


def test_the_closed_incident_resolves_the_same_alert() -> None:
    (opened,) = parse(load("open.json"))
    (closed,) = parse(load("closed.json"))

    assert closed.status is SourceStatus.RESOLVED
    assert closed.fingerprint == opened.fingerprint
    assert closed.ends_at == datetime(2020, 1, 1, 11, 11, 11, tzinfo=UTC)


def test_summary_and_documentation_make_the_description() -> None:
    (event,) = parse(load("closed.json"))

    assert event.description.startswith("CPU utilization for internal-project")
    assert event.description.endswith(
        "returned to normal with a value of 0.835.\n\n"
        "Check the node pool's autoscaler before adding nodes by hand."
    )


def test_the_incident_severity_is_the_events_severity() -> None:
    (event,) = parse(load("open.json"))

    assert event.severity == "Critical"


def test_without_a_policy_severity_a_severity_user_label_stands_in() -> None:
    (event,) = parse(load("open_no_severity.json"))

    assert event.severity == "p2"


def test_no_severity_and_no_label_leave_the_severity_unset() -> None:
    payload = load("open_no_severity.json")
    del payload["incident"]["policy_user_labels"]

    (event,) = parse(payload)

    assert event.severity is None


def test_user_labels_policy_project_resource_and_metric_become_labels() -> None:
    (event,) = parse(load("open.json"))

    assert event.labels == {
        "team": "platform",
        "service": "gke",
        "project": "internal-project",
        "policy": "Monitor-Project-Cluster",
        "condition": "VM Instance - CPU utilization [MAX]",
        "resource_name": "internal-project gke-cluster-1-default-pool-e2df4cbd-dgp3",
        "resource_kind": "VM Instance",
        "resource_type": "gce_instance",
        "resource.instance_id": "11223344",
        "resource.project_id": "internal-project",
        "resource.zone": "us-central1-a",
        "metric_type": "compute.googleapis.com/instance/cpu/utilization",
        "metric.instance_name": "gke-cluster-1-default-pool-e2df4cbd-dgp3",
    }


def test_the_incident_page_and_documentation_links_become_links() -> None:
    (event,) = parse(load("open.json"))

    assert event.links == (
        Link(
            "Incident in Cloud Monitoring",
            "https://console.cloud.google.com/monitoring/alerting/incidents/0.opqiw61fsv7p"
            "?project=internal-project",
        ),
        Link("Playbook", "https://wiki.example.com/playbooks/gke-cpu"),
    )


def test_observed_value_threshold_and_condition_are_kept_in_details() -> None:
    (event,) = parse(load("open.json"))

    assert event.details["observed_value"] == "0.97"
    assert event.details["threshold_value"] == "0.9"
    condition = event.details["condition"]
    assert isinstance(condition, dict)
    assert condition["displayName"] == "VM Instance - CPU utilization [MAX]"


def test_every_missing_incident_field_is_named() -> None:
    with pytest.raises(MissingFieldsError) as error:
        parse(load("missing_fields.json"))

    assert error.value.fields == ("incident.incident_id", "incident.state")


def test_a_body_without_incident_names_it() -> None:
    with pytest.raises(MissingFieldsError) as error:
        parse({"version": "1.2"})

    assert error.value.fields == ("incident",)


def test_an_unknown_state_is_refused_naming_the_allowed_words() -> None:
    with pytest.raises(PayloadError) as error:
        parse(load("wrong_state.json"))

    assert (error.value.field, error.value.problem) == (
        "incident.state",
        'must be "open" or "closed" (or in capitals), got "acknowledged"',
    )


def test_another_version_is_refused() -> None:
    payload = load("open.json")
    payload["version"] = "2.0"

    with pytest.raises(PayloadError) as error:
        parse(payload)

    assert error.value.field == "version"


@pytest.mark.parametrize("value", ["1577840461", -1, 1.5, 10**13])
def test_a_start_that_is_no_epoch_second_is_named(value: object) -> None:
    payload = load("open.json")
    payload["incident"]["started_at"] = value

    with pytest.raises(PayloadError) as error:
        parse(payload)

    assert error.value.field == "incident.started_at"


def test_a_user_label_of_the_wrong_type_is_named() -> None:
    payload = load("open.json")
    payload["incident"]["policy_user_labels"]["team"] = 7

    with pytest.raises(PayloadError) as error:
        parse(payload)

    assert (error.value.field, error.value.problem) == (
        "incident.policy_user_labels.team",
        "must be a string, got number",
    )


def test_a_documentation_link_that_is_no_object_is_named_with_its_index() -> None:
    payload = load("open.json")
    payload["incident"]["documentation"]["links"].append("https://example.com")

    with pytest.raises(PayloadError) as error:
        parse(payload)

    assert error.value.field == "incident.documentation.links[1]"


def test_the_consoles_test_notification_fires_with_its_string_documentation() -> None:
    (event,) = parse(load("test_notification.json"))

    assert event.status is SourceStatus.FIRING
    assert event.fingerprint == "12345"
    assert event.description == "Test Incident\n\nTest documentation"
    assert (event.starts_at, event.ends_at) == (None, None)  # 0: no time given


def test_a_closed_test_notification_in_capitals_resolves() -> None:
    payload = load("test_notification.json")
    payload["incident"]["state"] = "CLOSED"

    (event,) = parse(payload)

    assert event.status is SourceStatus.RESOLVED


def test_without_a_policy_name_the_condition_names_the_alert_not_a_user_label() -> None:
    payload = load("open.json")
    del payload["incident"]["policy_name"]
    payload["incident"]["policy_user_labels"]["policy"] = "a user label"

    (event,) = parse(payload)

    assert event.title == "VM Instance - CPU utilization [MAX]"
