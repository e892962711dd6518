"""Routing: which team, channel and policy an alert goes to. First match wins."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from escalation.model import AlertEvent, RouteDecision

# Matcher keys that look at the alert itself rather than at a label of the same name.
SPECIAL_KEYS = ("category", "source", "severity", "level")


@dataclass(frozen=True, slots=True)
class Route:
    team: str
    channel: str
    policy: str
    match: Mapping[str, str] = field(default_factory=dict)

    def matches(self, event: AlertEvent, level: int) -> bool:
        return all(_value(event, level, key) == wanted for key, wanted in self.match.items())


def _value(event: AlertEvent, level: int, key: str) -> str | None:
    if key == "category":
        return event.category
    if key == "source":
        return event.source
    if key == "severity":
        return event.severity
    if key == "level":
        return str(level)
    return event.labels.get(key)


def route(
    event: AlertEvent, level: int, routes: Sequence[Route], *, fallback: RouteDecision
) -> RouteDecision:
    for index, candidate in enumerate(routes):
        if candidate.matches(event, level):
            return RouteDecision(candidate.team, candidate.channel, candidate.policy, index)
    return fallback
