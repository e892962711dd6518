import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from escalation.errors import MissingFieldsError, PayloadError
from escalation.model import Link, SourceStatus
from escalation.sources._fingerprint import derive_fingerprint
from escalation.sources.alertmanager import parse_alertmanager

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "alertmanager"
VALID_FIXTURES = ["firing_single.json", "batch_mixed.json", "resolved.json", "truncated.json"]


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def alert(**overrides: object) -> dict[str, object]:
    """A minimal valid alert; an override of ``None`` removes the field."""
    base: dict[str, object] = {
        "status": "firing",
        "labels": {"alertname": "Test"},
        "annotations": {},
        "startsAt": "2024-05-01T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "",
        "fingerprint": "",
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def webhook(alerts: object = None, **overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "version": "4",
        "groupKey": "{}:{}",
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "tocsin",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example.com:9093",
        "alerts": [alert()] if alerts is None else alerts,
    }
    base.update(overrides)
    return base


@pytest.mark.parametrize("name", VALID_FIXTURES)
def test_valid_fixture_gives_one_event_per_alert(name: str) -> None:
    payload = load(name)

    events = parse_alertmanager(payload)

    assert len(events) == len(payload["alerts"])
    assert all(event.source == "alertmanager" for event in events)
    assert [event.fingerprint for event in events] == [a["fingerprint"] for a in payload["alerts"]]


@pytest.mark.parametrize("name", VALID_FIXTURES)
def test_timestamps_are_timezone_aware_utc(name: str) -> None:
    for event in parse_alertmanager(load(name)):
        for moment in (event.starts_at, event.ends_at):
            assert moment is None or moment.tzinfo is UTC


@pytest.mark.parametrize("name", VALID_FIXTURES)
def test_parsing_does_not_modify_the_payload(name: str) -> None:
    payload = load(name)
    before = copy.deepcopy(payload)

    parse_alertmanager(payload)

    assert payload == before


def test_firing_alert_takes_its_text_from_annotations() -> None:
    (event,) = parse_alertmanager(load("firing_single.json"))

    assert event.status is SourceStatus.FIRING
    assert event.title == "Checkout error rate above 5%"
    assert event.description.startswith("5xx responses are 7.2%")
    assert event.impact == "Customers cannot pay."
    assert event.suggested_actions == "Roll back the last checkout deploy."
    assert (
        event.annotations["runbook_url"] == "https://runbooks.example.com/checkout/high-error-rate"
    )


def test_firing_alert_takes_severity_level_and_category_from_labels() -> None:
    (event,) = parse_alertmanager(load("firing_single.json"))

    assert event.severity == "critical"
    assert event.level == 1
    assert event.category == "availability"
    assert event.labels["service"] == "checkout"


def test_firing_alert_links_source_runbook_and_dashboard() -> None:
    (event,) = parse_alertmanager(load("firing_single.json"))

    assert [link.title for link in event.links] == ["Source", "Runbook", "Dashboard"]
    assert event.links[1] == Link(
        "Runbook", "https://runbooks.example.com/checkout/high-error-rate"
    )


def test_group_key_and_receiver_are_carried_over() -> None:
    (event,) = parse_alertmanager(load("firing_single.json"))

    assert event.group_key == '{}:{alertname="HighErrorRate"}'
    assert event.details == {
        "receiver": "tocsin",
        "externalURL": "http://alertmanager.example.com:9093",
        "truncatedAlerts": 0,
    }


def test_nine_fractional_digits_are_cut_to_microseconds() -> None:
    (event,) = parse_alertmanager(load("firing_single.json"))

    assert event.starts_at == datetime(2024, 5, 1, 10, 15, 30, 123456, tzinfo=UTC)


def test_go_zero_time_ends_at_means_not_ended() -> None:
    (event,) = parse_alertmanager(load("firing_single.json"))

    assert event.ends_at is None


def test_resolved_alert_in_mixed_batch_is_reported_resolved() -> None:
    firing, resolved = parse_alertmanager(load("batch_mixed.json"))

    assert firing.status is SourceStatus.FIRING
    assert resolved.status is SourceStatus.RESOLVED
    assert resolved.ends_at == datetime(2024, 5, 1, 8, 5, 12, 987654, tzinfo=UTC)


def test_timestamp_with_offset_is_converted_to_utc() -> None:
    firing, _ = parse_alertmanager(load("batch_mixed.json"))

    assert firing.starts_at == datetime(2024, 5, 1, 8, 0, 0, 500000, tzinfo=UTC)


def test_resolved_payload_gives_resolved_event_with_end_time() -> None:
    (event,) = parse_alertmanager(load("resolved.json"))

    assert event.status is SourceStatus.RESOLVED
    assert event.ends_at == datetime(2024, 5, 2, 1, 30, tzinfo=UTC)


def test_truncated_alert_count_is_kept_in_details() -> None:
    events = parse_alertmanager(load("truncated.json"))

    assert {event.details["truncatedAlerts"] for event in events} == {3}


def test_empty_generator_url_gives_no_link() -> None:
    events = parse_alertmanager(load("truncated.json"))

    assert all(event.links == () for event in events)


def test_non_http_urls_give_no_link() -> None:
    payload = webhook(
        [
            alert(
                generatorURL="javascript:alert(1)",
                annotations={"runbook_url": "file:///etc/passwd", "dashboard_url": "grafana"},
            )
        ]
    )

    (event,) = parse_alertmanager(payload)

    assert event.links == ()


@pytest.mark.parametrize("fingerprint", [None, ""])
def test_missing_fingerprint_is_derived_from_alertname_and_labels(fingerprint: str | None) -> None:
    labels = {"alertname": "DiskFull", "instance": "web-3"}

    (event,) = parse_alertmanager(webhook([alert(labels=labels, fingerprint=fingerprint)]))

    assert event.fingerprint == derive_fingerprint(title="DiskFull", labels=labels)


@pytest.mark.parametrize(
    ("annotations", "expected"),
    [
        ({"summary": "The summary", "title": "The title"}, "The summary"),
        ({"title": "The title"}, "The title"),
        ({"summary": "  "}, "Test"),
        ({}, "Test"),
    ],
)
def test_title_falls_back_from_summary_to_title_to_alertname(
    annotations: dict[str, str], expected: str
) -> None:
    (event,) = parse_alertmanager(webhook([alert(annotations=annotations)]))

    assert event.title == expected


def test_description_falls_back_to_message() -> None:
    (event,) = parse_alertmanager(webhook([alert(annotations={"message": "From message"})]))

    assert event.description == "From message"


def test_suggested_actions_annotation_beats_runbook() -> None:
    annotations = {"suggested_actions": "Restart it", "runbook": "Read the runbook"}

    (event,) = parse_alertmanager(webhook([alert(annotations=annotations)]))

    assert event.suggested_actions == "Restart it"


def test_missing_annotations_give_empty_texts() -> None:
    (event,) = parse_alertmanager(webhook([alert(annotations=None)]))

    assert (event.description, event.impact, event.suggested_actions) == ("", "", "")
    assert event.severity is None
    assert event.category is None


@pytest.mark.parametrize(
    ("labels", "annotations", "expected"),
    [
        ({"level": "2"}, {}, 2),
        ({}, {"level": "3"}, 3),
        ({"level": "1"}, {"level": "3"}, 1),
        ({"level": "high"}, {}, None),
        ({"level": "4"}, {"level": "2"}, 2),
        ({}, {}, None),
    ],
)
def test_level_comes_from_labels_then_annotations_when_it_is_1_2_or_3(
    labels: dict[str, str], annotations: dict[str, str], expected: int | None
) -> None:
    payload = webhook([alert(labels={"alertname": "Test", **labels}, annotations=annotations)])

    (event,) = parse_alertmanager(payload)

    assert event.level == expected


def test_unknown_alert_fields_are_kept_in_details() -> None:
    (event,) = parse_alertmanager(webhook([alert(silencedBy=["abc"], value=3.5)]))

    assert event.details["silencedBy"] == ["abc"]
    assert event.details["value"] == 3.5
    assert event.details["receiver"] == "tocsin"


def test_payload_without_version_is_accepted() -> None:
    payload = webhook()
    del payload["version"]

    assert len(parse_alertmanager(payload)) == 1


def test_thousand_alerts_are_accepted() -> None:
    assert len(parse_alertmanager(webhook([alert()] * 1000))) == 1000


@pytest.mark.parametrize(
    ("name", "field", "problem"),
    [
        ("missing_alertname.json", "alerts[0].labels.alertname", "is required"),
        ("wrong_label_type.json", "alerts[0].labels.port", "must be a string, got number"),
    ],
)
def test_invalid_fixture_is_rejected_naming_the_field(name: str, field: str, problem: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_alertmanager(load(name))

    assert (caught.value.field, caught.value.problem) == (field, problem)


ERROR_CASES = [
    pytest.param([], "", "the payload must be an object, got array", id="payload-is-array"),
    pytest.param(webhook(version="3"), "version", 'must be "4", got "3"', id="version-3"),
    pytest.param(webhook(version=4), "version", 'must be "4", got 4', id="version-number"),
    pytest.param({"version": "4"}, "alerts", "is required", id="no-alerts"),
    pytest.param({**webhook(), "alerts": None}, "alerts", "is required", id="null-alerts"),
    pytest.param(webhook([]), "alerts", "must contain at least one alert", id="empty-alerts"),
    pytest.param(webhook({}), "alerts", "must be an array, got object", id="alerts-object"),
    pytest.param(
        webhook([alert()] * 1001),
        "alerts",
        "has 1001 alerts; at most 1000 are accepted",
        id="too-many-alerts",
    ),
    pytest.param(
        webhook([alert(), "x"]), "alerts[1]", "must be an object, got string", id="alert-string"
    ),
    pytest.param(webhook([alert(status=None)]), "alerts[0].status", "is required", id="no-status"),
    pytest.param(
        webhook([alert(status="pending")]),
        "alerts[0].status",
        'must be "firing" or "resolved", got "pending"',
        id="bad-status",
    ),
    pytest.param(
        webhook([alert(labels=["alertname"])]),
        "alerts[0].labels",
        "must be an object, got array",
        id="labels-array",
    ),
    pytest.param(
        webhook([alert(labels={"alertname": ""})]),
        "alerts[0].labels.alertname",
        "must not be empty",
        id="empty-alertname",
    ),
    pytest.param(
        webhook([alert(), alert(), alert(), alert(labels={"alertname": "T", "instance": None})]),
        "alerts[3].labels.instance",
        "must be a string, got null",
        id="label-null",
    ),
    pytest.param(
        webhook([alert(annotations={"summary": True})]),
        "alerts[0].annotations.summary",
        "must be a string, got boolean",
        id="annotation-bool",
    ),
    pytest.param(
        webhook([alert(labels={"alertname": "T"} | {f"l{i}": "v" for i in range(100)})]),
        "alerts[0].labels",
        "has 101 entries; at most 100 are accepted",
        id="too-many-labels",
    ),
    pytest.param(
        webhook([alert(labels={"alertname": "T", "big": "x" * 1025})]),
        "alerts[0].labels.big",
        "is 1025 characters long; at most 1024 are accepted",
        id="label-value-too-long",
    ),
    pytest.param(
        webhook([alert(labels={"alertname": "T", "k" * 1025: "v"})]),
        "alerts[0].labels",
        "has a key 1025 characters long; at most 1024 are accepted",
        id="label-key-too-long",
    ),
    pytest.param(
        webhook([alert(startsAt="yesterday")]),
        "alerts[0].startsAt",
        "is not an RFC 3339 timestamp",
        id="bad-starts-at",
    ),
    pytest.param(
        webhook([alert(endsAt="2024-02-30T00:00:00Z")]),
        "alerts[0].endsAt",
        "is not an RFC 3339 timestamp",
        id="impossible-date",
    ),
    pytest.param(
        webhook([alert(startsAt="2024-05-01T10:00:00")]),
        "alerts[0].startsAt",
        "is not an RFC 3339 timestamp",
        id="no-offset",
    ),
    pytest.param(
        webhook([alert(startsAt=1714557600)]),
        "alerts[0].startsAt",
        "must be a string, got number",
        id="epoch-starts-at",
    ),
    pytest.param(
        webhook([alert(fingerprint=12)]),
        "alerts[0].fingerprint",
        "must be a string, got number",
        id="fingerprint-number",
    ),
    pytest.param(
        webhook([alert(generatorURL=["http://x"])]),
        "alerts[0].generatorURL",
        "must be a string, got array",
        id="generator-url-array",
    ),
    pytest.param(
        webhook(truncatedAlerts=-1),
        "truncatedAlerts",
        "must be a non-negative integer, got -1",
        id="negative-truncated",
    ),
    pytest.param(
        webhook(groupKey=7), "groupKey", "must be a string, got number", id="group-key-number"
    ),
]


@pytest.mark.parametrize(("payload", "field", "problem"), ERROR_CASES)
def test_malformed_payload_is_rejected_naming_the_field(
    payload: object, field: str, problem: str
) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_alertmanager(payload)

    assert (caught.value.field, caught.value.problem) == (field, problem)


def test_every_missing_required_field_of_every_alert_is_named() -> None:
    payload = webhook([alert(status=None), alert(labels={"instance": "x"}), alert(labels=None)])

    with pytest.raises(MissingFieldsError) as error:
        parse_alertmanager(payload)

    assert error.value.fields == (
        "alerts[0].status",
        "alerts[1].labels.alertname",
        "alerts[2].labels",
    )


def test_group_key_reaches_every_event() -> None:
    events = parse_alertmanager(load("truncated.json"))

    assert {e.group_key for e in events} == {'{}:{alertname="TargetMissing"}'}


def test_truncated_alerts_written_as_an_integral_float_is_the_integer() -> None:
    """JSON Schema counts 3.0 as an integer, so the documented schema accepts it."""
    (event,) = parse_alertmanager(webhook(truncatedAlerts=3.0))

    assert event.details["truncatedAlerts"] == 3
    with pytest.raises(PayloadError) as caught:
        parse_alertmanager(webhook(truncatedAlerts=2.5))
    assert caught.value.field == "truncatedAlerts"


# --- an alert sent again unchanged ---------------------------------------------------------


def repeated(fingerprint: str, **overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "fingerprint": fingerprint,
        "labels": {"alertname": "DiskFull", "instance": "db-1", "severity": "warning"},
        "annotations": {"summary": "Disk almost full on db-1"},
    }
    return alert(**(fields | overrides))


def test_an_alert_sent_again_unchanged_gives_the_event_parsed_the_time_before() -> None:
    parse_alertmanager(webhook([repeated("rep-same")]))  # first sighting: noted only
    second = parse_alertmanager(webhook([repeated("rep-same")]))[0]
    third = parse_alertmanager(webhook([repeated("rep-same")]))[0]

    assert third is second


def test_an_alert_seen_once_is_not_kept() -> None:
    from escalation.sources import alertmanager

    parse_alertmanager(webhook([repeated("rep-once")]))

    assert "rep-once" in alertmanager._seen_once
    assert "rep-once" not in alertmanager._repeats


@pytest.mark.parametrize(
    ("change", "read"),
    [
        ({"annotations": {"summary": "Disk full on db-1"}}, lambda e: e.title),
        ({"status": "resolved"}, lambda e: e.status),
        ({"endsAt": "2024-05-01T11:00:00Z"}, lambda e: e.ends_at),
        ({"labels": {"alertname": "DiskFull", "severity": "critical"}}, lambda e: e.severity),
        ({"generatorURL": "http://prometheus:9090/graph"}, lambda e: e.links),
    ],
)
def test_an_alert_sent_again_changed_is_parsed_again(change: dict[str, object], read: Any) -> None:
    for _ in range(2):  # kept from the second time
        first = parse_alertmanager(webhook([repeated("rep-changed")]))[0]
    changed = parse_alertmanager(webhook([repeated("rep-changed", **change)]))[0]
    expected = parse_alertmanager(webhook([repeated("rep-fresh", **change)]))[0]

    assert read(changed) != read(first)
    assert read(changed) == read(expected)


def test_the_same_alert_in_a_notification_with_other_group_fields_is_parsed_again() -> None:
    for _ in range(2):
        first = parse_alertmanager(webhook([repeated("rep-group")]))[0]
    moved = parse_alertmanager(
        webhook([repeated("rep-group")], groupKey="{}:{other}", externalURL="http://am2:9093")
    )[0]

    assert (moved.group_key, moved.details["externalURL"]) == ("{}:{other}", "http://am2:9093")
    assert (first.group_key, first.details["externalURL"]) != (moved.group_key, "http://am2:9093")


def test_a_payload_changed_in_place_after_parsing_is_parsed_again() -> None:
    payload = webhook([repeated("rep-in-place")])
    parse_alertmanager(payload)
    parse_alertmanager(payload)
    alerts: Any = payload["alerts"]
    alerts[0]["annotations"]["summary"] = "Changed in place"

    assert parse_alertmanager(payload)[0].title == "Changed in place"


def test_alerts_kept_for_comparison_are_bounded() -> None:
    from escalation.sources import alertmanager

    many = [repeated(f"rep-many-{n}") for n in range(alertmanager._REPEATS_KEPT + 50)]
    for start in range(0, len(many), 1000):
        for _ in range(2):
            parse_alertmanager(webhook(many[start : start + 1000]))

    assert len(alertmanager._repeats) == alertmanager._REPEATS_KEPT
    assert len(alertmanager._seen_once) <= alertmanager._REPEATS_KEPT
    assert "rep-many-0" not in alertmanager._repeats
    assert f"rep-many-{len(many) - 1}" in alertmanager._repeats
