"""The review chart: laid out once, written as SVG by hand (well-formed, escaped, gaps where a
median is missing, the same bytes twice) and drawn as PNG by matplotlib when it is installed."""

from __future__ import annotations

import re
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bot.review.charts import review_chart_png, review_chart_svg
from bot.review.charts.layout import MAX_X_LABELS, integer_ticks
from tests.support.imports import hide_package

SVG = "{http://www.w3.org/2000/svg}"
NAMES = {1: "critical", 2: "warning", 3: "info"}
ROOT = Path(__file__).parents[4]


def day(
    n: int, alerts: tuple[int, int, int], *, mtta: float | None = 60.0, mttr: float | None = 600.0
) -> dict[str, object]:
    return {
        "date": f"2026-11-{n:02d}",
        "alerts": {"1": alerts[0], "2": alerts[1], "3": alerts[2]},
        "mtta_median_s": mtta,
        "mttr_median_s": mttr,
    }


def parse(svg: bytes) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output, parsed to check it is well-formed


def of_class(root: ET.Element, tag: str, role: str) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}{tag}") if e.get("class") == role]


def texts(root: ET.Element, role: str) -> list[str]:
    return [e.text or "" for e in of_class(root, "text", role)]


def test_one_bar_per_level_and_day_with_alerts_stacked_in_level_order() -> None:
    days = [day(1, (2, 1, 0)), day(2, (0, 0, 0)), day(3, (1, 3, 4)), day(4, (0, 2, 0))]
    root = parse(review_chart_svg(days, level_names=NAMES))
    assert root.tag == f"{SVG}svg"
    bars = {level: of_class(root, "rect", f"bar-{level}") for level in "123"}
    assert {level: len(found) for level, found in bars.items()} == {"1": 2, "2": 3, "3": 1}
    # day 3: level 2 sits on level 1, level 3 on level 2, heights in proportion 1:3:4
    one, two, three = bars["1"][1], bars["2"][1], bars["3"][0]

    def top(e: ET.Element) -> float:
        return float(e.get("y", "nan"))

    def height(e: ET.Element) -> float:
        return float(e.get("height", "nan"))

    assert top(two) + height(two) == pytest.approx(top(one), abs=0.01)
    assert top(three) + height(three) == pytest.approx(top(two), abs=0.01)
    assert height(two) == pytest.approx(3 * height(one), abs=0.02)
    assert height(three) == pytest.approx(4 * height(one), abs=0.02)
    assert {b.get("fill") for b in bars["1"]} == {"#d93f3f"}
    assert texts(root, "legend-label") == [
        "1 critical", "2 warning", "3 info", "MTTA (median)", "MTTR (median)",
    ]  # fmt: skip
    assert texts(root, "title") == ["Alerts per day by level", "Time to acknowledge and to resolve"]
    assert texts(root, "unit") == ["alerts", "minutes"]


def test_axes_have_integer_ticks_covering_alerts_and_minutes() -> None:
    days = [day(1, (7, 0, 0), mtta=90.0, mttr=23 * 60.0), day(2, (0, 1, 0), mtta=None, mttr=None)]
    root = parse(review_chart_svg(days, level_names=NAMES))
    labels = texts(root, "y-label")
    assert labels == ["0", "2", "4", "6", "8", "0", "5", "10", "15", "20", "25"]
    assert integer_ticks(0) == [0, 1]
    assert integer_ticks(0.4) == [0, 1]
    assert integer_ticks(3) == [0, 1, 2, 3]
    assert integer_ticks(1234) == [0, 500, 1000, 1500]


def test_a_hostile_level_name_is_escaped_and_the_svg_stays_well_formed() -> None:
    hostile = '</text><script>alert("x")</script> & <img src=x onerror=alert(1)>\x07'
    svg = review_chart_svg([day(1, (1, 0, 0))], level_names={**NAMES, 1: hostile})
    assert b"<script" not in svg
    assert b"<img" not in svg
    root = parse(svg)
    assert root.find(f".//{SVG}script") is None
    assert texts(root, "legend-label")[0] == "1 " + hostile.replace("\x07", "\ufffd")


def test_a_day_without_a_median_leaves_a_gap_in_its_line() -> None:
    minutes = [1, 2, None, 3, 4, 5, None, 6]
    days = [
        day(n + 1, (1, 0, 0), mtta=None if m is None else m * 60.0, mttr=300.0)
        for n, m in enumerate(minutes)
    ]
    root = parse(review_chart_svg(days, level_names=NAMES))
    lines = of_class(root, "polyline", "mtta-line")
    # 1-2 | 3-4-5 | 6 alone: a marker, no line
    assert [len(line.get("points", "").split()) for line in lines] == [2, 3]
    assert len(of_class(root, "circle", "mtta-marker")) == 6
    assert len(of_class(root, "polyline", "mttr-line")) == 1  # no gap: one line
    assert len(of_class(root, "rect", "mttr-marker")) == 8


def test_x_labels_are_thinned_to_about_fifteen() -> None:
    few = parse(review_chart_svg([day(n, (0, 0, 0)) for n in range(1, 11)], level_names=NAMES))
    assert texts(few, "x-label") == [f"11-{n:02d}" for n in range(1, 11)]
    many = [day(n % 28 + 1, (0, 0, 0)) for n in range(45)]
    shown = texts(parse(review_chart_svg(many, level_names=NAMES)), "x-label")
    assert len(shown) == MAX_X_LABELS
    assert shown[:2] == ["11-01", "11-04"]  # every third day


def test_the_same_figures_give_the_same_bytes() -> None:
    days = [day(n, (n % 3, 1, n % 2), mtta=n * 37.3, mttr=None if n % 4 else 900.0)
            for n in range(1, 29)]  # fmt: skip
    first = review_chart_svg(days, level_names=NAMES)
    assert review_chart_svg([dict(d) for d in days], level_names=dict(NAMES)) == first
    assert not re.search(rb"\d\.\d{3}|\de-\d", first)  # no float noise (0.30000000004, 1e-05)


def test_an_empty_period_draws_empty_axes() -> None:
    root = parse(review_chart_svg([], level_names=NAMES))
    assert of_class(root, "rect", "bar-1") == []
    assert texts(root, "x-label") == []


def test_png_is_deterministic_900_by_600_and_a_dollar_in_a_name_is_text() -> None:
    pytest.importorskip("matplotlib", reason="the `charts` extra is not installed")
    days = [day(1, (2, 1, 0)), day(2, (0, 0, 1), mtta=None)]
    names = {**NAMES, 1: "crit $x^$"}  # unbalanced mathtext: an error if parsed as TeX
    png = review_chart_png(days, level_names=names)
    assert png is not None
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert struct.unpack(">II", png[16:24]) == (900, 600)
    assert review_chart_png(days, level_names=names) == png


def test_png_without_matplotlib_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    hide_package(monkeypatch, "matplotlib")
    assert review_chart_png([day(1, (1, 0, 0))], level_names=NAMES) is None


def test_the_service_and_the_review_page_do_not_import_matplotlib() -> None:
    code = (
        "import sys, bot.app, bot.review.web, bot.workers.digest\n"
        "from bot.review.charts import review_chart_svg\n"
        "review_chart_svg([], level_names={})\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'numpy'))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)
