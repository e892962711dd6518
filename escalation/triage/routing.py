"""Routing: which team, channel and policy an alert goes to. First match wins.

A route matches when every matcher holds and, if it has time windows, ``now`` falls in one of
them. A matching route with ``continue`` set does not stop the search: the next matching
route's channel also gets the warning (a mirror of the one alert, updated with it), and so on
until a matching route without ``continue``. The first matching route owns the alert (team,
channel, escalation policy); the others only add channels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from escalation.model import AlertEvent, RouteDecision
from escalation.triage.matchers import SPECIAL_KEYS, Matchers
from escalation.triage.timewindow import TimeWindow, in_any

__all__ = ["SPECIAL_KEYS", "Route", "Routing", "route", "route_all"]


@dataclass(frozen=True, slots=True)
class Route:
    team: str
    channel: str
    policy: str
    match: Mapping[str, str] = field(default_factory=dict)
    """Equality matchers (the policy file's ``match``)."""
    matchers: Matchers = field(default_factory=Matchers)
    """Further matchers (lists of values, regular expressions, negations)."""
    windows: tuple[TimeWindow, ...] = ()
    """When the route applies (any of them); none: always."""
    continue_: bool = False
    """After matching, keep looking: later matching routes' channels get a mirror."""
    _equal: Matchers = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_equal", Matchers.build(equal=self.match))

    def matches(self, event: AlertEvent, level: int, *, now: datetime) -> bool:
        return (
            self._equal.matches(event, level=level)
            and self.matchers.matches(event, level=level)
            and in_any(self.windows, now)
        )


@dataclass(frozen=True, slots=True)
class Routing:
    """Where an alert goes: its owner route, and the channels that get a mirror."""

    primary: RouteDecision
    mirrors: tuple[RouteDecision, ...] = ()


def route_all(
    event: AlertEvent,
    level: int,
    routes: Sequence[Route],
    *,
    fallback: RouteDecision,
    now: datetime,
) -> Routing:
    found: list[RouteDecision] = []
    for index, candidate in enumerate(routes):
        if not candidate.matches(event, level, now=now):
            continue
        found.append(RouteDecision(candidate.team, candidate.channel, candidate.policy, index))
        if not candidate.continue_:
            break
    if not found:
        return Routing(fallback)
    primary, seen, mirrors = found[0], {found[0].channel}, []
    for extra in found[1:]:
        if extra.channel not in seen:
            seen.add(extra.channel)
            mirrors.append(extra)
    return Routing(primary, tuple(mirrors))


def route(
    event: AlertEvent,
    level: int,
    routes: Sequence[Route],
    *,
    fallback: RouteDecision,
    now: datetime,
) -> RouteDecision:
    """The route that owns the alert (the first match), or ``fallback``."""
    return route_all(event, level, routes, fallback=fallback, now=now).primary
