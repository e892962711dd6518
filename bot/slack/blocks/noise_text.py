"""Texts about metric alerts dropped as noise (``/tocsin list`` footer, ``tocsin noise``)."""

from __future__ import annotations

from datetime import timedelta

from escalation.triage.grading import percent
from storage.noise.dropped import NoiseSummary

DAY = timedelta(days=1)


def noise_footer(*, total: int, distinct: int) -> str:
    """One line for ``/tocsin list`` from the last day's totals (``noise_totals`` since
    ``now - DAY``); empty when nothing was dropped."""
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
