"""A review as a Slack message: a header, the headline figures, compact tables in code blocks
(by team, level, person — on-call load), root causes, noisiest and flapping alerts. Alert
titles are untrusted and escaped; every block is cut to Block Kit's limits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.review.report_format import cell, duration, noun, period_line, plural
from bot.slack.blocks.escape import mrkdwn, plain

SECTION_LIMIT = 3000
ROWS = 12
FIGURES = ("alerts", "pages", "escalations", "mtta_median_s", "mttr_median_s",
           "acked_within_deadline_share")  # fmt: skip
FIGURE_HEADERS = ("alerts", "pages", "esc", "MTTA", "MTTR", "in time")


def _table(title: str, rows: Mapping[str, Mapping[str, Any]], *, person: bool = False) -> str:
    names = list(rows)[:ROWS]
    width = min(max([len(title)] + [len(n) for n in names]), 24)
    if person:
        head = f"{title:<{width}} {'pages':>6} {'night':>6} {'weekend':>8} {'MTTA':>8}"
        lines = [
            f"{n[:width]:<{width}} {rows[n]['pages']:>6} {rows[n]['night_pages']:>6} "
            f"{rows[n]['weekend_pages']:>8} {duration(rows[n]['mtta_median_s']):>8}"
            for n in names
        ]
    else:
        head = f"{title:<{width}} " + " ".join(f"{h:>8}" for h in FIGURE_HEADERS)
        lines = [
            f"{n[:width]:<{width}} " + " ".join(f"{cell(c, rows[n][c]):>8}" for c in FIGURES)
            for n in names
        ]
    more = [f"… and {len(rows) - ROWS} more"] if len(rows) > ROWS else []
    body = mrkdwn("\n".join([head, *lines, *more]), SECTION_LIMIT - 8)
    return f"```{body}```"


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text[:SECTION_LIMIT]))


def report_message(
    data: Mapping[str, Any], *, title: str, names: Mapping[str, str] | None = None
) -> tuple[str, list[Block]]:
    """(fallback text, blocks) for ``Review.as_dict()``. ``names`` maps user ids to names."""
    o = data["overall"]
    headline = (
        f"*{o['alerts']}* {noun(o['alerts'], 'alert')} ({o['open']} open) · "
        f"*{o['pages']}* {noun(o['pages'], 'page')} "
        f"({o['off_hours_pages']} at night or the weekend) · "
        f"*{o['escalations']}* {noun(o['escalations'], 'escalation')}\n"
        f"MTTA *{duration(o['mtta_median_s'])}* (p90 {duration(o['mtta_p90_s'])}) · "
        f"MTTR *{duration(o['mttr_median_s'])}* (p90 {duration(o['mttr_p90_s'])}) · "
        f"acknowledged in time *{cell('share', o['acked_within_deadline_share'])}*\n"
        f"Approvals: {o['approvals_asked']} asked, {o['approvals_approved']} approved, "
        f"{o['approvals_denied']} denied, {o['approvals_timed_out']} timed out"
    )
    blocks: list[Block] = [
        HeaderBlock(text=plain(title, 150)),
        ContextBlock(elements=[MarkdownTextObject(text=mrkdwn(period_line(dict(data)), 300))]),
        _section(headline),
    ]
    if data["overall"]["alerts"]:
        for key, label in (("by_team", "team"), ("by_level", "level")):
            if data[key]:
                blocks.append(_section(_table(label, data[key])))
    people = {
        (names or {}).get(user, user): f for user, f in data["by_person"].items() if f["pages"]
    }
    if people:
        blocks.append(_section("*On-call load*\n" + _table("person", people, person=True)))
    causes = ", ".join(f"{mrkdwn(k, 60)} {v}" for k, v in data["root_causes"].items()) or "—"
    noisy = "\n".join(
        f"• {mrkdwn(n['title'], 150)} — {plural(n['firings'], 'firing')}"
        for n in data["noisiest"][:5]
    )
    flapping = "\n".join(
        f"• {mrkdwn(n['title'], 150)} — opened {n['cycles']} times" for n in data["flapping"][:5]
    )
    blocks.append(DividerBlock())
    blocks.append(_section(f"*Root causes:* {causes}"))
    blocks.append(_section(f"*Noisiest alerts*\n{noisy or '—'}"))
    blocks.append(_section(f"*Flapping alerts*\n{flapping or '—'}"))
    text = (
        f"{plain(title, 150)}: {plural(o['alerts'], 'alert')}, MTTA {duration(o['mtta_median_s'])}"
    )
    return text, blocks
