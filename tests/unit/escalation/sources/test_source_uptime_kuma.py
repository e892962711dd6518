"""Uptime Kuma's webhook notification, from fixtures shaped like its webhook provider sends."""

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from escalation.errors import MissingFieldsError, PayloadError
from escalation.model import Link, SourceStatus
from escalation.sources.uptime_kuma import parse_uptime_kuma

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "uptime_kuma"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_a_monitor_going_down_fires_with_its_id_as_fingerprint() -> None:
    payload = load("down.json")
    before = copy.deepcopy(payload)

    (event,) = parse_uptime_kuma(payload)

    assert payload == before
    assert event.status is SourceStatus.FIRING
    assert event.fingerprint == "uptime_kuma:12"
    assert event.title == "Shop API is down"
    assert event.description == "timeout of 48000ms exceeded"
    assert event.source == "uptime_kuma"
    assert event.starts_at == datetime(2026, 11, 21, 10, 0, 5, 527000, tzinfo=UTC)
    assert event.ends_at is None


def test_the_same_monitor_coming_up_resolves_the_same_alert() -> None:
    (down,) = parse_uptime_kuma(load("down.json"))
    (up,) = parse_uptime_kuma(load("up.json"))

    assert up.status is SourceStatus.RESOLVED
    assert up.fingerprint == down.fingerprint
    assert up.title == "Shop API is up"
    assert up.ends_at == datetime(2026, 11, 21, 10, 7, 5, 112000, tzinfo=UTC)
    assert up.starts_at is None


def test_identifiers_and_tags_become_labels_and_a_severity_tag_the_severity() -> None:
    (event,) = parse_uptime_kuma(load("down.json"))

    assert event.labels == {
        "monitor_id": "12",
        "monitor": "Shop API",
        "type": "http",
        "pathName": "Production / Shop API",
        "severity": "critical",
        "team": "payments",
    }
    assert event.severity == "critical"


def test_without_a_severity_tag_there_is_no_severity() -> None:
    payload = load("down.json")
    payload["monitor"]["tags"] = []

    (event,) = parse_uptime_kuma(payload)

    assert event.severity is None
    assert "severity" not in event.labels


def test_the_monitored_url_is_a_link_and_a_host_monitor_has_none() -> None:
    (event,) = parse_uptime_kuma(load("down.json"))
    payload = load("down.json")
    payload["monitor"].update(type="ping", url="https://", hostname="db-1")

    (ping,) = parse_uptime_kuma(payload)

    assert event.links == (Link("Monitored URL", "https://shop.example.com/health"),)
    assert ping.links == ()
    assert ping.labels["hostname"] == "db-1"


def test_the_notification_text_and_heartbeat_figures_are_kept_in_details() -> None:
    (event,) = parse_uptime_kuma(load("up.json"))

    assert event.details == {
        "msg": "[Shop API] [✅ Up] 200 - OK",
        "time": "2026-11-21 10:07:05.112",
        "ping": 143,
        "duration": 420,
    }


def test_a_time_with_an_offset_is_read_and_an_unreadable_one_left_out() -> None:
    payload = load("down.json")
    payload["heartbeat"]["time"] = "2026-11-21T11:00:05+01:00"
    (with_offset,) = parse_uptime_kuma(payload)
    payload["heartbeat"]["time"] = "yesterday"
    (unreadable,) = parse_uptime_kuma(payload)

    assert with_offset.starts_at == datetime(2026, 11, 21, 10, 0, 5, tzinfo=UTC)
    assert unreadable.starts_at is None


def test_the_test_button_without_heartbeat_or_monitor_is_a_firing_alert_of_its_message() -> None:
    (event,) = parse_uptime_kuma(load("test_notification.json"))
    (again,) = parse_uptime_kuma(load("test_notification.json"))

    assert event.status is SourceStatus.FIRING
    assert event.title == "Tocsin webhook Testing"
    assert event.fingerprint == again.fingerprint
    assert event.labels == {}


def test_a_message_without_heartbeat_needs_a_message() -> None:
    with pytest.raises(PayloadError) as error:
        parse_uptime_kuma({"heartbeat": None, "monitor": None, "msg": " "})

    assert error.value.field == "msg"
    assert error.value.problem == "must not be empty"


def test_a_monitor_without_its_heartbeat_is_refused() -> None:
    payload = load("down.json")
    payload["heartbeat"] = None

    with pytest.raises(PayloadError) as error:
        parse_uptime_kuma(payload)

    assert error.value.field == "heartbeat"


def test_a_pending_or_maintenance_status_is_refused_naming_the_field() -> None:
    with pytest.raises(PayloadError) as error:
        parse_uptime_kuma(load("wrong_status.json"))

    assert str(error.value) == "heartbeat.status: must be 0 (down) or 1 (up), got 2"


@pytest.mark.parametrize("status", [True, "0", 0.5])
def test_a_status_that_is_not_0_or_1_is_refused(status: object) -> None:
    payload = load("down.json")
    payload["heartbeat"]["status"] = status

    with pytest.raises(PayloadError) as error:
        parse_uptime_kuma(payload)

    assert error.value.field == "heartbeat.status"


def test_every_missing_required_field_is_named() -> None:
    with pytest.raises(MissingFieldsError) as error:
        parse_uptime_kuma(load("missing_fields.json"))

    assert error.value.fields == ("heartbeat.status", "monitor.id")


def test_a_heartbeat_without_its_monitor_is_refused() -> None:
    payload = load("down.json")
    del payload["monitor"]

    with pytest.raises(PayloadError) as error:
        parse_uptime_kuma(payload)

    assert error.value.field == "monitor"
    assert error.value.problem == "is required"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p.update(heartbeat=[]), "heartbeat"),
        (lambda p: p["monitor"].update(id=-1), "monitor.id"),
        (lambda p: p["monitor"].update(name=""), "monitor.name"),
        (lambda p: p["monitor"].update(tags={}), "monitor.tags"),
        (lambda p: p["monitor"]["tags"][1].update(name=3), "monitor.tags[1].name"),
        (lambda p: p["heartbeat"].update(msg=5), "heartbeat.msg"),
    ],
)
def test_a_malformed_part_is_named(change: Any, field: str) -> None:
    payload = load("down.json")
    change(payload)

    with pytest.raises(PayloadError) as error:
        parse_uptime_kuma(payload)

    assert error.value.field == field


def test_a_payload_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(PayloadError) as error:
        parse_uptime_kuma([])

    assert error.value.field == ""
