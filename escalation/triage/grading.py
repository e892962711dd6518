"""Grading: which level (1 major … 3 minor) an alert event gets, or whether it is noise.

Rules are tried in order and the first that matches decides. A rule either gives a fixed
``level`` or grades a metric alert by its deviation from the baseline through ``bands`` (for
example under 5 % → noise, 5 to 10 % → level 3, 10 to 20 % → level 2, 20 % and over → 1).
A band rule matches only an alert with a metric whose deviation is known and falls in one of
its bands; otherwise the next rule is tried.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from escalation.model import AlertEvent
from escalation.triage.matchers import Matchers


def percent(fraction: float) -> str:
    """0.125 → "12.5%", 0.2115 → "21.2%", 0.05 → "5%": one decimal at most. The one rounding of
    a deviation: the title a source makes and the warning's metric line agree."""
    if fraction == float("inf"):
        return "∞%"
    return f"{fraction * 100:.1f}".removesuffix(".0") + "%"


@dataclass(frozen=True, slots=True)
class Band:
    """Deviations from ``low`` (inclusive) up to ``high`` (exclusive; ``None``: no limit)."""

    low: float
    high: float | None
    level: int | None
    """The level given; ``None``: the alert is noise and is dropped (and counted)."""

    def covers(self, deviation: float) -> bool:
        return self.low <= deviation and (self.high is None or deviation < self.high)

    def describe(self) -> str:
        if self.high is None:
            return f"{percent(self.low)} and over"
        if self.low == 0:
            return f"under {percent(self.high)}"
        return f"{percent(self.low)} to {percent(self.high)}"


@dataclass(frozen=True, slots=True)
class GradingRule:
    """Grade to ``level`` (or by ``bands``) when every condition given holds.

    ``severities`` match the source's severity word (case-insensitive), ``labels`` must all be
    equal, ``categories`` match the alert's category, ``metrics`` the metric's name;
    ``matchers`` add regular expressions and negations.
    """

    level: int | None
    severities: frozenset[str] = frozenset()
    labels: Mapping[str, str] = field(default_factory=dict)
    categories: frozenset[str] = frozenset()
    matchers: Matchers = field(default_factory=Matchers)
    metrics: frozenset[str] = frozenset()
    bands: tuple[Band, ...] = ()

    def __post_init__(self) -> None:
        if (self.level is None) == (not self.bands):
            raise ValueError("a grading rule gives either a level or deviation bands")
        # Case-insensitive on both sides, whoever built the rule.
        object.__setattr__(self, "severities", frozenset(s.lower() for s in self.severities))
        object.__setattr__(self, "categories", frozenset(c.lower() for c in self.categories))

    def matches(self, event: AlertEvent) -> bool:
        """Whether the rule's conditions hold (for a band rule: before looking at bands)."""
        if self.severities and (event.severity or "").lower() not in self.severities:
            return False
        if self.categories and (event.category or "").lower() not in self.categories:
            return False
        if self.metrics and (event.metric is None or event.metric.name not in self.metrics):
            return False
        if not all(event.labels.get(k) == v for k, v in self.labels.items()):
            return False
        return self.matchers.matches(event, level=None)

    def band_for(self, event: AlertEvent) -> tuple[Band, float] | None:
        deviation = event.metric.deviation() if event.metric is not None else None
        if deviation is None:
            return None
        for band in self.bands:
            if band.covers(deviation):
                return band, deviation
        return None


@dataclass(frozen=True, slots=True)
class Grade:
    level: int
    reason: str
    deviation: float | None = None
    """The metric's deviation when a band decided."""


@dataclass(frozen=True, slots=True)
class Noise:
    """A metric alert inside its noise band: dropped before it reaches people, and counted."""

    reason: str
    deviation: float
    rule: int
    """1-based index of the grading rule."""


def grade(event: AlertEvent, rules: Sequence[GradingRule], *, default_level: int) -> Grade | Noise:
    """First matching rule wins; a level given by the source itself beats every rule."""
    if event.level is not None:
        return Grade(event.level, "level given by the source")
    for index, rule in enumerate(rules):
        if not rule.matches(event):
            continue
        if rule.level is not None:
            return Grade(rule.level, f"grading rule {index + 1}")
        found = rule.band_for(event)
        if found is None:
            continue
        band, deviation = found
        why = f"grading rule {index + 1}: deviation {percent(deviation)} in {band.describe()}"
        if band.level is None:
            return Noise(f"{why} (noise)", deviation, index + 1)
        return Grade(band.level, why, deviation)
    return Grade(default_level, "default level")
