"""Texts about metric alerts dropped as noise (``/tocsin list`` footer, ``tocsin noise``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from escalation.triage.grading import percent
from storage.db import Database
from storage.noise.dropped import NoiseSummary, noise_since, noise_totals

DAY = timedelta(days=1)


async def noise_footer(db: Database, *, now: datetime) -> str:
    """One line for ``/tocsin list``; empty when nothing was dropped in the last day."""
    total, distinct = await noise_totals(db, since=now - DAY)
    if not total:
        return ""
    return (
        f"\n_:mute: {total} metric event(s) of {distinct} alert(s) dropped as noise in the last "
        "24 h (inside a noise band of the grading rules); `tocsin noise` lists them._"
    )


def noise_row(item: NoiseSummary) -> str:
    baseline = "—" if item.last_baseline is None else f"{item.last_baseline:g}"
    return (
        f"{item.last_at:%Y-%m-%d %H:%M} {item.count:>6}  {item.metric}  value {item.last_value:g} "
        f"vs {baseline} ({percent(item.last_deviation)})  {item.title}  "
        f"[{item.integration}, {item.fingerprint}]"
    )


async def noise_report(db: Database, *, since: datetime) -> list[str]:
    return [noise_row(item) for item in await noise_since(db, since=since, limit=1000)]
