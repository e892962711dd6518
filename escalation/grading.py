"""Grading: which level (1 major … 3 minor) an alert event gets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from escalation.model import AlertEvent


@dataclass(frozen=True, slots=True)
class GradingRule:
    """Grade to ``level`` when every condition given holds.

    ``severities`` match the source's severity word (case-insensitive), ``labels`` must all be
    equal, ``categories`` match the alert's category.
    """

    level: int
    severities: frozenset[str] = frozenset()
    labels: Mapping[str, str] = field(default_factory=dict)
    categories: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        # Case-insensitive on both sides, whoever built the rule.
        object.__setattr__(self, "severities", frozenset(s.lower() for s in self.severities))
        object.__setattr__(self, "categories", frozenset(c.lower() for c in self.categories))

    def matches(self, event: AlertEvent) -> bool:
        if self.severities and (event.severity or "").lower() not in self.severities:
            return False
        if self.categories and (event.category or "").lower() not in self.categories:
            return False
        return all(event.labels.get(k) == v for k, v in self.labels.items())


@dataclass(frozen=True, slots=True)
class Grade:
    level: int
    reason: str


def grade(event: AlertEvent, rules: Sequence[GradingRule], *, default_level: int) -> Grade:
    """First matching rule wins; a level given by the source itself beats every rule."""
    if event.level is not None:
        return Grade(event.level, "level given by the source")
    for index, rule in enumerate(rules):
        if rule.matches(event):
            return Grade(rule.level, f"grading rule {index + 1}")
    return Grade(default_level, "default level")
