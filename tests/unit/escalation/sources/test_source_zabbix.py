"""Zabbix's webhook media type, shaped like Zabbix's shipped media types post parameters."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from escalation.errors import MissingFieldsError, PayloadError
from escalation.model import Link, SourceStatus
from escalation.sources.zabbix import parse_zabbix

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "zabbix"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_a_problem_fires_with_its_event_id_as_fingerprint_and_its_severity() -> None:
    payload = load("problem.json")
    before = copy.deepcopy(payload)

    (event,) = parse_zabbix(payload)

    assert payload == before
    assert event.status is SourceStatus.FIRING
    assert event.fingerprint == "zabbix:4711"
    assert event.title == "High CPU utilization (over 90% for 5m)"
    assert event.severity == "High"
    assert event.source == "zabbix"
    assert event.description == (
        "CPU utilization is too high. The system might be slow to respond.\n\n"
        "Current utilization: 97.3 %"
    )


def test_its_recovery_resolves_the_same_alert() -> None:
    (problem,) = parse_zabbix(load("problem.json"))
    (recovery,) = parse_zabbix(load("recovery.json"))

    assert recovery.status is SourceStatus.RESOLVED
    assert recovery.fingerprint == problem.fingerprint


def test_host_trigger_and_event_tags_become_labels() -> None:
    (event,) = parse_zabbix(load("problem.json"))

    assert event.labels == {
        "host": "db-1.prod",
        "host_name": "db-1",
        "host_ip": "10.0.3.17",
        "trigger_id": "23155",
        "nseverity": "4",
        "event_id": "4711",
        "class": "os",
        "component": "cpu",
        "scope": "performance",
        "team": "dba",
    }


def test_the_event_in_zabbix_and_the_trigger_url_are_links() -> None:
    (event,) = parse_zabbix(load("problem.json"))
    (minimal,) = parse_zabbix(load("problem_minimal.json"))

    assert event.links == (
        Link(
            "Event",
            "https://zabbix.example.com/zabbix/tr_events.php?triggerid=23155&eventid=4711",
        ),
        Link("Trigger URL", "https://wiki.example.com/runbooks/cpu"),
    )
    assert minimal.links == ()


def test_macros_left_unexpanded_count_as_absent() -> None:
    (event,) = parse_zabbix(load("problem.json"))
    payload = load("problem_minimal.json")
    payload.update({"EVENT.NAME": "{EVENT.NAME}", "TRIGGER.NAME": "*UNKNOWN*"})
    payload["ALERT.SUBJECT"] = "Problem: agent down"

    (subject,) = parse_zabbix(payload)

    assert "EVENT.RECOVERY.DATE" not in event.details
    assert "ITEM.ID2" not in event.details
    assert event.details["EVENT.TIME"] == "10:00:05"
    assert subject.title == "Problem: agent down"


def test_without_any_name_the_title_is_the_event_number() -> None:
    (event,) = parse_zabbix({"EVENT.ID": "12", "EVENT.VALUE": "1"})

    assert event.title == "Zabbix event 12"
    assert event.severity is None
    assert event.labels == {"event_id": "12"}


def test_the_alert_message_is_the_description_when_the_trigger_has_none() -> None:
    payload = load("problem_minimal.json")
    payload["ALERT.MESSAGE"] = "Problem started at 10:00"

    (event,) = parse_zabbix(payload)

    assert event.description == "Problem started at 10:00"


def test_every_missing_required_parameter_is_named() -> None:
    with pytest.raises(MissingFieldsError) as error:
        parse_zabbix(load("missing_fields.json"))

    assert error.value.fields == ("EVENT.ID", "EVENT.VALUE")


def test_an_event_value_other_than_0_or_1_is_refused() -> None:
    with pytest.raises(PayloadError) as error:
        parse_zabbix(load("wrong_value.json"))

    assert str(error.value) == 'EVENT.VALUE: must be "1" (problem) or "0" (recovery), got "PROBLEM"'


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p.update({"EVENT.ID": "abc"}), "EVENT.ID"),
        (lambda p: p.update({"EVENT.ID": 4711}), "EVENT.ID"),
        (lambda p: p.update({"EVENT.VALUE": 1}), "EVENT.VALUE"),
        (lambda p: p.update({"EVENT.SEVERITY": ["High"]}), "EVENT.SEVERITY"),
        (lambda p: p.update({"HOST.NAME": 3}), "HOST.NAME"),
        (lambda p: p.update({"EVENT.TAGS": {"a": "b"}}), "EVENT.TAGS"),
    ],
)
def test_a_malformed_parameter_is_named(change: Any, field: str) -> None:
    payload = load("problem.json")
    change(payload)

    with pytest.raises(PayloadError) as error:
        parse_zabbix(payload)

    assert error.value.field == field


def test_a_payload_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(PayloadError) as error:
        parse_zabbix(None)

    assert error.value.field == ""
