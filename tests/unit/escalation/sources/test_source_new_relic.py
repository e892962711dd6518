"""New Relic's workflow webhook with its default payload, from fixtures shaped as the template
fills it (tests/unit/fixtures/new_relic/SOURCE.md says where it is documented)."""

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from escalation.errors import MissingFieldsError, PayloadError
from escalation.model import Link, SourceStatus
from escalation.sources.new_relic import parse_new_relic

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "new_relic"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_an_activated_issue_fires_keyed_by_the_issue_with_its_priority() -> None:
    payload = load("activated.json")
    before = copy.deepcopy(payload)

    (event,) = parse_new_relic(payload)

    assert payload == before
    assert event.status is SourceStatus.FIRING
    assert event.fingerprint == "new_relic:0ea2df1c-adab-45d2-aae0-042b609d2322"
    assert event.title == "Memory Used % > 90 for at least 2 minutes on 'checkout-1'"
    assert event.severity == "CRITICAL"
    assert event.description == "Impacted: checkout-1, checkout-2 · 2 incidents"
    assert event.starts_at == datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    assert event.links == (
        Link(
            "Issue",
            "https://radar-api.service.newrelic.com/accounts/3141592/issues/"
            "0ea2df1c-adab-45d2-aae0-042b609d2322?notifier=WEBHOOK",
        ),
    )


def test_policy_condition_entities_and_workflow_become_labels() -> None:
    (event,) = parse_new_relic(load("activated.json"))

    assert event.labels == {
        "issue_id": "0ea2df1c-adab-45d2-aae0-042b609d2322",
        "policy": "Checkout hosts",
        "condition": "Memory Used % high",
        "sources": "newrelic",
        "entities": "checkout-1, checkout-2",
        "workflowName": "Checkout to Tocsin",
        "trigger": "STATE_CHANGE",
    }
    assert event.details["totalIncidents"] == 2


def test_acknowledged_acknowledges_and_closed_resolves_the_same_issue() -> None:
    (fired,) = parse_new_relic(load("activated.json"))
    (acked,) = parse_new_relic(load("acknowledged.json"))
    (closed,) = parse_new_relic(load("closed.json"))

    assert acked.status is SourceStatus.ACKNOWLEDGED
    assert closed.status is SourceStatus.RESOLVED
    assert fired.fingerprint == acked.fingerprint == closed.fingerprint
    assert closed.ends_at == datetime(2026, 11, 21, 10, 15, tzinfo=UTC)
    assert closed.starts_at is None


def test_a_template_naming_the_variables_and_its_tag_labels_is_read() -> None:
    (event,) = parse_new_relic(load("created_named_variables.json"))

    assert event.status is SourceStatus.FIRING
    assert event.fingerprint == "new_relic:5d2c1b0a-9e8f-4a7b-8c6d-5e4f3a2b1c0d"
    assert event.severity == "HIGH"
    assert event.description == "Impacted: payments-api · 1 incident"
    assert event.labels["team"] == "payments"
    assert event.labels["env"] == "prod"
    assert event.labels["region"] == "eu"
    assert event.links[0].url.startswith("https://one.newrelic.com/alerts-ai/issues/")


def test_every_missing_field_is_named() -> None:
    with pytest.raises(MissingFieldsError) as error:
        parse_new_relic(load("missing_fields.json"))

    assert error.value.fields == ("id", "title", "state")


def test_a_state_new_relic_does_not_send_to_workflows_is_refused() -> None:
    with pytest.raises(PayloadError) as error:
        parse_new_relic(load("wrong_state.json"))

    assert str(error.value) == (
        'state: must be one of CREATED, ACTIVATED, ACKNOWLEDGED, CLOSED, got "DEACTIVATED"'
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p.update(id=42), "id"),
        (lambda p: p.update(title=" "), "title"),
        (lambda p: p.update(priority="P1"), "priority"),
        (lambda p: p.update(impactedEntities="checkout-1"), "impactedEntities"),
        (lambda p: p["alertPolicyNames"].append(7), "alertPolicyNames[1]"),
        (lambda p: p.update(totalIncidents=-1), "totalIncidents"),
        (lambda p: p.update(labels={"team": 3}), "labels.team"),
        (lambda p: p.update(impactedEntities=None, entitiesData=[]), "entitiesData"),
    ],
)
def test_a_malformed_part_is_named(change: Any, field: str) -> None:
    payload = load("activated.json")
    change(payload)

    with pytest.raises(PayloadError) as error:
        parse_new_relic(payload)

    assert error.value.field == field


def test_an_odd_timestamp_is_left_out_rather_than_refused() -> None:
    payload = load("activated.json")
    payload["createdAt"] = "{{ createdAt }}"

    (event,) = parse_new_relic(payload)

    assert event.starts_at is None


def test_a_payload_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(PayloadError) as error:
        parse_new_relic(None)

    assert error.value.field == ""
