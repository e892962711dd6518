import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from escalation.errors import MissingFieldsError, PayloadError
from escalation.model import Link, Metric, SourceStatus
from escalation.sources._fingerprint import derive_fingerprint
from escalation.sources.generic import parse_generic

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "generic"
VALID_FIXTURES = [
    "single.json",
    "list.json",
    "resolved.json",
    "with_links.json",
    "unknown_fields.json",
]


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", VALID_FIXTURES)
def test_valid_fixture_parses_without_modifying_the_payload(name: str) -> None:
    payload = load(name)
    before = copy.deepcopy(payload)

    events = parse_generic(payload)

    assert events
    assert payload == before


def test_single_alert_maps_every_documented_field() -> None:
    (event,) = parse_generic(load("single.json"))

    assert event.title == "Payment queue backlog above 10 000"
    assert event.description.startswith("The payments worker")
    assert event.impact == "Payments are confirmed up to 20 minutes late."
    assert event.severity == "critical"
    assert event.level == 1
    assert event.labels == {"service": "payments", "env": "prod"}
    assert event.fingerprint == "payments-queue-backlog"
    assert event.source == "cron-checks"
    assert event.starts_at == datetime(2024, 5, 1, 10, 15, 30, tzinfo=UTC)
    assert event.ends_at is None
    assert event.group_key == "payments"
    assert event.details == {}


def test_suggested_actions_list_becomes_bullets() -> None:
    (event,) = parse_generic(load("single.json"))

    assert event.suggested_actions == (
        "• Scale the payments worker to 6 replicas\n• Check the PSP status page"
    )


def test_suggested_actions_string_is_kept_as_given() -> None:
    (event,) = parse_generic({"title": "T", "suggested_actions": "Restart it.\nThen wait."})

    assert event.suggested_actions == "Restart it.\nThen wait."


def test_category_is_lower_cased() -> None:
    (event,) = parse_generic(load("single.json"))

    assert event.category == "payments"


def test_minimal_alert_gets_the_defaults() -> None:
    (event,) = parse_generic({"title": "Something broke"})

    assert event.status is SourceStatus.FIRING
    assert event.source == "generic"
    assert (event.description, event.impact, event.suggested_actions) == ("", "", "")
    assert (event.severity, event.level, event.category, event.group_key) == (None,) * 4
    assert event.labels == {}
    assert event.links == ()


def test_null_optional_fields_count_as_absent() -> None:
    (event,) = parse_generic({"title": "T", "level": None, "labels": None, "status": None})

    assert (event.level, event.labels, event.status) == (None, {}, SourceStatus.FIRING)


def test_list_form_gives_one_event_per_alert() -> None:
    backup, certificate = parse_generic(load("list.json"))

    assert backup.title == "Nightly backup failed"
    assert backup.level == 2
    assert certificate.level == 3


def test_dedup_key_is_used_as_fingerprint() -> None:
    backup, _ = parse_generic(load("list.json"))

    assert backup.fingerprint == "backup-db-1"


def test_fingerprint_beats_dedup_key() -> None:
    (event,) = parse_generic({"title": "T", "fingerprint": "fp", "dedup_key": "dk"})

    assert event.fingerprint == "fp"


def test_missing_fingerprint_is_derived_from_title_and_labels() -> None:
    _, certificate = parse_generic(load("list.json"))

    assert certificate.fingerprint == derive_fingerprint(
        title="Certificate expires in 7 days", labels={"domain": "example.com"}
    )


def test_resolved_alert_is_reported_resolved_with_utc_times() -> None:
    (event,) = parse_generic(load("resolved.json"))

    assert event.status is SourceStatus.RESOLVED
    assert event.fingerprint == "backup-db-1"
    assert event.starts_at == datetime(2024, 5, 1, 0, 0, tzinfo=UTC)
    assert event.ends_at == datetime(2024, 5, 1, 1, 12, 45, 500000, tzinfo=UTC)


def test_links_accept_objects_and_bare_urls_titled_with_their_host() -> None:
    (event,) = parse_generic(load("with_links.json"))

    assert event.links == (
        Link("Dashboard", "https://grafana.example.com/d/checkout"),
        Link("runbooks.example.com", "https://runbooks.example.com/checkout/latency"),
    )


