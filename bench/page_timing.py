"""The time-to-page benchmark's arithmetic (bench/page_bench.py), kept free of I/O so it can
be tested: alert markers, what landed in the fake Slack and when, the first landing that
counts as an alert's page or warning, and percentiles in which a delivery that never came
counts as later than any that did.

Every alert the bench sends carries a marker in its title (``pb-<scenario>-<00042>``); the
fake Slack notes each message as it lands (a new message or an edit, in which conversation)
with the markers its text and blocks name. An alert's **page** is the first *new* message in
the paged person's DM naming it (an edit wakes no one); its **warning** is the first message
or edit in its channel naming it (its own warning, or its line in a storm summary or a group
listing).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MARKER = re.compile(r"\bpb-[a-z]{1,12}-\d{5}\b")


def marker(scenario: str, n: int) -> str:
    """The marker of alert ``n`` of a scenario: fixed width, so none is a prefix of another."""
    if not re.fullmatch(r"[a-z]{1,12}", scenario) or not 0 <= n < 100_000:
        raise ValueError(f"no marker for {scenario!r} #{n}")
    return f"pb-{scenario}-{n:05d}"


def markers_in(*parts: Any) -> frozenset[str]:
    """The markers named anywhere in a message's text, blocks or attachments."""
    found: set[str] = set()
    for part in parts:
        if not part:
            continue
        found.update(MARKER.findall(part if isinstance(part, str) else json.dumps(part)))
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class Landing:
    """One write that landed in the fake Slack."""

    at: float
    """``time.monotonic()`` when it landed."""
    wall: float
    """``time.time()`` at the same moment (to compare with the database's timestamps)."""
    conversation: str
    """Channel or DM id."""
    dm_user: str | None
    """The person of a DM conversation; ``None`` for a channel."""
    new: bool
    """``chat.postMessage`` (a new message) rather than ``chat.update`` (an edit)."""
    markers: frozenset[str]


@dataclass
class FirstSeen:
    """The first landing of each kind per marker, noted as landings come in."""

    pages: dict[tuple[str, str], Landing] = field(default_factory=dict)
    """(user, marker) → the first new DM message to that user naming the marker."""
    dm_any: dict[tuple[str, str], Landing] = field(default_factory=dict)
    """(user, marker) → the first DM message *or edit* naming it (a page by edit shows here
    but not in ``pages``)."""
    in_channel: dict[tuple[str, str], Landing] = field(default_factory=dict)
    """(channel id, marker) → the first message or edit in that channel naming it."""
    landings: int = 0

    def add(self, landing: Landing) -> None:
        self.landings += 1
        for name in landing.markers:
            if landing.dm_user is not None:
                key = (landing.dm_user, name)
                self.dm_any.setdefault(key, landing)
                if landing.new:
                    self.pages.setdefault(key, landing)
            else:
                self.in_channel.setdefault((landing.conversation, name), landing)

    def page(self, user: str, name: str) -> Landing | None:
        return self.pages.get((user, name))

    def warning(self, channel: str, name: str) -> Landing | None:
        return self.in_channel.get((channel, name))


def delay(sent_at: float, landing: Landing | None) -> float | None:
    """Seconds from the webhook's 2xx to the landing; ``None`` if it never landed."""
    return None if landing is None else landing.at - sent_at


def first_of(landings: Iterable[Landing | None]) -> Landing | None:
    """The earliest of some landings (e.g. the first line naming any member of a group)."""
    found = [x for x in landings if x is not None]
    return min(found, key=lambda x: x.at) if found else None


def last_of(landings: Iterable[Landing | None]) -> Landing | None:
    """The latest of some landings, or ``None`` if any of them never landed."""
    found = list(landings)
    if not found or any(x is None for x in found):
        return None
    return max((x for x in found if x is not None), key=lambda x: x.at)


def percentile(values: Sequence[float | None], q: float) -> float:
    """Nearest-rank percentile; a missing value (``None``) counts as later than every other,
    so a p99 over 20 alerts with one never delivered is ``inf`` (not within the wait)."""
    if not values:
        return math.nan
    ordered = sorted(math.inf if v is None else v for v in values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Spread:
    """p50 / p99 / max of some delays, with how many never came within the wait."""

    n: int
    missing: int
    p50: float
    p99: float
    max: float
    waited: float

    @classmethod
    def of(cls, values: Sequence[float | None], *, waited: float) -> Spread:
        return cls(
            n=len(values),
            missing=sum(1 for v in values if v is None),
            p50=percentile(values, 0.50),
            p99=percentile(values, 0.99),
            max=percentile(values, 1.0),
            waited=waited,
        )

    def cell(self, value: float) -> str:
        if math.isnan(value):
            return "—"
        if math.isinf(value):
            return f"not within {self.waited:.0f} s"
        return f"{value:.2f} s"

    def text(self) -> str:
        """``p50 / p99 / max``, each a time or "not within N s"; with the count missing."""
        cells = " / ".join(self.cell(v) for v in (self.p50, self.p99, self.max))
        return cells + (f" ({self.missing} of {self.n} never)" if self.missing else "")

    def as_json(self) -> dict[str, Any]:
        def num(value: float) -> float | None:
            return None if math.isinf(value) or math.isnan(value) else round(value, 3)

        return {
            "n": self.n,
            "missing": self.missing,
            "p50_s": num(self.p50),
            "p99_s": num(self.p99),
            "max_s": num(self.max),
            "waited_s": round(self.waited, 1),
        }


@dataclass(frozen=True)
class Figure:
    """One printed figure: its label, its spread, which statistic a target applies to."""

    label: str
    spread: Spread
    target: float | None = None
    """Seconds; the ``on`` statistic must be at most this. ``None``: reported only."""
    on: str = "p99"

    def value(self) -> float:
        return float(getattr(self.spread, self.on))

    def met(self) -> bool | None:
        return None if self.target is None else self.value() <= self.target

    def verdict(self) -> str:
        met = self.met()
        if met is None:
            return ""
        return f"{self.on} ≤ {self.target:g} s — {'met' if met else 'MISSED'}"


def figures_json(figures: Mapping[str, Figure]) -> dict[str, Any]:
    return {
        key: {
            **figure.spread.as_json(),
            "target_s": figure.target,
            "target_on": figure.on if figure.target is not None else None,
            "met": figure.met(),
        }
        for key, figure in figures.items()
    }
