"""The review as text, Markdown, CSV or JSON (``Review.as_dict()`` in, a string out). CSV cells
that a spreadsheet would read as a formula are neutralised (:mod:`bot.review.csv_cells`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.review.csv_cells import csv_row
from escalation.review.figures import DIMENSIONS

FORMATS = ("text", "markdown", "csv", "json")
COLUMNS = (
    "alerts",
    "acknowledged",
    "resolved",
    "open",
    "pages",
    "escalations",
    "approvals_asked",
    "approvals_approved",
    "approvals_denied",
    "approvals_timed_out",
    "mtta_median_s",
    "mtta_p90_s",
    "mttr_median_s",
    "mttr_p90_s",
    "acked_within_deadline_share",
    "night_pages",
    "weekend_pages",
    "follow_ups",
    "follow_ups_open",
)
HEADERS = (
    "alerts",
    "acked",
    "resolved",
    "open",
    "pages",
    "escal.",
    "appr. asked",
    "approved",
    "denied",
    "timed out",
    "MTTA p50",
    "MTTA p90",
    "MTTR p50",
    "MTTR p90",
    "acked in time",
    "night pages",
    "weekend pages",
    "follow-ups",
    "open follow-ups",
)
SHORT = ("alerts", "pages", "escalations", "mtta_median_s", "mtta_p90_s", "mttr_median_s",
         "mttr_p90_s", "acked_within_deadline_share")  # fmt: skip
SHORT_HEADERS = ("alerts", "pages", "escal.", "MTTA p50", "MTTA p90", "MTTR p50", "MTTR p90",
                 "in time")  # fmt: skip


DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def noun(count: int, word: str) -> str:
    """``word`` as it goes with ``count``: ``alert`` for 1, ``alerts`` otherwise."""
    return word if count == 1 else f"{word}s"


def plural(count: int, word: str) -> str:
    """``1 alert``, ``2 alerts``, ``0 escalations``."""
    return f"{count} {noun(count, word)}"


def day_names(days: Iterable[int]) -> str:
    """Weekday numbers (0 = Monday) as words: ``Saturday and Sunday``."""
    names = [DAY_NAMES[day] for day in sorted(days) if 0 <= day < len(DAY_NAMES)]
    if len(names) < 2:
        return "".join(names) or "none"
    return ", ".join(names[:-1]) + " and " + names[-1]


def duration(value: Any) -> str:
    if value is None:
        return "—"
    seconds = round(float(value))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"
    return f"{seconds // 86400}d{(seconds % 86400) // 3600:02d}h"


def cell(column: str, value: Any) -> str:
    if column.endswith("_s"):
        return duration(value)
    if column.endswith("share"):
        return "—" if value is None else f"{value:.0%}"
    return str(value)


def groups(data: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(dimension, key, figures) rows: overall first, then every breakdown."""
    rows = [("overall", "all", data["overall"])]
    for dimension in DIMENSIONS:
        for name, figures in data[f"by_{dimension}"].items():
            rows.append((dimension, name, figures))
    return rows


def period_line(data: dict[str, Any]) -> str:
    since, until = data["since"][:16].replace("T", " "), data["until"][:16].replace("T", " ")
    return f"{since} → {until} UTC"


def render(data: dict[str, Any], *, fmt: str, names: Mapping[str, str] | None = None) -> str:
    """``data`` is ``Review.as_dict()``; ``names``: people's names by Slack user id (the policy
    file's ``people``), shown in text and Markdown instead of the ids (CSV and JSON keep ids)."""
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        lines = [csv_row(("group", "name", *COLUMNS))]
        for group, name, figures in groups(data):
            lines.append(csv_row((group, name, *(_raw(figures[c]) for c in COLUMNS))))
        return "".join(lines)
    return _document(data, markdown=fmt == "markdown", names=names or {})


def _raw(value: Any) -> Any:
    return "" if value is None else value


