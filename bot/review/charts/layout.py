"""The review chart laid out once, as a short list of drawing primitives in pixels (origin top
left, y down): alerts per day stacked by level above, the daily MTTA/MTTR medians below, on a
shared day axis. Pure and deterministic: the SVG writer (``chart_svg``) and the PNG drawer
(``chart_png``, matplotlib) draw the same list, so both images show the same thing."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

WIDTH, HEIGHT = 900, 600
LEVELS = ("1", "2", "3")
LEVEL_COLOURS = {"1": "#d93f3f", "2": "#f29d38", "3": "#4a8fd9"}
MTTA_COLOUR, MTTR_COLOUR = "#6a4fc8", "#2e9e6b"
INK, GRID, MUTED = "#222222", "#e3e3e3", "#555555"
MAX_X_LABELS = 15
"""Every ``len(days) // 15``-th day is labelled, as matplotlib's chart did."""

_LEFT, _RIGHT = 64, 24
_TOP_PANEL = (48, 262)  # plot area of the alerts, y from..to
_BOTTOM_PANEL = (318, 528)  # plot area of the medians


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    fill: str
    stroke: str | None = None
    role: str = ""


@dataclass(frozen=True, slots=True)
class Polyline:
    points: tuple[tuple[float, float], ...]
    stroke: str
    width: float = 1.0
    role: str = ""


@dataclass(frozen=True, slots=True)
class Circle:
    cx: float
    cy: float
    r: float
    fill: str
    role: str = ""


@dataclass(frozen=True, slots=True)
class Text:
    """``rotate`` in degrees counter-clockwise about (x, y); y is the text's baseline."""

    x: float
    y: float
    text: str
    size: float = 11.0
    anchor: Literal["start", "middle", "end"] = "start"
    fill: str = INK
    rotate: float = 0.0
    bold: bool = False
    role: str = ""


Primitive = Rect | Polyline | Circle | Text


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    items: tuple[Primitive, ...]


def integer_ticks(top: float, *, most: int = 5) -> list[int]:
    """Ticks 0, s, 2s, … up to the first at or above ``top``; s is 1, 2 or 5 x 10^k, the
    smallest giving at most ``most`` intervals. An empty scale still gets 0 and 1."""
    if not math.isfinite(top) or top <= 0:
        return [0, 1]
    step = 1
    for exponent in range(0, 20):
        for factor in (1, 2, 5):
            step = factor * 10**exponent
            if math.ceil(top / step) <= most:
                return [i * step for i in range(math.ceil(top / step) + 1)]
    return [0, step]  # pragma: no cover - beyond 10^20


def _minutes(seconds: Any) -> float | None:
    return None if seconds is None else float(seconds) / 60.0


class _Scale:
    """Days to x (the centre of each day's band) and values to y within one panel."""

    def __init__(self, days: int, panel: tuple[int, int], ticks: list[int]) -> None:
        self.band = (WIDTH - _LEFT - _RIGHT) / max(days, 1)
        self.top, self.bottom = panel
        self.high = ticks[-1]

    def x(self, index: int) -> float:
        return _LEFT + self.band * (index + 0.5)

    def y(self, value: float) -> float:
        return self.bottom - (self.bottom - self.top) * value / self.high


def _axes(scale: _Scale, ticks: list[int], *, title: str, unit: str) -> list[Primitive]:
    items: list[Primitive] = [
        Text(_LEFT, scale.top - 16, title, size=14, bold=True, role="title"),
        Text(
            18,
            (scale.top + scale.bottom) / 2,
            unit,
            size=11,
            anchor="middle",
            rotate=90,
            role="unit",
        ),
    ]
    for tick in ticks:
        y = scale.y(tick)
        if tick:
            items.append(Polyline(((_LEFT, y), (WIDTH - _RIGHT, y)), GRID, role="grid"))
        items.append(Polyline(((_LEFT - 4, y), (_LEFT, y)), INK, role="tick"))
        items.append(
            Text(_LEFT - 7, y + 4, str(tick), size=10, anchor="end", fill=MUTED, role="y-label")
        )
    spine = ((_LEFT, scale.top), (_LEFT, scale.bottom), (WIDTH - _RIGHT, scale.bottom))
    items.append(Polyline(spine, INK, role="axis"))
    return items


def _legend(entries: list[tuple[str, list[Primitive]]], *, top: float) -> list[Primitive]:
    """One row above the panel's plot area, ending at its right edge (beside the title, clear
    of the data). Each key is drawn in a 24x14 cell whose origin is (0, 0) and moved into
    place; label widths are estimated (6.2 px a character at 10 px)."""
    widths = [30 + 6.2 * len(label) + 16 for label, _ in entries]
    x = WIDTH - _RIGHT - sum(widths) + 16
    y = top - 27
    items: list[Primitive] = []
    for (label, key), width in zip(entries, widths, strict=True):
        items.extend(_moved(p, x, y) for p in key)
        items.append(Text(x + 30, y + 11, label, size=10, role="legend-label"))
        x += width
    return items