def test_unknown_fields_are_kept_in_details() -> None:
    (event,) = parse_generic(load("unknown_fields.json"))

    assert event.details == {
        "team_hint": "platform",
        "value": 4213,
        "extra": {"threshold": 1000, "unit": "messages"},
    }


def test_level_given_as_string_is_accepted() -> None:
    (event,) = parse_generic({"title": "T", "level": "3"})

    assert event.level == 3


def test_title_is_stripped() -> None:
    (event,) = parse_generic({"title": "  Disk full \n"})

    assert event.title == "Disk full"


def test_thousand_alerts_are_accepted() -> None:
    assert len(parse_generic({"alerts": [{"title": "T"}] * 1000})) == 1000


@pytest.mark.parametrize(
    ("name", "field", "problem"),
    [
        ("missing_title.json", "title", "is required"),
        ("wrong_level_type.json", "level", "must be 1, 2 or 3, got array"),
    ],
)
def test_invalid_fixture_is_rejected_naming_the_field(name: str, field: str, problem: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_generic(load(name))

    assert (caught.value.field, caught.value.problem) == (field, problem)


ERROR_CASES = [
    pytest.param("x", "", "the payload must be an object, got string", id="payload-string"),
    pytest.param([{"title": "T"}], "", "the payload must be an object, got array", id="bare-list"),
    pytest.param({"title": ""}, "title", "must not be empty", id="empty-title"),
    pytest.param({"title": 5}, "title", "must be a string, got number", id="title-number"),
    pytest.param(
        {"title": "x" * 1001},
        "title",
        "is 1001 characters long; at most 1000 are accepted",
        id="title-too-long",
    ),
    pytest.param({"title": "T", "level": 7}, "level", "must be 1, 2 or 3, got 7", id="level-7"),
    pytest.param(
        {"title": "T", "level": "high"}, "level", 'must be 1, 2 or 3, got "high"', id="level-word"
    ),
    pytest.param(
        {"title": "T", "level": True}, "level", "must be 1, 2 or 3, got true", id="level-bool"
    ),
    pytest.param(
        {"title": "T", "labels": {"env": 1}},
        "labels.env",
        "must be a string, got number",
        id="label-number",
    ),
    pytest.param(
        {"title": "T", "labels": ["env"]},
        "labels",
        "must be an object, got array",
        id="labels-list",
    ),
    pytest.param(
        {"title": "T", "status": "open"},
        "status",
        'must be "firing" or "resolved", got "open"',
        id="bad-status",
    ),
    pytest.param(
        {"title": "T", "severity": 2}, "severity", "must be a string, got number", id="sev-number"
    ),
    pytest.param(
        {"title": "T", "suggested_actions": {"a": "b"}},
        "suggested_actions",
        "must be a string or an array of strings, got object",
        id="actions-object",
    ),
    pytest.param(
        {"title": "T", "suggested_actions": ["ok", 2]},
        "suggested_actions[1]",
        "must be a string, got number",
        id="action-number",
    ),
    pytest.param(
        {"title": "T", "links": "https://x.example"},
        "links",
        "must be an array, got string",
        id="links-string",
    ),
    pytest.param(
        {"title": "T", "links": ["ftp://x.example/file"]},
        "links[0]",
        "must be an http(s) URL",
        id="link-ftp",
    ),
    pytest.param(
        {"title": "T", "links": [{"title": "Docs"}]}, "links[0].url", "is required", id="no-url"
    ),
    pytest.param(
        {"title": "T", "links": [{"title": "Docs", "url": "/relative"}]},
        "links[0].url",
        "must be an http(s) URL",
        id="link-relative",
    ),
    pytest.param(
        {"title": "T", "links": [3]},
        "links[0]",
        "must be a link object or a URL string, got number",
        id="link-number",
    ),
    pytest.param(
        {"title": "T", "fingerprint": ""}, "fingerprint", "must not be empty", id="empty-fp"
    ),
    pytest.param(
        {"title": "T", "dedup_key": 1}, "dedup_key", "must be a string, got number", id="dk-number"
    ),
    pytest.param({"title": "T", "source": ""}, "source", "must not be empty", id="empty-source"),
    pytest.param(
        {"title": "T", "starts_at": "2024-05-01"},
        "starts_at",
        "is not an RFC 3339 timestamp",
        id="date-only",
    ),
    pytest.param(
        {"title": "T", "ends_at": "2024-05-01T25:00:00Z"},
        "ends_at",
        "is not an RFC 3339 timestamp",
        id="hour-25",
    ),
    pytest.param({"alerts": []}, "alerts", "must contain at least one alert", id="empty-list"),
    pytest.param(
        {"alerts": [{"title": "T"}] * 1001},
        "alerts",
        "has 1001 alerts; at most 1000 are accepted",
        id="too-many-alerts",
    ),
    pytest.param(
        {"alerts": [{"title": "T"}, {"title": "T"}, {"description": "d"}]},
        "alerts[2].title",
        "is required",
        id="list-missing-title",
    ),
    pytest.param(
        {"alerts": [{"title": "T", "labels": {"env": 1}}]},
        "alerts[0].labels.env",
        "must be a string, got number",
        id="list-label-number",
    ),
    pytest.param(
        {"alerts": [{"title": "T"}, None]},
        "alerts[1]",
        "must be an object, got null",
        id="list-null-alert",
    ),
    pytest.param(
        {"alerts": [{"title": "T"}], "title": "Outer"},
        "title",
        'is not allowed next to "alerts"; put it in each alert',
        id="list-with-outer-field",
    ),
]


@pytest.mark.parametrize(("payload", "field", "problem"), ERROR_CASES)
def test_malformed_payload_is_rejected_naming_the_exact_path(
    payload: object, field: str, problem: str
) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_generic(payload)

    assert (caught.value.field, caught.value.problem) == (field, problem)


def test_error_message_starts_with_the_field_path() -> None:
    with pytest.raises(PayloadError, match=r"^alerts\[0\]\.level: must be 1, 2 or 3, got 0$"):
        parse_generic({"alerts": [{"title": "T", "level": 0}]})


# --- the metric form --------------------------------------------------------------------------


def test_metric_form_fills_the_metric_and_derives_a_title() -> None:
    (event,) = parse_generic(load("metric.json"))

    assert event.metric == Metric(
        "orders_per_hour", value=410.0, baseline=520.0, unit="orders", window="1h"
    )
    assert event.title == "orders_per_hour at 410 orders (baseline 520 orders, -21.2%) over 1h"
    assert event.category == "customer"
    assert event.details == {"owner_team": "sales-ops"}


def test_metric_fingerprint_ignores_the_value_so_a_new_reading_updates_the_same_alert() -> None:
    (first,) = parse_generic(load("metric.json"))
    later = load("metric.json")
    later["value"] = 300
    (second,) = parse_generic(later)

    assert first.fingerprint == second.fingerprint
    assert first.title != second.title


def test_metric_with_a_threshold_and_an_own_title_keeps_the_title() -> None:
    (event,) = parse_generic(
        {"metric": "latency_ms", "value": 150, "threshold": 100, "title": "Checkout is slow"}
    )

    assert event.title == "Checkout is slow"
    assert event.metric is not None
    assert event.metric.deviation() == 0.5


def test_metric_form_names_every_missing_field_of_every_alert() -> None:
    with pytest.raises(MissingFieldsError) as error:
        parse_generic(load("metric_missing.json"))

    assert error.value.fields == ("alerts[0].value", "alerts[0].baseline", "alerts[1].title")


def test_metric_value_of_the_wrong_type_is_named() -> None:
    with pytest.raises(PayloadError) as error:
        parse_generic(load("metric_wrong_type.json"))

    assert (error.value.field, error.value.problem) == ("value", "must be a number, got string")


def test_value_without_metric_stays_an_ordinary_extra_field() -> None:
    (event,) = parse_generic({"title": "T", "value": 3, "unit": "x"})

    assert event.metric is None
    assert event.details == {"value": 3, "unit": "x"}


def test_a_non_finite_metric_value_is_refused() -> None:
    with pytest.raises(PayloadError) as error:
        parse_generic({"metric": "m", "value": float("nan"), "baseline": 1})

    assert (error.value.field, error.value.problem) == ("value", "must be a finite number")


def test_a_level_written_as_an_integral_float_is_the_level() -> None:
    """JSON Schema counts 2.0 as equal to 2, so the documented enum [1, 2, 3] accepts it."""
    (event,) = parse_generic({"title": "A", "level": 2.0})

    assert event.level == 2
    with pytest.raises(PayloadError):
        parse_generic({"title": "A", "level": 2.5})
