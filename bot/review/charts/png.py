"""The review chart as PNG (the weekly digest's image in Slack): matplotlib's Agg canvas draws
the layout's primitives one by one on a figure whose data coordinates are its pixels. matplotlib
is the optional ``charts`` extra, imported here on each call and nowhere else, so a runtime
install without it never loads it. CPU-bound: call from a thread."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from bot.review.charts.layout import Chart, Circle, Polyline, Rect, Text

DPI = 100
_POINTS = 72 / DPI  # matplotlib sizes fonts and lines in points, the layout in pixels
if TYPE_CHECKING:
    from matplotlib.axes import Axes

_ALIGN = {"start": "left", "middle": "center", "end": "right"}


class ChartsUnavailable(RuntimeError):
    """matplotlib is not installed (``pip install 'tocsin[charts]'``)."""


def render_png(chart: Chart) -> bytes:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.patches import Circle as CirclePatch
        from matplotlib.patches import Rectangle
    except ImportError as exc:
        raise ChartsUnavailable("matplotlib is not installed") from exc

    figure = Figure(figsize=(chart.width / DPI, chart.height / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, chart.width)
    axes.set_ylim(chart.height, 0)  # y down, as in the layout
    axes.set_axis_off()
    for order, item in enumerate(chart.items):  # later items above earlier ones, as in SVG
        if isinstance(item, Rect):
            axes.add_patch(
                Rectangle(
                    (item.x, item.y),
                    item.width,
                    item.height,
                    facecolor=item.fill,
                    edgecolor=item.stroke or "none",
                    linewidth=_POINTS,
                    zorder=order,
                )
            )
        elif isinstance(item, Polyline):
            xs, ys = zip(*item.points, strict=True)
            axes.plot(
                xs,
                ys,
                color=item.stroke,
                linewidth=item.width * _POINTS,
                solid_joinstyle="round",
                zorder=order,
            )
        elif isinstance(item, Circle):
            axes.add_patch(
                CirclePatch((item.cx, item.cy), item.r, facecolor=item.fill, zorder=order)
            )
        else:
            _text(axes, item, order)
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})  # same figures, same bytes
    return out.getvalue()


def _text(axes: Axes, item: Text, order: int) -> None:
    axes.text(
        item.x,
        item.y,
        item.text,
        fontsize=item.size * _POINTS,
        color=item.fill,
        ha=_ALIGN[item.anchor],
        va="baseline",
        rotation=item.rotate,
        rotation_mode="anchor",
        fontweight="bold" if item.bold else "normal",
        parse_math=False,
        zorder=order,  # a level name with "$" is text, not TeX
    )
