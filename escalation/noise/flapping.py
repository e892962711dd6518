"""Flapping: an alert that fires again and again within a window (``fires`` times in
``window_seconds``) reuses one warning instead of posting a new one each time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from escalation.model import Flapping


@dataclass(frozen=True, slots=True)
class FlapRule:
    fires: int
    """How many firings (this one included) within the window make an alert flapping."""
    window_seconds: int


def detect(
    earlier_firings: Sequence[datetime], *, now: datetime, rule: FlapRule | None
) -> Flapping | None:
    """Is an alert firing at ``now`` flapping, given when the same fingerprint fired before?"""
    if rule is None or rule.fires < 2:
        return None
    since = now - timedelta(seconds=rule.window_seconds)
    recent = sum(1 for at in earlier_firings if since <= at <= now)
    fires = recent + 1
    return Flapping(fires, rule.window_seconds) if fires >= rule.fires else None


def describe(flapping: Flapping) -> str:
    """``flapping: fired 6 times in 30 min``."""
    minutes = max(1, round(flapping.window_seconds / 60))
    window = f"{minutes} min" if minutes < 120 else f"{round(minutes / 60)} h"
    return f"flapping: fired {flapping.fires} times in {window}"
