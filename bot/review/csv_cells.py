"""CSV lines that are safe to open in a spreadsheet: the one writer of every CSV Tocsin makes
(``tocsin export``, the review page's export, ``tocsin report --format csv``).

Alert text comes from monitoring tools and people; a title ``=HYPERLINK(…)``, ``+cmd|…`` or
``@SUM(…)`` would be a formula once opened in Excel, LibreOffice or Google Sheets. As OWASP
advises, a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
(or their full-width forms, U+FF1D, U+FF0B, U+FF0D, U+FF20, which some spreadsheets read
the same way) gets a leading single quote and is quoted. Numbers stay numbers: ints and
floats are never touched, and neither is text that is a plain decimal number (``-5``,
``+3.5``, ``-1e3``), so negative figures read back as numbers; ``-2+3`` is not plain and is
neutralised.

Lines are RFC 4180 with ``\\r\\n`` endings, as :func:`csv.writer` writes them, and read back
by :func:`csv.reader` to the cells given (neutralised ones with their quote).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
"""OWASP's list (CSV Injection), and the full-width forms of the first four."""
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_NEEDS_QUOTES = re.compile(r'[",\r\n]')


def formula_like(text: str) -> bool:
    """Whether a spreadsheet could read ``text`` as a formula (and it is not a plain number)."""
    return text[:1] in FORMULA_STARTS and _PLAIN_NUMBER.fullmatch(text) is None


def _field(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        return str(value)  # numbers and booleans, as csv.writer writes them
    if formula_like(value):
        return "\"'" + value.replace('"', '""') + '"'
    if _NEEDS_QUOTES.search(value):
        return '"' + value.replace('"', '""') + '"'
    return value


def csv_row(values: Iterable[Any]) -> str:
    """One CSV line (``\\r\\n`` included) of ``values``; ``None`` is an empty cell."""
    fields = [_field(v) for v in values]
    if fields == [""]:
        return '""\r\n'  # a lone empty cell, told apart from an empty line (as csv.writer)
    return ",".join(fields) + "\r\n"