def _moved(item: Primitive, dx: float, dy: float) -> Primitive:
    if isinstance(item, Rect):
        return Rect(
            item.x + dx, item.y + dy, item.width, item.height, item.fill, item.stroke, item.role
        )
    if isinstance(item, Circle):
        return Circle(item.cx + dx, item.cy + dy, item.r, item.fill, item.role)
    if isinstance(item, Polyline):
        points = tuple((x + dx, y + dy) for x, y in item.points)
        return Polyline(points, item.stroke, item.width, item.role)
    return Text(
        item.x + dx,
        item.y + dy,
        item.text,
        item.size,
        item.anchor,
        item.fill,
        item.rotate,
        item.bold,
        item.role,
    )


def _marker(x: float, y: float, colour: str, *, square: bool, role: str) -> Primitive:
    if square:
        return Rect(x - 3.5, y - 3.5, 7, 7, colour, role=role)
    return Circle(x, y, 3.5, colour, role=role)


def _series(
    values: list[float | None], scale: _Scale, colour: str, *, square: bool, role: str
) -> list[Primitive]:
    """The line through the days that have a value (a day without one leaves a gap), and a
    marker on each of those days."""
    items: list[Primitive] = []
    run: list[tuple[float, float]] = []
    for index, value in [*enumerate(values), (len(values), None)]:
        if value is not None:
            run.append((scale.x(index), scale.y(value)))
        elif run:
            if len(run) > 1:
                items.append(Polyline(tuple(run), colour, width=1.8, role=f"{role}-line"))
            run = []
    for index, value in enumerate(values):
        if value is not None:
            items.append(
                _marker(
                    scale.x(index), scale.y(value), colour, square=square, role=f"{role}-marker"
                )
            )
    return items


def layout(days: Sequence[Mapping[str, Any]], *, level_names: Mapping[int, str]) -> Chart:
    """The chart of ``days`` (``Review.series()``: ``date``, ``alerts`` by level "1".."3",
    ``mtta_median_s`` and ``mttr_median_s``, either may be None)."""
    counts = [[int(d["alerts"].get(level, 0)) for level in LEVELS] for d in days]
    alert_ticks = integer_ticks(max((sum(c) for c in counts), default=0))
    top = _Scale(len(days), _TOP_PANEL, alert_ticks)
    items = _axes(top, alert_ticks, title="Alerts per day by level", unit="alerts")
    for index, per_level in enumerate(counts):
        base = 0
        for level, count in zip(LEVELS, per_level, strict=True):
            if count:
                y = top.y(base + count)
                items.append(
                    Rect(
                        top.x(index) - top.band * 0.4,
                        y,
                        top.band * 0.8,
                        top.y(base) - y,
                        LEVEL_COLOURS[level],
                        role=f"bar-{level}",
                    )
                )
            base += count
    items += _legend(
        [
            (
                f"{level} {level_names.get(int(level), f'level {level}')}",
                [Rect(4, 1, 16, 12, LEVEL_COLOURS[level])],
            )
            for level in LEVELS
        ],
        top=top.top,
    )

    mtta = [_minutes(d["mtta_median_s"]) for d in days]
    mttr = [_minutes(d["mttr_median_s"]) for d in days]
    minute_ticks = integer_ticks(max((v for v in mtta + mttr if v is not None), default=0))
    bottom = _Scale(len(days), _BOTTOM_PANEL, minute_ticks)
    items += _axes(bottom, minute_ticks, title="Time to acknowledge and to resolve", unit="minutes")
    items += _series(mtta, bottom, MTTA_COLOUR, square=False, role="mtta")
    items += _series(mttr, bottom, MTTR_COLOUR, square=True, role="mttr")
    items += _legend(
        [
            (
                name,
                [
                    Polyline(((0, 7), (24, 7)), colour, width=1.8),
                    _marker(12, 7, colour, square=square, role=""),
                ],
            )
            for name, colour, square in (
                ("MTTA (median)", MTTA_COLOUR, False),
                ("MTTR (median)", MTTR_COLOUR, True),
            )
        ],
        top=bottom.top,
    )

    step = max(1, len(days) // MAX_X_LABELS)
    for index in range(0, len(days), step):
        x = bottom.x(index)
        items.append(Polyline(((x, bottom.bottom), (x, bottom.bottom + 4)), INK, role="tick"))
        items.append(
            Text(
                x + 3,
                bottom.bottom + 14,
                str(days[index]["date"])[5:],
                size=10,
                anchor="end",
                fill=MUTED,
                rotate=45,
                role="x-label",
            )
        )
    return Chart(WIDTH, HEIGHT, tuple(items))
