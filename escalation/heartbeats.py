"""Heartbeats (dead man's switch): when a heartbeat is due, whether it is overdue, and the
alert a missing one opens. Pure: every time is passed in.

The clock of a heartbeat starts at its last ping, or — before its first ping — when Tocsin
first ran with the heartbeat in its policy file (``first_seen``): a heartbeat configured but
never pinged is reported missing like one that stopped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from escalation.model import AlertEvent, RouteDecision, SourceStatus

SOURCE = "heartbeat"
FINGERPRINT_PREFIX = "heartbeat:"


@dataclass(frozen=True, slots=True)
class HeartbeatSpec:
    """One heartbeat of the policy file, in domain terms."""

    name: str
    interval_seconds: int
    grace_seconds: int
    level: int
    integrations: tuple[str, ...]
    """The integrations whose tokens may ping it (and whose alerts named ``alertname`` do)."""
    route: RouteDecision | None = None
    """Where its alert goes; ``None``: the policy's routes, by its labels."""
    alertname: str | None = None
    """An alert of this name reaching one of ``integrations`` is a ping (Alertmanager's
    always-firing ``Watchdog``), never an alert of its own."""
    labels: Mapping[str, str] = field(default_factory=dict)
    timezone: str = "UTC"
    """The zone the alert's title gives the time in (the route's team's)."""

    @property
    def allowed(self) -> timedelta:
        """How long after the last ping it is reported missing: interval plus grace."""
        return timedelta(seconds=self.interval_seconds + self.grace_seconds)


class HeartbeatStatus(StrEnum):
    WAITING = "waiting"
    """Never pinged yet; not overdue."""
    OK = "ok"
    LATE = "late"
    """Past its interval, within the grace."""
    MISSING = "missing"
    """Past interval and grace: an alert is (or is being) opened."""


def due_at(spec: HeartbeatSpec, *, last_ping: datetime | None, first_seen: datetime) -> datetime:
    """When it is reported missing if no ping comes first."""
    return (last_ping or first_seen) + spec.allowed


def expected_by(
    spec: HeartbeatSpec, *, last_ping: datetime | None, first_seen: datetime
) -> datetime:
    """When the next ping is expected (before the grace)."""
    return (last_ping or first_seen) + timedelta(seconds=spec.interval_seconds)


def is_overdue(
    spec: HeartbeatSpec, *, last_ping: datetime | None, first_seen: datetime, now: datetime
) -> bool:
    """No ping for interval + grace (counted from ``first_seen`` before the first ping)."""
    return now >= due_at(spec, last_ping=last_ping, first_seen=first_seen)


def status_of(
    spec: HeartbeatSpec, *, last_ping: datetime | None, first_seen: datetime, now: datetime
) -> HeartbeatStatus:
    if is_overdue(spec, last_ping=last_ping, first_seen=first_seen, now=now):
        return HeartbeatStatus.MISSING
    if now >= expected_by(spec, last_ping=last_ping, first_seen=first_seen):
        return HeartbeatStatus.LATE
    return HeartbeatStatus.WAITING if last_ping is None else HeartbeatStatus.OK


def clock_time(at: datetime, *, now: datetime, zone: str) -> str:
    """``03:12 UTC`` — with the date (``Dec 5 03:12 UTC``) when ``at`` is not on ``now``'s day."""
    tz = ZoneInfo(zone)
    local, today = at.astimezone(tz), now.astimezone(tz)
    label = "UTC" if zone == "UTC" else local.tzname() or zone
    if local.date() == today.date():
        return f"{local:%H:%M} {label}"
    return f"{local:%b} {local.day} {local:%H:%M} {label}"


def missing_title(name: str, *, since: datetime, now: datetime, zone: str = "UTC") -> str:
    """``No heartbeat from `prometheus-watchdog` since 03:12 UTC``."""
    return f"No heartbeat from `{name}` since {clock_time(since, now=now, zone=zone)}"


def fingerprint(name: str) -> str:
    return f"{FINGERPRINT_PREFIX}{name}"


def heartbeat_labels(spec: HeartbeatSpec) -> dict[str, str]:
    return {**spec.labels, "alertname": spec.name, "heartbeat": spec.name}


def missing_event(
    spec: HeartbeatSpec, *, last_ping: datetime | None, first_seen: datetime, now: datetime
) -> AlertEvent:
    """The alert a missing heartbeat opens: at the heartbeat's level, with its labels."""
    since = last_ping or first_seen
    never = " (it has never pinged since Tocsin started watching it)" if last_ping is None else ""
    return AlertEvent(
        fingerprint=fingerprint(spec.name),
        status=SourceStatus.FIRING,
        title=missing_title(spec.name, since=since, now=now, zone=spec.timezone),
        source=SOURCE,
        description=(
            f"Heartbeat `{spec.name}` expects a ping every {_span(spec.interval_seconds)} "
            f"(grace {_span(spec.grace_seconds)}); the last was at "
            f"{clock_time(since, now=now, zone=spec.timezone)}{never}. Whatever sends it "
            "(a monitoring pipeline, a cron job) may have stopped."
        ),
        suggested_actions="Check that the sender still runs and can reach Tocsin.",
        level=spec.level,
        labels=heartbeat_labels(spec),
        starts_at=since,
    )


def resumed_event(spec: HeartbeatSpec) -> AlertEvent:
    """The recovery a ping after a missing spell sends through the usual resolve path."""
    return AlertEvent(
        fingerprint=fingerprint(spec.name),
        status=SourceStatus.RESOLVED,
        title=f"Heartbeat `{spec.name}` resumed",
        source=SOURCE,
        labels=heartbeat_labels(spec),
    )


def resumed_summary(name: str, *, at: datetime, since: datetime, zone: str = "UTC") -> str:
    """The timeline line of the ping that resolves a missing heartbeat's alert."""
    gap = _span(int((at - since).total_seconds()))
    return (
        f"heartbeat `{name}` pinged again at {clock_time(at, now=at, zone=zone)} "
        f"after {gap} without one: resolved"
    )


def _span(seconds: int) -> str:
    seconds = max(seconds, 0)
    if seconds < 60:
        return f"{seconds}s"
    minutes, _ = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [(days, "d"), (hours, "h"), (minutes, "m")]
    return "".join(f"{n}{unit}" for n, unit in parts if n) or "0m"


def watchdog_pings(
    specs: Mapping[str, HeartbeatSpec], *, integration: str, events: list[AlertEvent]
) -> tuple[list[str], list[AlertEvent]]:
    """Split an integration's events into heartbeat pings (firing alerts named like a
    heartbeat's ``alertname``: the heartbeats' names) and the rest. A recovered Watchdog is
    dropped too: it is never an alert of its own."""
    names: list[str] = []
    rest: list[AlertEvent] = []
    for event in events:
        found = heartbeat_alert(specs, integration=integration, event=event)
        if found is None:
            rest.append(event)
        elif event.status is SourceStatus.FIRING and found not in names:
            names.append(found)
    return names, rest


def heartbeat_alert(
    specs: Mapping[str, HeartbeatSpec], *, integration: str, event: AlertEvent
) -> str | None:
    """The heartbeat an event of ``integration`` stands for, if any."""
    alertname = event.labels.get("alertname")
    if alertname is None:
        return None
    for spec in specs.values():
        if spec.alertname == alertname and integration in spec.integrations:
            return spec.name
    return None
