"""The review's arithmetic: MTTA/MTTR (median, p90), share acknowledged within the level's
deadline, breakdowns, noisiest alerts, root causes. Pure; fed one alert at a time so a long
period never has to be held in memory as rows."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median


@dataclass(frozen=True, slots=True)
class AlertFacts:
    """What the review needs of one alert."""

    fingerprint: str
    title: str
    level: int
    team: str
    category: str | None
    source: str
    fired_at: datetime
    count: int
    tta_s: float | None
    ttr_s: float | None
    resolved: bool
    resolved_by_source: bool
    acknowledged_by: str | None
    root_cause: str | None
    ack_within_s: int | None


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..1) of ``values``; ``None`` when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(math.ceil(q * len(ordered)), 1)
    return ordered[rank - 1]


@dataclass(slots=True)
class Tally:
    """Running figures for one group of alerts."""

    alerts: int = 0
    firings: int = 0
    acknowledged: int = 0
    resolved: int = 0
    resolved_by_source: int = 0
    with_deadline: int = 0
    within_deadline: int = 0
    tta: list[float] = field(default_factory=list)
    ttr: list[float] = field(default_factory=list)

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

    def summary(self) -> dict[str, float | int | None]:
        share = self.within_deadline / self.with_deadline if self.with_deadline else None
        return {
            "alerts": self.alerts,
            "firings": self.firings,
            "acknowledged": self.acknowledged,
            "resolved": self.resolved,
            "resolved_by_source": self.resolved_by_source,
            "open": self.alerts - self.resolved,
            "mtta_median_s": median(self.tta) if self.tta else None,
            "mtta_p90_s": percentile(self.tta, 0.9),
            "mttr_median_s": median(self.ttr) if self.ttr else None,
            "mttr_p90_s": percentile(self.ttr, 0.9),
            "acked_within_deadline_share": share,
        }


@dataclass(slots=True)
class Review:
    overall: Tally = field(default_factory=Tally)
    by_team: dict[str, Tally] = field(default_factory=dict)
    by_level: dict[int, Tally] = field(default_factory=dict)
    by_category: dict[str, Tally] = field(default_factory=dict)
    by_source: dict[str, Tally] = field(default_factory=dict)
    by_person: dict[str, Tally] = field(default_factory=dict)
    root_causes: Counter[str] = field(default_factory=Counter)
    noisy: Counter[str] = field(default_factory=Counter)
    titles: dict[str, str] = field(default_factory=dict)

    def add(self, facts: AlertFacts) -> None:
        self.overall.add(facts)
        self.by_team.setdefault(facts.team, Tally()).add(facts)
        self.by_level.setdefault(facts.level, Tally()).add(facts)
        self.by_category.setdefault(facts.category or "none", Tally()).add(facts)
        self.by_source.setdefault(facts.source, Tally()).add(facts)
        if facts.acknowledged_by:
            self.by_person.setdefault(facts.acknowledged_by, Tally()).add(facts)
        if facts.resolved:
            self.root_causes[
                facts.root_cause or ("by the source" if facts.resolved_by_source else "unknown")
            ] += 1
        self.noisy[facts.fingerprint] += facts.count
        self.titles.setdefault(facts.fingerprint, facts.title)

    def noisiest(self, n: int = 5) -> list[tuple[str, int]]:
        return [(self.titles[fp], count) for fp, count in self.noisy.most_common(n)]

    def as_dict(self) -> dict[str, object]:
        def groups(tallies: dict[str, Tally] | dict[int, Tally]) -> dict[str, object]:
            return {
                str(k): t.summary() for k, t in sorted(tallies.items(), key=lambda kv: str(kv[0]))
            }

        return {
            "overall": self.overall.summary(),
            "by_team": groups(self.by_team),
            "by_level": groups(self.by_level),
            "by_category": groups(self.by_category),
            "by_source": groups(self.by_source),
            "by_person": groups(self.by_person),
            "root_causes": dict(self.root_causes.most_common()),
            "noisiest": [{"title": t, "firings": c} for t, c in self.noisiest()],
        }


def review(facts: Iterable[AlertFacts]) -> Review:
    result = Review()
    for item in facts:
        result.add(item)
    return result
