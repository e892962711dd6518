"""The review's arithmetic: per period, overall and by team, level, category, route, source and
person — alerts, pages, escalations, approvals, MTTA/MTTR (median, p90), the share
acknowledged within the level's deadline, root causes, follow-ups (and how many are still
open), noisiest and flapping alerts, night and weekend pages, and a per-day series for the
charts.

Pure. The shell streams facts in (one alert, one group of pages, one group of timeline
activity at a time), so a long period is never held in memory as rows: a group keeps only
counters and its durations (8 bytes each, for exact percentiles).
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from statistics import median
from zoneinfo import ZoneInfo

from escalation.review.offhours import OffHours

DIMENSIONS = ("team", "level", "category", "route", "source", "person")
"""The breakdowns, in the order reports show them. ``route`` is the channel an alert was
routed to; ``person`` is who acknowledged, owned or resolved an alert (an alert counts under
each of them, so the people's rows may add up to more alerts than the total), who was paged,
who decided an approval, who owns a follow-up."""

NO_CATEGORY = "none"


@dataclass(frozen=True, slots=True)
class Where:
    """The groups an alert belongs to."""

    team: str
    level: int
    category: str | None
    route: str
    source: str

    def keys(self, person: str | None) -> list[tuple[str, str]]:
        found = [
            ("team", self.team),
            ("level", str(self.level)),
            ("category", self.category or NO_CATEGORY),
            ("route", self.route),
            ("source", self.source),
        ]
        if person:
            found.append(("person", person))
        return found


@dataclass(slots=True)  # not frozen: built once per alert, a frozen __init__ costs 3x
class AlertFacts:
    """What the review needs of one alert fired in the period."""

    where: Where
    fired_at: datetime
    count: int
    tta_s: float | None
    """Seconds from firing to the first acknowledgement; None if never acknowledged."""
    ttr_s: float | None
    """Seconds from firing to resolution; None while open."""
    resolved: bool
    resolved_by_source: bool
    acknowledged_by: str | None
    root_cause: str | None
    ack_within_s: float | None
    """The level's acknowledgement deadline from the alert's policy snapshot."""
    involved: tuple[str, ...] = ()
    """Who else owned or resolved it (besides ``acknowledged_by``): it counts under them too
    in the breakdown by person, and only there."""


@dataclass(slots=True)
class PageFacts:
    """``count`` pages of one alert's group sent within one minute to one target."""

    where: Where
    person: str | None
    """The Slack user paged (None for a channel or webhook page)."""
    at: datetime
    count: int = 1


@dataclass(frozen=True, slots=True)
class ActivityFacts:
    """Counts of escalation and approval events of one group in the period."""

    where: Where
    actor: str | None = None
    """Who decided the approvals counted here (None: the policy or a timeout)."""
    escalations: int = 0
    approvals_asked: int = 0
    approved: int = 0
    denied: int = 0
    timed_out: int = 0


@dataclass(frozen=True, slots=True)
class FollowUpFacts:
    """Follow-ups of one group's alerts owned by one person: how many, and how many are not
    done yet."""

    where: Where
    owner: str
    count: int
    open: int


@dataclass(frozen=True, slots=True)
class NoisyAlert:
    fingerprint: str
    title: str
    firings: int
    """Firings in the period (repeats of an open alert included)."""
    cycles: int
    """Times it opened in the period: each fire → resolve → fire again opens a new alert."""
    marked: bool = False
    """Marked flapping when it fired (the policy file's ``flapping`` detection)."""


def others(acknowledged_by: str | None, people: Iterable[str | None]) -> list[str]:
    """``people`` (an alert's owner, who resolved it), once each, without who acknowledged it
    (the alert already counts under them)."""
    found: list[str] = []
    for person in people:
        if person and person != acknowledged_by and person not in found:
            found.append(person)
    return found


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..1) of ``values``; ``None`` when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(math.ceil(q * len(ordered)), 1)
    return ordered[rank - 1]


def _median(values: Sequence[float]) -> float | None:
    return float(median(values)) if values else None