def _table(headers: Sequence[str], rows: list[list[str]], *, markdown: bool) -> list[str]:
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        return lines
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    widths[0] = min(widths[0], 32)

    def line(cells: Sequence[str]) -> str:
        first = cells[0][:32].ljust(widths[0])
        return "  ".join([first, *(c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))])

    return [line(headers), *(line(r) for r in rows)]


def _document(data: dict[str, Any], *, markdown: bool, names: Mapping[str, str]) -> str:
    def heading(text: str) -> str:
        return f"## {text}" if markdown else f"{text}\n{'-' * len(text)}"

    overall = data["overall"]
    title = f"Tocsin review {period_line(data)}"
    lines = [f"# {title}" if markdown else title, ""]
    lines.append(
        f"{plural(overall['alerts'], 'alert')} ({overall['open']} open), "
        f"{plural(overall['pages'], 'page')}, {plural(overall['escalations'], 'escalation')}; "
        f"approvals: {overall['approvals_asked']} asked, "
        f"{overall['approvals_approved']} approved, {overall['approvals_denied']} denied, "
        f"{overall['approvals_timed_out']} timed out; follow-ups: {overall['follow_ups']} "
        f"({overall['follow_ups_open']} open)."
    )
    lines.append(
        f"MTTA {duration(overall['mtta_median_s'])} (p90 {duration(overall['mtta_p90_s'])}), "
        f"MTTR {duration(overall['mttr_median_s'])} (p90 {duration(overall['mttr_p90_s'])}), "
        f"acknowledged in time: {cell('share', overall['acked_within_deadline_share'])}."
    )
    for dimension in DIMENSIONS:
        found = data[f"by_{dimension}"]
        if not found:
            continue
        lines += ["", heading(f"By {dimension}")]
        rows = [
            [names.get(name, name) if dimension == "person" else name]
            + [cell(c, f[c]) for c in SHORT]
            for name, f in found.items()
        ]
        lines += _table((dimension, *SHORT_HEADERS), rows, markdown=markdown)
    approvals = [
        [name, *(str(f[c]) for c in COLUMNS[6:10])]
        for name, f in data["by_team"].items()
        if f["approvals_asked"] or f["approvals_approved"] or f["approvals_denied"]
    ]
    if approvals:
        lines += ["", heading("Approvals by team")]
        lines += _table(("team", *HEADERS[6:10]), approvals, markdown=markdown)
    load = [
        [names.get(name, name), str(f["pages"]), str(f["night_pages"]), str(f["weekend_pages"])]
        for name, f in data["by_person"].items()
        if f["pages"]
    ]
    definitions = data["definitions"]
    lines += ["", heading("On-call load (pages per person)")]
    lines.append(
        f"Night is {definitions['night']}, weekend days {day_names(definitions['weekend'])}, "
        "in each team's time zone."
    )
    lines += (
        _table(("person", "pages", "night", "weekend"), load, markdown=markdown)
        if load
        else ["No pages to people."]
    )
    owed = [
        [names.get(name, name), str(f["follow_ups_open"]), str(f["follow_ups"])]
        for name, f in data["by_person"].items()
        if f["follow_ups"]
    ]
    lines += ["", heading("Follow-ups by owner (of the period's alerts)")]
    lines += (
        _table(("owner", "open", "in all"), owed, markdown=markdown) if owed else ["No follow-ups."]
    )
    lines += ["", heading("Root causes")]
    causes = data["root_causes"]
    lines.append(", ".join(f"{k}: {v}" for k, v in causes.items()) if causes else "—")
    lines += ["", heading("Noisiest alerts")]
    lines += [f"- {n['title']} — {plural(n['firings'], 'firing')}" for n in data["noisiest"]] or [
        "—"
    ]
    lines += ["", heading(f"Flapping (opened {definitions['flapping_cycles']}+ times)")]
    lines += [f"- {n['title']} — opened {n['cycles']} times" for n in data["flapping"]] or ["—"]
    return "\n".join(lines) + "\n"
