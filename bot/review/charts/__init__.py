"""Charts of a review: alerts per day by level (stacked bars) and the MTTA/MTTR trend (daily
medians), laid out once (``chart_layout``) and drawn as SVG by hand for the review page
(``chart_svg``, no dependency) or as PNG by matplotlib for the weekly digest (``chart_png``,
the optional ``charts`` extra)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.review.charts.layout import layout
from bot.review.charts.png import ChartsUnavailable, render_png
from bot.review.charts.svg import render_svg

INSTALL_HINT = "pip install 'tocsin[charts]' adds the chart image to the weekly digest"


def review_chart_svg(days: Sequence[Mapping[str, Any]], *, level_names: Mapping[int, str]) -> bytes:
    """Both charts in one SVG image, one above the other. ``days`` is ``Review.series()``."""
    return render_svg(layout(days, level_names=level_names))


def review_chart_png(
    days: Sequence[Mapping[str, Any]], *, level_names: Mapping[int, str]
) -> bytes | None:
    """The same chart as PNG, or None when matplotlib is not installed. CPU-bound (1-2 s for
    90 days on a busy 2-core machine, more on the first call, which imports matplotlib): call
    from a thread."""
    try:
        return render_png(layout(days, level_names=level_names))
    except ChartsUnavailable:
        return None