@dataclass(slots=True)
class Tally:
    """Running figures for one group."""

    alerts: int = 0
    firings: int = 0
    acknowledged: int = 0
    resolved: int = 0
    resolved_by_source: int = 0
    with_deadline: int = 0
    within_deadline: int = 0
    tta: array[float] = field(default_factory=lambda: array("d"))
    ttr: array[float] = field(default_factory=lambda: array("d"))
    pages: int = 0
    night_pages: int = 0
    weekend_pages: int = 0
    off_hours_pages: int = 0
    escalations: int = 0
    approvals_asked: int = 0
    approved: int = 0
    denied: int = 0
    approvals_timed_out: int = 0
    follow_ups: int = 0
    follow_ups_open: int = 0

    def add(self, facts: AlertFacts) -> None:
        self.alerts += 1
        self.firings += facts.count
        if facts.tta_s is not None:
            self.acknowledged += 1
            self.tta.append(facts.tta_s)
        if facts.resolved:
            self.resolved += 1
            self.resolved_by_source += facts.resolved_by_source
            if facts.ttr_s is not None:
                self.ttr.append(facts.ttr_s)
        if facts.ack_within_s is not None:
            self.with_deadline += 1
            if facts.tta_s is not None and facts.tta_s <= facts.ack_within_s:
                self.within_deadline += 1

    def add_pages(self, count: int, *, night: bool, weekend: bool) -> None:
        self.pages += count
        self.night_pages += count if night else 0
        self.weekend_pages += count if weekend else 0
        self.off_hours_pages += count if night or weekend else 0

    def add_activity(self, facts: ActivityFacts) -> None:
        self.escalations += facts.escalations
        self.approvals_asked += facts.approvals_asked
        self.approved += facts.approved
        self.denied += facts.denied
        self.approvals_timed_out += facts.timed_out

    def add_follow_ups(self, facts: FollowUpFacts) -> None:
        self.follow_ups += facts.count
        self.follow_ups_open += facts.open

    def merge(self, other: Tally) -> None:
        for name in _COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.tta.extend(other.tta)
        self.ttr.extend(other.ttr)

    def summary(self) -> dict[str, float | int | None]:
        share = self.within_deadline / self.with_deadline if self.with_deadline else None
        tta, ttr = sorted(self.tta), sorted(self.ttr)  # once: sorting sorted data is linear
        return {
            "alerts": self.alerts,
            "firings": self.firings,
            "acknowledged": self.acknowledged,
            "resolved": self.resolved,
            "resolved_by_source": self.resolved_by_source,
            "open": self.alerts - self.resolved,
            "mtta_median_s": _median(tta),
            "mtta_p90_s": percentile(tta, 0.9),
            "mttr_median_s": _median(ttr),
            "mttr_p90_s": percentile(ttr, 0.9),
            "acked_within_deadline_share": share,
            "pages": self.pages,
            "night_pages": self.night_pages,
            "weekend_pages": self.weekend_pages,
            "off_hours_pages": self.off_hours_pages,
            "escalations": self.escalations,
            "approvals_asked": self.approvals_asked,
            "approvals_approved": self.approved,
            "approvals_denied": self.denied,
            "approvals_timed_out": self.approvals_timed_out,
            "follow_ups": self.follow_ups,
            "follow_ups_open": self.follow_ups_open,
        }


_COUNTERS = tuple(name for name in Tally.__slots__ if name not in ("tta", "ttr"))


@dataclass(slots=True)
class Day:
    """One day of the chart series (days in the review's time zone, by firing time)."""

    by_level: Counter[int] = field(default_factory=Counter)
    tta: array[float] = field(default_factory=lambda: array("d"))
    ttr: array[float] = field(default_factory=lambda: array("d"))


