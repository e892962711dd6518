"""Silences and maintenance windows: which alerts are muted, and from when to when.

A silence has matchers, a start and an end, an author and a comment, and belongs to one team
(``team`` is ``None`` for an admin's silence over every team). It mutes an alert when it is
active at ``now``, the alert is the silence's team's (when it has one), and every matcher
holds on the alert's values (labels, plus the keys of :data:`SPECIAL_KEYS`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from escalation.model import AlertEvent
from escalation.noise.label_matchers import Matcher, Op, matches_all

SPECIAL_KEYS = ("team", "level", "severity", "category", "source", "fingerprint")
"""Keys that look at the alert itself (these win over labels of the same name)."""


@dataclass(frozen=True, slots=True)
class Silence:
    id: int
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    team: str | None = None
    ended_at: datetime | None = None
    ended_by: str | None = None

    def active_at(self, now: datetime) -> bool:
        end = self.effective_end
        return self.starts_at <= now < end

    @property
    def effective_end(self) -> datetime:
        """When it stops muting: its end, or earlier when someone ended it."""
        if self.ended_at is not None and self.ended_at < self.ends_at:
            return self.ended_at
        return self.ends_at

    def mutes(self, values: Mapping[str, str], *, now: datetime) -> bool:
        if not self.active_at(now):
            return False
        if self.team is not None and values.get("team") != self.team:
            return False
        return matches_all(self.matchers, values)


def alert_values(
    *,
    labels: Mapping[str, str],
    team: str,
    level: int,
    severity: str | None,
    category: str | None,
    source: str,
    fingerprint: str,
) -> dict[str, str]:
    """What matchers look at: the labels, overlaid with the alert's own fields."""
    values = dict(labels)
    values.update(
        team=team,
        level=str(level),
        severity=severity or "",
        category=category or "",
        source=source,
        fingerprint=fingerprint,
    )
    return values


def event_values(event: AlertEvent, *, team: str, level: int) -> dict[str, str]:
    return alert_values(
        labels=event.labels,
        team=team,
        level=level,
        severity=event.severity,
        category=event.category,
        source=event.source,
        fingerprint=event.fingerprint,
    )


def muting(
    silences: Iterable[Silence], values: Mapping[str, str], *, now: datetime
) -> Silence | None:
    """The silence that mutes these values at ``now`` — of several, the one ending last."""
    found = [s for s in silences if s.mutes(values, now=now)]
    return max(found, key=lambda s: (s.effective_end, s.id)) if found else None


def matchers_for_alert(labels: Mapping[str, str], *, fingerprint: str) -> tuple[Matcher, ...]:
    """The matchers of a silence made from a warning's menu: every label of the alert, or its
    fingerprint when it has no labels."""
    if labels:
        return tuple(Matcher(k, Op.EQUAL, v) for k, v in sorted(labels.items()))
    return (Matcher("fingerprint", Op.EQUAL, fingerprint),)


def overlapping(silences: Sequence[Silence], *, now: datetime) -> list[Silence]:
    """Silences still to come or in force at ``now``, soonest first (for listing)."""
    current = [s for s in silences if s.effective_end > now]
    return sorted(current, key=lambda s: (s.starts_at, s.id))
