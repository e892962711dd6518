"""The review as text, Markdown, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

from escalation.review import Review

COLUMNS = (
    "alerts",
    "acknowledged",
    "resolved",
    "open",
    "mtta_median_s",
    "mtta_p90_s",
    "mttr_median_s",
    "mttr_p90_s",
    "acked_within_deadline_share",
)
HEADERS = (
    "alerts",
    "acked",
    "resolved",
    "open",
    "MTTA p50",
    "MTTA p90",
    "MTTR p50",
    "MTTR p90",
    "acked in time",
)


def _duration(value: Any) -> str:
    if value is None:
        return "—"
    seconds = int(value)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"


def _cell(column: str, value: Any) -> str:
    if column.endswith("_s"):
        return _duration(value)
    if column.endswith("share"):
        return "—" if value is None else f"{value:.0%}"
    return str(value)


def _one_line(text: str, *, markdown: bool) -> str:
    """Names and titles come from alerts: on one line, and never a Markdown table cell
    boundary."""
    flat = " ".join(str(text).split())
    return flat.replace("|", "\\|") if markdown else flat


def _groups(data: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    rows = [("overall", "all", data["overall"])]
    for key in ("by_team", "by_level", "by_category", "by_source", "by_person"):
        for name, figures in data[key].items():
            rows.append((key.removeprefix("by_"), name, figures))
    return rows


def render(review: Review, *, fmt: str, since: datetime, until: datetime) -> str:
    data: dict[str, Any] = review.as_dict()
    period = f"{since:%Y-%m-%d %H:%M} → {until:%Y-%m-%d %H:%M} UTC"
    if fmt == "json":
        return json.dumps(
            {"since": since.isoformat(), "until": until.isoformat(), **data}, indent=2
        )
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(("group", "name", *COLUMNS))
        for group, name, figures in _groups(data):
            writer.writerow((group, name, *(figures[c] for c in COLUMNS)))
        return out.getvalue()
    markdown = fmt == "markdown"
    lines = [f"# Tocsin review {period}" if markdown else f"Tocsin review {period}", ""]
    if markdown:
        lines.append("| group | name | " + " | ".join(HEADERS) + " |")
        lines.append("|---|---|" + "---|" * len(HEADERS))
    else:
        lines.append(f"{'group':<10} {'name':<16} " + " ".join(f"{h:>13}" for h in HEADERS))
    for group, raw_name, figures in _groups(data):
        name = _one_line(raw_name, markdown=markdown)
        cells = [_cell(c, figures[c]) for c in COLUMNS]
        if markdown:
            lines.append(f"| {group} | {name} | " + " | ".join(cells) + " |")
        else:
            lines.append(f"{group:<10} {name[:16]:<16} " + " ".join(f"{c:>13}" for c in cells))
    lines += [
        "",
        "Root causes: " + (", ".join(f"{k} {v}" for k, v in data["root_causes"].items()) or "—"),
    ]
    noisy = (
        ", ".join(
            f"{_one_line(n['title'], markdown=markdown)} (x{n['firings']})"
            for n in data["noisiest"]
        )
        or "—"
    )
    lines.append(f"Noisiest: {noisy}")
    return "\n".join(lines) + "\n"