@dataclass(slots=True)
class Review:
    """The figures of one period. ``zone`` names the days of the series; ``team_zones`` give
    each team's time zone for night/weekend (UTC for a team not listed)."""

    since: datetime
    until: datetime
    zone: tzinfo = UTC
    team_zones: Mapping[str, ZoneInfo] = field(default_factory=dict)
    off_hours: OffHours = field(default_factory=OffHours)
    flapping_cycles: int = 3
    root_causes: Counter[str] = field(default_factory=Counter)
    noisiest: list[NoisyAlert] = field(default_factory=list)
    flapping: list[NoisyAlert] = field(default_factory=list)
    days: dict[date, Day] = field(default_factory=dict)
    _leaves: dict[tuple[Where, str | None], Tally] = field(default_factory=dict)
    _involved: dict[str, Tally] = field(default_factory=dict)
    _merged: tuple[Tally, dict[str, dict[str, Tally]]] | None = None

    def _leaf(self, where: Where, person: str | None) -> Tally:
        """Facts are tallied once, per distinct (group, person) — a period has few — and
        merged into the overall figures and the breakdowns when those are read."""
        self._merged = None
        found = self._leaves.get((where, person))
        if found is None:
            found = self._leaves[(where, person)] = Tally()
        return found

    def leaf(self, where: Where, person: str | None) -> Tally:
        """The tally of one (group, person), for facts added in bulk (review_rows)."""
        return self._leaf(where, person)

    def involved(self, person: str) -> Tally:
        """The alerts ``person`` owned or resolved without having acknowledged them: figures
        of the breakdown by person only (never the overall figures, counted once)."""
        self._merged = None
        found = self._involved.get(person)
        if found is None:
            found = self._involved[person] = Tally()
        return found

    def _merge(self) -> tuple[Tally, dict[str, dict[str, Tally]]]:
        if self._merged is None:
            overall = Tally()
            groups: dict[str, dict[str, Tally]] = {name: {} for name in DIMENSIONS}
            for (where, person), leaf in self._leaves.items():
                overall.merge(leaf)
                for dimension, key in where.keys(person):
                    tally = groups[dimension].get(key)
                    if tally is None:
                        tally = groups[dimension][key] = Tally()
                    tally.merge(leaf)
            people = groups["person"]
            for person, extra in self._involved.items():
                found = people.get(person)
                if found is None:
                    found = people[person] = Tally()
                found.merge(extra)
            self._merged = (overall, groups)
        return self._merged

    @property
    def overall(self) -> Tally:
        return self._merge()[0]

    @property
    def groups(self) -> dict[str, dict[str, Tally]]:
        """Breakdowns: dimension → key → tally (see DIMENSIONS)."""
        return self._merge()[1]

    def add(self, facts: AlertFacts) -> None:
        self._leaf(facts.where, facts.acknowledged_by).add(facts)
        for person in others(facts.acknowledged_by, facts.involved):
            self.involved(person).add(facts)
        if facts.resolved:
            cause = facts.root_cause or ("by the source" if facts.resolved_by_source else "unknown")
            self.root_causes[cause] += 1
        day = facts.fired_at.astimezone(self.zone).date()
        series = self.days.get(day)
        if series is None:
            series = self.days[day] = Day()
        series.by_level[facts.where.level] += 1
        if facts.tta_s is not None:
            series.tta.append(facts.tta_s)
        if facts.resolved and facts.ttr_s is not None:
            series.ttr.append(facts.ttr_s)

    def add_pages(self, facts: PageFacts) -> None:
        zone = self.team_zones.get(facts.where.team, ZoneInfo("UTC"))
        night, weekend = self.off_hours.classify(facts.at, zone)
        self._leaf(facts.where, facts.person).add_pages(facts.count, night=night, weekend=weekend)

    def add_activity(self, facts: ActivityFacts) -> None:
        self._leaf(facts.where, facts.actor).add_activity(facts)

    def add_follow_ups(self, facts: FollowUpFacts) -> None:
        """Follow-ups count under their alert's groups and, by person, under their owner."""
        self._leaf(facts.where, facts.owner).add_follow_ups(facts)

    def set_noisy(self, alerts: Iterable[NoisyAlert], *, top: int = 10) -> None:
        """The alerts of the period with their firings and cycles (any order)."""
        ranked = sorted(alerts, key=lambda a: (-a.firings, -a.cycles, a.title, a.fingerprint))
        self.noisiest = ranked[:top]
        self.flapping = sorted(
            (a for a in ranked if a.marked or a.cycles >= self.flapping_cycles),
            key=lambda a: (-a.cycles, -a.firings, a.title, a.fingerprint),
        )[:top]

    def series(self) -> list[dict[str, object]]:
        """Every day of the period (empty days too), oldest first."""
        first = self.since.astimezone(self.zone).date()
        last = max(self.until.astimezone(self.zone).date(), first)
        if self.until.astimezone(self.zone).time() == datetime.min.time() and last > first:
            last = date.fromordinal(last.toordinal() - 1)
        out: list[dict[str, object]] = []
        for ordinal in range(first.toordinal(), last.toordinal() + 1):
            day = date.fromordinal(ordinal)
            found = self.days.get(day, Day())
            out.append(
                {
                    "date": day.isoformat(),
                    "alerts": {str(level): found.by_level.get(level, 0) for level in (1, 2, 3)},
                    "mtta_median_s": _median(found.tta),
                    "mttr_median_s": _median(found.ttr),
                }
            )
        return out

    def as_dict(self) -> dict[str, object]:
        def noisy(items: list[NoisyAlert]) -> list[dict[str, object]]:
            return [
                {"fingerprint": a.fingerprint, "title": a.title, "firings": a.firings,
                 "cycles": a.cycles, "marked_flapping": a.marked}
                for a in items
            ]  # fmt: skip

        groups = {
            f"by_{name}": {
                key: tally.summary() for key, tally in sorted(self.groups[name].items(), key=_order)
            }
            for name in DIMENSIONS
        }
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "overall": self.overall.summary(),
            **groups,
            "root_causes": dict(self.root_causes.most_common()),
            "noisiest": noisy(self.noisiest),
            "flapping": noisy(self.flapping),
            "days": self.series(),
            "definitions": {
                "time_zone": str(self.zone),
                "night": f"{self.off_hours.night_start:%H:%M}-{self.off_hours.night_end:%H:%M}",
                "weekend": sorted(self.off_hours.weekend),
                "flapping_cycles": self.flapping_cycles,
            },
        }


def _order(item: tuple[str, Tally]) -> tuple[int, str]:
    key = item[0]
    return (int(key), "") if key.isdigit() else (1 << 30, key)
