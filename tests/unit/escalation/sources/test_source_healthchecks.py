"""Healthchecks.io's webhook integration, with the body Tocsin documents for it."""

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from escalation.errors import MissingFieldsError, PayloadError
from escalation.model import Link, SourceStatus
from escalation.sources.healthchecks import parse_healthchecks

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "healthchecks"
CODE = "7f3c2a10-4b5e-4d6f-8a9b-0c1d2e3f4a5b"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_a_check_going_down_fires_with_its_code_as_fingerprint() -> None:
    payload = load("down.json")
    before = copy.deepcopy(payload)

    (event,) = parse_healthchecks(payload)

    assert payload == before
    assert event.status is SourceStatus.FIRING
    assert event.fingerprint == f"healthchecks:{CODE}"
    assert event.title == "nightly-backup is down"
    assert event.description == "pg_dump of the orders database to S3"
    assert event.source == "healthchecks"
    assert event.starts_at == datetime(2026, 11, 21, 3, 0, 41, tzinfo=UTC)
    assert event.ends_at is None
    assert event.severity is None


def test_the_same_check_coming_up_resolves_the_same_alert() -> None:
    (down,) = parse_healthchecks(load("down.json"))
    (up,) = parse_healthchecks(load("up.json"))

    assert up.status is SourceStatus.RESOLVED
    assert up.fingerprint == down.fingerprint
    assert up.title == "nightly-backup is up"
    assert up.ends_at == datetime(2026, 11, 21, 3, 12, 9, tzinfo=UTC)
    assert up.starts_at is None


def test_the_event_status_wins_over_the_checks_status_now() -> None:
    payload = load("up.json")
    payload["check"]["status"] = "down"  # it failed again before the "up" was sent

    (event,) = parse_healthchecks(payload)

    assert event.status is SourceStatus.RESOLVED


def test_identifiers_and_tags_become_labels_and_timing_details() -> None:
    (event,) = parse_healthchecks(load("down.json"))

    assert event.labels == {
        "check": "nightly-backup",
        "code": CODE,
        "slug": "nightly-backup",
        "tags": "prod backup",
    }
    assert event.details == {
        "grace": 3600,
        "timeout": 86400,
        "n_pings": 412,
        "last_ping": "2026-11-20T02:00:41+00:00",
        "last_duration": 38,
    }


def test_the_checks_page_on_the_sending_site_is_a_link() -> None:
    (hosted,) = parse_healthchecks(load("down.json"))
    (self_hosted,) = parse_healthchecks(load("docs_example_down.json"))

    assert hosted.links == (Link("Check", f"https://healthchecks.io/checks/{CODE}/details/"),)
    assert self_hosted.links == (
        Link(
            "Check",
            "https://hc.example.com/hc/checks/b1d2e3f4-0a1b-4c2d-9e3f-a0b1c2d3e4f5/details/",
        ),
    )


def test_the_docs_example_alone_takes_status_and_code_from_the_check() -> None:
    (event,) = parse_healthchecks(load("docs_example_down.json"))

    assert event.status is SourceStatus.FIRING
    assert event.fingerprint == "healthchecks:b1d2e3f4-0a1b-4c2d-9e3f-a0b1c2d3e4f5"
    assert event.title == "invoice-run is down"
    assert event.details["schedule"] == "0 6 * * 1-5"
    assert event.details["tz"] == "Europe/Berlin"


def test_a_flat_body_of_placeholders_without_json_works() -> None:
    body = {"code": CODE.upper(), "status": "down", "name": "nightly-backup", "tags": "prod"}

    (event,) = parse_healthchecks(body)

    assert event.fingerprint == f"healthchecks:{CODE}"
    assert event.title == "nightly-backup is down"
    assert event.labels == {"check": "nightly-backup", "code": CODE, "tags": "prod"}
    assert event.links == ()


def test_an_unnamed_check_is_called_by_its_code() -> None:
    (event,) = parse_healthchecks({"code": CODE, "status": "down"})

    assert event.title == f"{CODE} is down"


def test_a_severity_written_into_the_body_is_the_events_severity() -> None:
    payload = load("down.json")
    payload["severity"] = " major "

    (event,) = parse_healthchecks(payload)

    assert event.severity == "major"


def test_the_grace_status_without_the_event_status_is_refused_with_a_hint() -> None:
    with pytest.raises(PayloadError) as error:
        parse_healthchecks(load("wrong_status.json"))

    assert error.value.field == "check.status"
    assert error.value.problem == (
        'must be "down" or "up", got "grace"; add "status": "$STATUS" to the body'
    )


def test_every_missing_required_field_is_named() -> None:
    with pytest.raises(MissingFieldsError) as error:
        parse_healthchecks(load("missing_fields.json"))

    assert error.value.fields == ("status", "code")


def test_a_check_whose_ping_url_has_no_code_lacks_its_code() -> None:
    payload = load("docs_example_down.json")
    payload["check"]["ping_url"] = "https://hc-ping.com/abc/nightly-backup"
    del payload["check"]["update_url"]

    with pytest.raises(MissingFieldsError) as error:
        parse_healthchecks(payload)

    assert error.value.fields == ("code",)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p.update(status="paused"), "status"),
        (lambda p: p.update(code="nightly-backup"), "code"),
        (lambda p: p.update(code=42), "code"),
        (lambda p: p.update(now="3am"), "now"),
        (lambda p: p.update(check=[]), "check"),
        (lambda p: p["check"].update(name=7), "check.name"),
        (lambda p: p["check"].update(desc=["x"]), "check.desc"),
        (lambda p: p.update(severity="x" * 101), "severity"),
    ],
)
def test_a_malformed_part_is_named(change: Any, field: str) -> None:
    payload = load("down.json")
    change(payload)

    with pytest.raises(PayloadError) as error:
        parse_healthchecks(payload)

    assert error.value.field == field


def test_a_payload_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(PayloadError) as error:
        parse_healthchecks("down")

    assert error.value.field == ""
