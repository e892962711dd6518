"""Storm detection: when a channel gets more new alerts than Slack can post one by one.

Pure rules over arrival times. Slack accepts about one message per second per channel, so a
channel that receives more than ``start_above`` new alerts within ``window`` is *in a storm*:
its new alerts are rolled up into one summary instead of one warning each. The storm goes on
while windows stay busy (more than ``calm_at_most`` new alerts) and ends once ``calm_for``
has passed without a busy window. The gap between the two thresholds (hysteresis) keeps a
channel from flapping in and out of storm mode at the edge.

Time comes in as ``now``; nothing here reads a clock.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum


@dataclass(frozen=True, slots=True)
class StormRules:
    window: timedelta
    """The span over which new alerts are counted."""
    start_above: int
    """A storm starts when more than this many new alerts arrive within ``window``."""
    calm_at_most: int
    """A window with at most this many new alerts is calm."""
    calm_for: timedelta
    """A storm ends when every window has been calm for this long."""
    enabled: bool = True

    def __post_init__(self) -> None:
        if self.window <= timedelta(0):
            raise ValueError("window must be positive")
        if self.start_above < 1:
            raise ValueError("start_above must be at least 1")
        if not 0 <= self.calm_at_most <= self.start_above:
            raise ValueError("calm_at_most must be between 0 and start_above")
        if self.calm_for < timedelta(0):
            raise ValueError("calm_for must not be negative")


class Change(Enum):
    NONE = "none"
    """Nothing changed: no storm, or the storm goes on."""
    STARTED = "started"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Traffic:
    """One channel's recent arrivals and its storm, if one is going on."""

    arrivals: tuple[datetime, ...] = ()
    """Arrival times within the last window, oldest first."""
    storm_since: datetime | None = None
    busy_until: datetime | None = None
    """During a storm: until when the window stays busy (more than ``calm_at_most`` new
    alerts) with the arrivals seen so far."""

    @property
    def in_storm(self) -> bool:
        return self.storm_since is not None


@dataclass(frozen=True, slots=True)
class Observed:
    traffic: Traffic
    change: Change


def arrival_time(created_at: datetime, *, now: datetime, window: timedelta) -> datetime:
    """When an alert counts as arriving: when it was created; an alert created before the
    current window and still waiting to be posted (a backlog) counts as arriving now."""
    return created_at if now - window < created_at <= now else now


def observe(
    traffic: Traffic, arrivals: Iterable[datetime], *, now: datetime, rules: StormRules
) -> Observed:
    """Count ``arrivals`` (new alerts for the channel, seen at ``now``) and decide whether a
    storm starts, goes on or ends. Call it with no arrivals to let a storm calm down."""
    earliest = now - rules.window
    new = [arrival_time(a, now=now, window=rules.window) for a in arrivals]
    times = sorted([*traffic.arrivals, *new])
    times = times[bisect.bisect_right(times, earliest) :]
    kept = replace(traffic, arrivals=tuple(times))
    if not rules.enabled:
        if kept.in_storm:
            return Observed(replace(kept, storm_since=None, busy_until=None), Change.ENDED)
        return Observed(kept, Change.NONE)
    busy_until = _busy_until(times, rules)
    if not kept.in_storm:
        if len(times) > rules.start_above:
            return Observed(replace(kept, storm_since=now, busy_until=busy_until), Change.STARTED)
        return Observed(kept, Change.NONE)
    if busy_until is not None and (kept.busy_until is None or busy_until > kept.busy_until):
        kept = replace(kept, busy_until=busy_until)
    calm = calm_at(kept, rules)
    if calm is not None and now >= calm:
        return Observed(replace(kept, storm_since=None, busy_until=None), Change.ENDED)
    return Observed(kept, Change.NONE)


def _busy_until(times: list[datetime], rules: StormRules) -> datetime | None:
    """Until when the window stays busy if nothing more arrives: the moment the
    (calm_at_most + 1)-th newest arrival leaves it."""
    if len(times) <= rules.calm_at_most:
        return None
    return times[-(rules.calm_at_most + 1)] + rules.window


def resumed(*, since: datetime, now: datetime) -> Traffic:
    """The traffic of a channel whose storm is known (from storage) to be going on, e.g.
    after a restart: it counts as busy now, so it lasts at least ``calm_for`` more."""
    return Traffic(storm_since=since, busy_until=now)


def calm_at(traffic: Traffic, rules: StormRules) -> datetime | None:
    """When the storm ends if no more alerts arrive (None when not in a storm)."""
    if traffic.storm_since is None:
        return None
    return (traffic.busy_until or traffic.storm_since) + rules.calm_for
