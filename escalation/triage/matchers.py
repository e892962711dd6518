"""Matchers shared by grading rules and routes: equality (any of several values), regular
expressions, and their negations, on a label or on one of the alert's own fields.

A missing label or field counts as the empty string (as in Prometheus Alertmanager), so
``not: {env: staging}`` holds for an alert without an ``env`` label. Regular expressions must
match the whole value (they are anchored). ``severity`` and ``category`` compare
case-insensitively, because sources spell them freely; labels and everything else exactly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from escalation.model import AlertEvent

SPECIAL_KEYS = ("category", "source", "severity", "level", "metric")
"""Matcher keys that look at the alert itself rather than at a label of the same name."""
CASE_INSENSITIVE_KEYS = frozenset({"severity", "category"})


def field_of(event: AlertEvent, key: str, *, level: int | None) -> str:
    """The value a matcher on ``key`` looks at ("" when absent)."""
    match key:
        case "category":
            return event.category or ""
        case "source":
            return event.source
        case "severity":
            return event.severity or ""
        case "level":
            return "" if level is None else str(level)
        case "metric":
            return event.metric.name if event.metric is not None else ""
        case _:
            return event.labels.get(key, "")


@dataclass(frozen=True, slots=True)
class Matcher:
    """One condition on one key: equal to one of ``values``, or matching ``pattern``."""

    key: str
    values: frozenset[str] = frozenset()
    pattern: re.Pattern[str] | None = None
    negate: bool = False

    @classmethod
    def equal(cls, key: str, values: str | Iterable[str], *, negate: bool = False) -> Matcher:
        wanted = (values,) if isinstance(values, str) else tuple(values)
        if key in CASE_INSENSITIVE_KEYS:
            wanted = tuple(v.lower() for v in wanted)
        return cls(key=key, values=frozenset(wanted), negate=negate)

    @classmethod
    def regex(cls, key: str, pattern: str, *, negate: bool = False) -> Matcher:
        """``re.error`` for a bad pattern (the policy file checks patterns first)."""
        flags = re.IGNORECASE if key in CASE_INSENSITIVE_KEYS else 0
        return cls(key=key, pattern=re.compile(pattern, flags), negate=negate)

    def holds(self, value: str) -> bool:
        if self.pattern is not None:
            found = self.pattern.fullmatch(value) is not None
        else:
            found = (value.lower() if self.key in CASE_INSENSITIVE_KEYS else value) in self.values
        return found is not self.negate


@dataclass(frozen=True, slots=True)
class Matchers:
    """Conditions that must all hold (no conditions: everything matches)."""

    items: tuple[Matcher, ...] = ()

    @classmethod
    def build(
        cls,
        *,
        equal: Mapping[str, str | Sequence[str]] | None = None,
        regex: Mapping[str, str] | None = None,
        not_equal: Mapping[str, str | Sequence[str]] | None = None,
        not_regex: Mapping[str, str] | None = None,
    ) -> Matchers:
        items = [Matcher.equal(k, v) for k, v in (equal or {}).items()]
        items += [Matcher.regex(k, v) for k, v in (regex or {}).items()]
        items += [Matcher.equal(k, v, negate=True) for k, v in (not_equal or {}).items()]
        items += [Matcher.regex(k, v, negate=True) for k, v in (not_regex or {}).items()]
        return cls(tuple(items))

    def matches(self, event: AlertEvent, *, level: int | None) -> bool:
        return all(m.holds(field_of(event, m.key, level=level)) for m in self.items)

    def __bool__(self) -> bool:
        return bool(self.items)
