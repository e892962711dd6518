"""Heartbeats' pure rules with a fake clock: when one is overdue, when the next ping is
expected, its status, the missing alert's title and time zone, and which alerts are pings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from escalation.heartbeats import (
    HeartbeatSpec,
    HeartbeatStatus,
    due_at,
    expected_by,
    fingerprint,
    is_overdue,
    missing_event,
    missing_title,
    resumed_event,
    resumed_summary,
    status_of,
    watchdog_pings,
)
from escalation.model import AlertEvent, SourceStatus

T0 = datetime(2026, 12, 6, 3, 12, 40, tzinfo=UTC)
SPEC = HeartbeatSpec(
    name="prometheus-watchdog",
    interval_seconds=300,
    grace_seconds=60,
    level=1,
    integrations=("am",),
    alertname="Watchdog",
)


def test_a_heartbeat_is_overdue_exactly_at_interval_plus_grace_after_its_last_ping() -> None:
    ping = T0
    first = T0 - timedelta(days=3)
    just_before = T0 + timedelta(minutes=6) - timedelta(microseconds=1)
    assert not is_overdue(SPEC, last_ping=ping, first_seen=first, now=just_before)
    assert is_overdue(SPEC, last_ping=ping, first_seen=first, now=T0 + timedelta(minutes=6))
    assert due_at(SPEC, last_ping=ping, first_seen=first) == T0 + timedelta(minutes=6)
    assert expected_by(SPEC, last_ping=ping, first_seen=first) == T0 + timedelta(minutes=5)


def test_before_its_first_ping_the_clock_runs_from_when_it_was_first_seen() -> None:
    assert due_at(SPEC, last_ping=None, first_seen=T0) == T0 + timedelta(minutes=6)
    assert not is_overdue(SPEC, last_ping=None, first_seen=T0, now=T0 + timedelta(minutes=5))
    assert is_overdue(SPEC, last_ping=None, first_seen=T0, now=T0 + timedelta(minutes=6))


@pytest.mark.parametrize(
    ("last_ping", "after", "expected"),
    [
        (None, timedelta(minutes=1), HeartbeatStatus.WAITING),
        (T0, timedelta(minutes=1), HeartbeatStatus.OK),
        (T0, timedelta(minutes=5, seconds=30), HeartbeatStatus.LATE),
        (T0, timedelta(minutes=6), HeartbeatStatus.MISSING),
        (None, timedelta(minutes=6), HeartbeatStatus.MISSING),
    ],
)
def test_status_follows_interval_and_grace(
    last_ping: datetime | None, after: timedelta, expected: HeartbeatStatus
) -> None:
    assert status_of(SPEC, last_ping=last_ping, first_seen=T0, now=T0 + after) is expected


def test_the_title_names_the_heartbeat_and_the_time_of_its_last_ping() -> None:
    now = T0 + timedelta(minutes=7)
    title = missing_title("prometheus-watchdog", since=T0, now=now)
    assert title == "No heartbeat from `prometheus-watchdog` since 03:12 UTC"


def test_the_title_gives_the_date_when_the_last_ping_was_on_another_day() -> None:
    title = missing_title("nightly-backup", since=T0, now=T0 + timedelta(days=2))
    assert title == "No heartbeat from `nightly-backup` since Dec 6 03:12 UTC"


def test_the_title_tells_time_in_the_routes_zone() -> None:
    title = missing_title("x", since=T0, now=T0, zone="Europe/Berlin")
    assert title == "No heartbeat from `x` since 04:12 CET"


def test_the_missing_alert_carries_the_level_labels_and_a_stable_fingerprint() -> None:
    event = missing_event(SPEC, last_ping=T0, first_seen=T0, now=T0 + timedelta(minutes=6))
    assert event.status is SourceStatus.FIRING
    assert event.level == 1
    assert event.fingerprint == fingerprint("prometheus-watchdog")
    assert event.labels["heartbeat"] == "prometheus-watchdog"
    assert event.source == "heartbeat"
    assert "never pinged" not in event.description
    never = missing_event(SPEC, last_ping=None, first_seen=T0, now=T0 + timedelta(minutes=6))
    assert "never pinged" in never.description
    resumed = resumed_event(SPEC)
    assert (resumed.fingerprint, resumed.status) == (event.fingerprint, SourceStatus.RESOLVED)


def test_the_resolving_line_says_when_it_pinged_and_how_long_it_was_silent() -> None:
    line = resumed_summary("w", at=T0 + timedelta(minutes=28), since=T0)
    assert line == "heartbeat `w` pinged again at 03:40 UTC after 28m without one: resolved"


def alert(name: str, status: SourceStatus = SourceStatus.FIRING) -> AlertEvent:
    return AlertEvent(
        fingerprint=name, status=status, title=name, source="s", labels={"alertname": name}
    )


def test_a_watchdog_of_the_heartbeats_integration_is_a_ping_and_the_rest_stay_alerts() -> None:
    specs = {SPEC.name: SPEC}
    events = [alert("Watchdog"), alert("DiskFull"), alert("Watchdog")]
    pings, rest = watchdog_pings(specs, integration="am", events=events)
    assert pings == ["prometheus-watchdog"]
    assert [e.title for e in rest] == ["DiskFull"]


def test_a_watchdog_elsewhere_is_an_ordinary_alert_and_a_resolved_one_is_no_ping() -> None:
    specs = {SPEC.name: SPEC}
    pings, rest = watchdog_pings(specs, integration="grafana", events=[alert("Watchdog")])
    assert (pings, len(rest)) == ([], 1)
    resolved = [alert("Watchdog", SourceStatus.RESOLVED)]
    assert watchdog_pings(specs, integration="am", events=resolved) == ([], [])
