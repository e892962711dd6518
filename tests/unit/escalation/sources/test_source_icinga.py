"""Icinga 2 (or Checkmk) notifications with the body Tocsin documents, from fixtures shaped as
Icinga fills the macros (tests/unit/fixtures/icinga/SOURCE.md says where they are
documented)."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from escalation.errors import MissingFieldsError, PayloadError
from escalation.model import Link, SourceStatus
from escalation.sources.icinga import parse_icinga

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "icinga"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_a_service_problem_fires_keyed_by_host_and_service_with_its_state() -> None:
    payload = load("service_problem.json")
    before = copy.deepcopy(payload)

    (event,) = parse_icinga(payload)

    assert payload == before
    assert event.status is SourceStatus.FIRING
    assert event.fingerprint == "icinga:db-1.example.com!disk"
    assert event.title == "Disk /var/lib/postgresql on db-1 is CRITICAL"
    assert event.severity == "CRITICAL"
    assert event.description.startswith("DISK CRITICAL - free space")
    assert event.labels == {
        "host": "db-1.example.com",
        "service": "disk",
        "host_display_name": "db-1",
        "service_display_name": "Disk /var/lib/postgresql",
        "state": "CRITICAL",
    }
    assert event.links == (
        Link(
            "Service",
            "https://icinga.example.com/icingaweb2/icingadb/service?name=disk"
            "&host.name=db-1.example.com",
        ),
    )


def test_the_acknowledgement_acknowledges_at_the_source_saying_who_and_why() -> None:
    (event,) = parse_icinga(load("service_acknowledgement.json"))

    assert event.status is SourceStatus.ACKNOWLEDGED
    assert event.fingerprint == "icinga:db-1.example.com!disk"
    assert event.description.startswith("Acknowledgement by alice: Growing the volume\n\n")
    assert event.details["author"] == "alice"


def test_the_recovery_resolves_the_same_service() -> None:
    (problem,) = parse_icinga(load("service_problem.json"))
    (recovery,) = parse_icinga(load("service_recovery.json"))

    assert recovery.status is SourceStatus.RESOLVED
    assert recovery.fingerprint == problem.fingerprint
    assert recovery.title == "Disk /var/lib/postgresql on db-1 is OK"
    assert recovery.severity is None


def test_a_host_problem_has_no_service_and_links_the_host() -> None:
    (down,) = parse_icinga(load("host_down.json"))
    (up,) = parse_icinga(load("host_recovery.json"))

    assert down.status is SourceStatus.FIRING
    assert down.fingerprint == up.fingerprint == "icinga:web-3.example.com"
    assert down.title == "web-3 is DOWN"
    assert down.severity == "DOWN"
    assert "service" not in down.labels
    assert down.links == (
        Link("Host", "https://icinga.example.com/icingaweb2/icingadb/host?name=web-3.example.com"),
    )
    assert up.status is SourceStatus.RESOLVED


@pytest.mark.parametrize(("state", "status"), [("OK", "resolved"), ("WARNING", "firing")])
def test_a_custom_notification_goes_by_the_state(state: str, status: str) -> None:
    payload = load("service_problem.json")
    payload.update(notification_type="CUSTOM", state=state)

    (event,) = parse_icinga(payload)

    assert event.status.value == status


def test_checkmks_unreachable_host_state_fires() -> None:
    payload = load("host_down.json")
    payload["state"] = "UNREACHABLE"

    (event,) = parse_icinga(payload)

    assert (event.status, event.severity) == (SourceStatus.FIRING, "UNREACHABLE")


def test_empty_macros_count_as_absent_and_every_missing_field_is_named() -> None:
    with pytest.raises(MissingFieldsError) as error:
        parse_icinga(load("missing_fields.json"))

    assert error.value.fields == ("notification_type", "host_name", "state")


def test_a_downtime_notification_is_refused_saying_how_to_leave_it_out() -> None:
    with pytest.raises(PayloadError) as error:
        parse_icinga(load("wrong_type.json"))

    assert error.value.field == "notification_type"
    assert 'got "DOWNTIMESTART"' in error.value.problem
    assert "types" in error.value.problem


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p.update(state="PENDING"), "state"),
        (lambda p: p.update(host_name=1), "host_name"),
        (lambda p: p.update(service_name="s" * 256), "service_name"),
        (lambda p: p.update(output=["x"]), "output"),
    ],
)
def test_a_malformed_part_is_named(change: Any, field: str) -> None:
    payload = load("service_problem.json")
    change(payload)

    with pytest.raises(PayloadError) as error:
        parse_icinga(payload)

    assert error.value.field == field


def test_a_payload_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(PayloadError) as error:
        parse_icinga("PROBLEM db-1 disk CRITICAL")

    assert error.value.field == ""


def test_names_too_long_to_store_as_a_fingerprint_are_hashed_the_same_way_each_time() -> None:
    payload = load("service_problem.json")
    payload.update(host_name="h" * 255, service_name="s" * 255)
    other = load("service_problem.json")
    other.update(host_name="h" * 255, service_name="s" * 254 + "t")

    (event,) = parse_icinga(payload)
    (again,) = parse_icinga(copy.deepcopy(payload))
    (different,) = parse_icinga(other)

    assert len(event.fingerprint) <= 255
    assert event.fingerprint.startswith("icinga:sha256:")
    assert event.fingerprint == again.fingerprint != different.fingerprint
