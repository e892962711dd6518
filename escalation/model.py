"""Domain types shared by the parsers, the state machine, storage and the renderers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class SourceStatus(StrEnum):
    """What the monitoring tool says about an alert."""

    FIRING = "firing"
    RESOLVED = "resolved"
    ACKNOWLEDGED = "acknowledged"
    """Someone took it in the source's own tool (a PagerDuty ``acknowledge`` event)."""


class Status(StrEnum):
    """Where an alert stands in Tocsin."""

    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    AWAITING_APPROVAL = "awaiting_approval"
    RESOLVED = "resolved"
    SILENCED = "silenced"
    """Muted by a silence: stored and counted, not shown, not escalated."""


@dataclass(frozen=True, slots=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class Metric:
    """A business or technical measurement behind an alert (the "metric" webhook form).

    ``baseline`` is the expected value (deviation grading compares against it); ``threshold``
    is a fixed limit when there is no baseline. ``window`` is free text such as ``"5m"``.
    """

    name: str
    value: float
    baseline: float | None = None
    threshold: float | None = None
    unit: str | None = None
    window: str | None = None

    def deviation(self) -> float | None:
        """Relative distance of ``value`` from the baseline (or threshold): 0.12 = 12 %."""
        reference = self.baseline if self.baseline is not None else self.threshold
        if reference is None:
            return None
        if reference == 0:
            return None if self.value == 0 else float("inf")
        return abs(self.value - reference) / abs(reference)

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "value": self.value,
            "baseline": self.baseline,
            "threshold": self.threshold,
            "unit": self.unit,
            "window": self.window,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Metric:
        def number(key: str) -> float | None:
            value = data.get(key)
            return float(value) if isinstance(value, int | float) else None

        value = number("value")
        unit = data.get("unit")
        window = data.get("window")
        return cls(
            name=str(data.get("name", "")),
            value=0.0 if value is None else value,
            baseline=number("baseline"),
            threshold=number("threshold"),
            unit=unit if isinstance(unit, str) else None,
            window=window if isinstance(window, str) else None,
        )


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One normalised event from a source: an alert is firing, or it recovered."""

    fingerprint: str
    status: SourceStatus
    title: str
    source: str
    description: str = ""
    impact: str = ""
    suggested_actions: str = ""
    severity: str | None = None
    level: int | None = None
    category: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    links: tuple[Link, ...] = ()
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    group_key: str | None = None
    details: Mapping[str, object] = field(default_factory=dict)
    metric: Metric | None = None


@dataclass(frozen=True, slots=True)
class LevelSpec:
    """A graded warning level as the operator named it."""

    number: int
    name: str
    emoji: str
    ack_within_seconds: int | None = None
    resolve_within_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class RouteDecision:
    team: str
    channel: str
    policy: str
    route_index: int | None
    """Index of the matching route in the policy file, ``None`` for the fallback."""


@dataclass(frozen=True, slots=True)
class LastResolution:
    """What was done the last time the same alert was resolved."""

    resolved_at: datetime
    resolved_by: str | None
    by_source: bool
    root_cause: str | None
    note: str | None
    alert_id: int | None = None
    """The earlier alert this resolution closed (``/tocsin show`` it for the whole story)."""


@dataclass(frozen=True, slots=True)
class AlertView:
    """Everything a renderer needs to draw one warning. Built by storage from its rows."""

    id: int
    fingerprint: str
    integration: str
    source: str
    title: str
    description: str
    impact: str
    suggested_actions: str
    level: LevelSpec
    category: str | None
    labels: Mapping[str, str]
    links: tuple[Link, ...]
    team: str
    channel: str
    status: Status
    fired_at: datetime
    last_seen_at: datetime
    count: int
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    owner: str | None
    owner_since: datetime | None
    assigned_by: str | None
    resolved_by: str | None
    resolved_at: datetime | None
    resolved_by_source: bool
    resolution_note: str | None
    root_cause: str | None
    last_resolution: LastResolution | None = None
    tier: int = -1
    tier_count: int = 0
    escalating: bool = False
    next_action_at: datetime | None = None
    owner_deadline_at: datetime | None = None
    snoozed_until: datetime | None = None
    approval_tier: int | None = None
    approval_requested_by: str | None = None
    recent_firings: int = 0
    """How often the same problem fired in the ``recent_days`` up to this alert (this one
    included): alerts with the same fingerprint or recurrence key."""
    recent_days: int = 30
    silence_id: int | None = None
    silenced_until: datetime | None = None
    group: GroupSummary | None = None
    flapping: Flapping | None = None
    metric: Metric | None = None
    """The latest measurement of a metric alert (value, baseline, deviation)."""
    truncated_alerts: int = 0
    """Alerts the source left out of the latest notification of this alert (Alertmanager's
    ``truncatedAlerts``)."""


@dataclass(frozen=True, slots=True)
class GroupMember:
    id: int
    title: str
    status: Status


@dataclass(frozen=True, slots=True)
class GroupSummary:
    """The alerts sharing one warning (grouping)."""

    id: int
    key: str
    members: tuple[GroupMember, ...]

    @property
    def open_count(self) -> int:
        return sum(1 for m in self.members if m.status is not Status.RESOLVED)


@dataclass(frozen=True, slots=True)
class Flapping:
    """An alert that fired ``fires`` times within ``window_seconds`` (flapping)."""

    fires: int
    window_seconds: int
