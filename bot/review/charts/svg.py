"""The review chart as SVG, written by hand from its layout (``chart_layout``): no dependency,
the same bytes for the same figures. Every text is escaped (level names come from the policy
file), and characters XML cannot carry at all (control characters) become U+FFFD."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape, quoteattr

from bot.review.charts.layout import Chart, Circle, Polyline, Primitive, Rect, Text

FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _num(value: float) -> str:
    """At most two decimals, no trailing zeros, never ``-0``."""
    out = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if out == "-0" else out


def _role(role: str) -> str:
    return f" class={quoteattr(role)}" if role else ""


def _element(item: Primitive) -> str:
    if isinstance(item, Rect):
        stroke = f" stroke={quoteattr(item.stroke)}" if item.stroke else ""
        return (
            f'<rect x="{_num(item.x)}" y="{_num(item.y)}" width="{_num(item.width)}" '
            f'height="{_num(item.height)}" fill={quoteattr(item.fill)}{stroke}{_role(item.role)}/>'
        )
    if isinstance(item, Polyline):
        points = " ".join(f"{_num(x)},{_num(y)}" for x, y in item.points)
        return (
            f'<polyline points="{points}" fill="none" stroke={quoteattr(item.stroke)} '
            f'stroke-width="{_num(item.width)}" stroke-linejoin="round"{_role(item.role)}/>'
        )
    if isinstance(item, Circle):
        return (
            f'<circle cx="{_num(item.cx)}" cy="{_num(item.cy)}" r="{_num(item.r)}" '
            f"fill={quoteattr(item.fill)}{_role(item.role)}/>"
        )
    return _text(item)


def _text(item: Text) -> str:
    attributes = (
        f'x="{_num(item.x)}" y="{_num(item.y)}" font-size="{_num(item.size)}" '
        f"fill={quoteattr(item.fill)}"
    )
    if item.anchor != "start":
        attributes += f' text-anchor="{item.anchor}"'
    if item.bold:
        attributes += ' font-weight="bold"'
    if item.rotate:
        # SVG turns clockwise; the layout's angles are counter-clockwise
        attributes += f' transform="rotate({_num(-item.rotate)} {_num(item.x)} {_num(item.y)})"'
    return f"<text {attributes}{_role(item.role)}>{escape(_clean(item.text))}</text>"


def render_svg(chart: Chart) -> bytes:
    lines = [
        '<svg xmlns="http://www.w3.org/2000/svg" '
        f'width="{chart.width}" height="{chart.height}" '
        f'viewBox="0 0 {chart.width} {chart.height}" font-family="{FONT}">',
        f'<rect width="{chart.width}" height="{chart.height}" fill="#ffffff"/>',
        *(_element(item) for item in chart.items),
        "</svg>",
    ]
    return ("\n".join(lines) + "\n").encode()
