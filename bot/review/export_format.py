"""Exported alerts (``storage.review.export`` records) as CSV lines or JSON lines: the one format of
``tocsin export`` and of the review page's CSV export. CSV cells that a spreadsheet would read
as a formula are neutralised (:mod:`bot.review.csv_cells`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.review.csv_cells import csv_row
from storage.review.export import FIELDS

CSV_COLUMNS = (*FIELDS, "time_to_acknowledge_s", "time_to_resolve_s", "timeline")
JSON_COLUMNS = ("labels", "timeline")
"""Columns that hold structures; CSV carries them as JSON text."""


def csv_header() -> str:
    return csv_row(CSV_COLUMNS)


def csv_line(record: Mapping[str, Any]) -> str:
    return csv_row(
        [
            json.dumps(record[c], ensure_ascii=False) if c in JSON_COLUMNS else record[c]
            for c in CSV_COLUMNS
        ]
    )


def jsonl_line(record: Mapping[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False) + "\n"
