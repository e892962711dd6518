"""Charts of a review: alerts per day by level (stacked bars) and the MTTA/MTTR trend (daily
medians). Drawn with matplotlib's Agg canvas through its object API — no pyplot, so no global
figure state — as PNG (Slack) or SVG (the review page). CPU-bound: call from a thread."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

LEVEL_COLOURS = {"1": "#d93f3f", "2": "#f29d38", "3": "#4a8fd9"}


def _minutes(value: Any) -> float:
    return float("nan") if value is None else float(value) / 60.0


def review_chart(
    days: Sequence[Mapping[str, Any]], *, level_names: Mapping[int, str], fmt: str = "png"
) -> bytes:
    """Both charts in one image, one above the other. ``days`` is ``Review.series()``."""
    figure = Figure(figsize=(9, 6), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, sharex=True)
    labels = [str(d["date"])[5:] for d in days]
    positions = list(range(len(days)))
    base = [0] * len(days)
    for level in ("1", "2", "3"):
        heights = [int(d["alerts"].get(level, 0)) for d in days]
        name = level_names.get(int(level), f"level {level}")
        top.bar(positions, heights, bottom=base, color=LEVEL_COLOURS[level],
                label=f"{level} {name}")  # fmt: skip
        base = [b + h for b, h in zip(base, heights, strict=True)]
    top.set_title("Alerts per day by level")
    top.set_ylabel("alerts")
    top.legend(loc="upper left", fontsize="small")
    top.yaxis.get_major_locator().set_params(integer=True)
    mtta = [_minutes(d["mtta_median_s"]) for d in days]
    mttr = [_minutes(d["mttr_median_s"]) for d in days]
    bottom.plot(positions, mtta, marker="o", label="MTTA (median)", color="#6a4fc8")
    bottom.plot(positions, mttr, marker="s", label="MTTR (median)", color="#2e9e6b")
    bottom.set_title("Time to acknowledge and to resolve")
    bottom.set_ylabel("minutes")
    bottom.legend(loc="upper left", fontsize="small")
    step = max(1, len(days) // 15)
    bottom.set_xticks(positions[::step], labels[::step], rotation=45, fontsize="small")
    for axes in (top, bottom):
        axes.grid(axis="y", alpha=0.3)
        axes.spines[["top", "right"]].set_visible(False)
    out = io.BytesIO()
    figure.savefig(out, format=fmt, metadata=_metadata(fmt))
    return out.getvalue()


def _metadata(fmt: str) -> dict[str, Any]:
    # No creation dates: the same figures give the same bytes.
    if fmt == "svg":
        return {"Date": None}
    if fmt == "png":
        return {"Software": None}
    return {}
