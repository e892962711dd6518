"""Pure renderers of storm control: the storm summary, the lines listing its alerts in the
summary's thread, and the one page per person that stands for the storm's pages."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.slack import ids
from bot.slack.blocks.escape import cut, mrkdwn
from bot.slack.blocks.render import slack_date
from escalation.model import LevelSpec
from storage.noise.storm_display import Item, Summary

SECTION_MAX = 3000
THREAD_TEXT_MAX = 36_000
"""Characters of lines per thread message: under Slack's 40,000 with room for the rest."""
THREAD_BLOCKS_MAX = 45
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}\Z")


def channel_ref(channel: str) -> str:
    return f"<#{channel}>" if _CHANNEL_ID.match(channel) else mrkdwn(channel, 90)


def _level(levels: Mapping[int, LevelSpec], number: int) -> tuple[str, str]:
    spec = levels.get(number)
    return (spec.emoji, spec.name) if spec else ("", f"level {number}")


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def summary_text(
    channel: str, summary: Summary, *, levels: Mapping[int, LevelSpec], ended: bool
) -> str:
    """The notification fallback: the channel, the total and the level-1 count."""
    state = "ended" if ended else "in progress"
    top = summary.by_level.get(1, 0)
    return (
        f"Alert storm in {mrkdwn(channel, 90)} ({state}): {_count(summary.alerts, 'alert')}, "
        f"{top:,} at level 1"
    )


def summary_blocks(
    channel: str,
    summary: Summary,
    *,
    levels: Mapping[int, LevelSpec],
    started_at: datetime,
    ended_at: datetime | None,
    storm_id: int | None = None,
) -> list[dict[str, Any]]:
    if ended_at is None:
        header = f":rotating_light: Alert storm in {channel} — {_count(summary.alerts, 'alert')}"
        when = (
            f"Since {slack_date(started_at)}. Alerts here are rolled into this message while "
            "the storm lasts; each one is listed in the thread."
        )
    else:
        minutes = max(int((ended_at - started_at).total_seconds() // 60), 0)
        header = f":white_check_mark: Alert storm in {channel} ended — {summary.alerts:,} in all"
        when = (
            f"From {slack_date(started_at)} to {slack_date(ended_at)} (about {minutes} min). "
            "New alerts get their own warning again; all of the storm's are in the thread."
        )
    by_level = " · ".join(
        f"{_level(levels, n)[0]} *{mrkdwn(_level(levels, n)[1], 40)}* {summary.by_level[n]:,}"
        for n in sorted(summary.by_level)
    )
    by_status = " · ".join(
        f"{status} {summary.by_status[status]:,}" for status in sorted(summary.by_status)
    )
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=cut(header, 150), emoji=True)),
        SectionBlock(text=MarkdownTextObject(text=cut(when, SECTION_MAX))),
        SectionBlock(
            fields=[
                MarkdownTextObject(text=cut("*By level*\n" + (by_level or "—"), 2000)),
                MarkdownTextObject(text=cut("*By state*\n" + (by_status or "—"), 2000)),
            ]
        ),
    ]
    if summary.top_names:
        names = "\n".join(f"• {mrkdwn(name, 150)} x{count:,}" for name, count in summary.top_names)
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=cut("*Top alerts*\n" + names, SECTION_MAX)))
        )
    if summary.top_items:
        items = "\n".join(item_line(item, levels) for item in summary.top_items)
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=cut("*Most severe open*\n" + items, SECTION_MAX))
            )
        )
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"{summary.listed:,} of {summary.alerts:,} listed in the thread · "
                    "`/tocsin list` shows open alerts · pages are sent once per person "
                    "for the whole storm"
                )
            ]
        )
    )
    button = acknowledge_all(storm_id, summary)
    if button is not None:
        blocks.append(button)
    return [block.to_dict() for block in blocks]


def acknowledge_all(storm_id: int | None, summary: Summary) -> ActionsBlock | None:
    """One button to acknowledge every firing alert of the storm (stops their escalation)."""
    firing = summary.by_status.get("firing", 0)
    if storm_id is None or not firing:
        return None
    label = f"Acknowledge all {firing:,} firing"
    return ActionsBlock(
        block_id=f"tocsin.storm.{storm_id}",
        elements=[
            ButtonElement(
                text=cut(label, 75),
                action_id=ids.STORM_ACKNOWLEDGE,
                value=str(storm_id),
                style="primary",
            )
        ],
    )


def item_line(item: Item, levels: Mapping[int, LevelSpec]) -> str:
    emoji, name = _level(levels, item.level)
    state = "" if item.status == "firing" else f" _({mrkdwn(item.status, 24)})_"
    return f"{emoji} `#{item.alert_id}` *{mrkdwn(name, 24)}* {mrkdwn(item.title, 120)}{state}"


def thread_message(
    items: Sequence[Item], levels: Mapping[int, LevelSpec], *, first: int
) -> tuple[str, list[dict[str, Any]], int]:
    """One thread message listing as many of ``items`` as fit Slack's limits.

    Returns the fallback text, the blocks and how many items it lists (the rest go in the
    next message). ``first`` is the number of the first item in the storm (1-based).
    """
    sections: list[str] = []
    current: list[str] = []
    size = used = 0
    for item in items:
        line = item_line(item, levels)
        if size + len(line) + 1 > THREAD_TEXT_MAX:
            break
        if sum(len(x) + 1 for x in current) + len(line) + 1 > SECTION_MAX:
            if len(sections) + 2 > THREAD_BLOCKS_MAX:
                break
            sections.append("\n".join(current))
            current = []
        current.append(line)
        size += len(line) + 1
        used += 1
    if current:
        sections.append("\n".join(current))
    text = f"Storm alerts {first:,} to {first + used - 1:,}"
    blocks = [
        ContextBlock(elements=[MarkdownTextObject(text=text)]).to_dict(),
        *(SectionBlock(text=MarkdownTextObject(text=s)).to_dict() for s in sections),
    ]
    return text, blocks, used


def storm_page(
    channel: str,
    summary: Summary,
    *,
    pages: int,
    tier: int,
    rule: str,
    levels: Mapping[int, LevelSpec],
    ended: bool,
    storm_id: int | None = None,
    paged_for: Sequence[Item] = (),
) -> tuple[str, list[dict[str, Any]]]:
    """The one page a person (or a paged channel) gets for a whole storm, naming the alerts
    that paged them since its last new message (``paged_for``, newest last)."""
    top = summary.by_level.get(1, 0)
    _, top_name = _level(levels, 1)
    state = "ended" if ended else "in progress"
    text = (
        f":rotating_light: Storm in {channel_ref(channel)} ({state}): "
        f"{_count(summary.alerts, 'alert')}, {top:,} at level 1"
    )
    detail = (
        f"You are paged once for this storm, not once per alert: {_count(pages, 'page')} of its "
        f"alerts came to you (tier {tier + 1}, `{mrkdwn(rule, 32)}`). Every alert is listed in "
        f"the thread of the storm summary in {channel_ref(channel)}; `/tocsin list` shows the "
        "open ones."
    )
    if paged_for:  # what a phone's notification shows: the newest alert that paged them
        more = f" and {len(paged_for) - 1} more" if len(paged_for) > 1 else ""
        text += f" · paged for {mrkdwn(paged_for[-1].title, 200)}{more}"
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=cut(text, SECTION_MAX)))]
    if paged_for:
        items = "\n".join(item_line(i, levels) for i in reversed(paged_for))
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=cut(f"*Paged for*\n{items}", SECTION_MAX)))
        )
    elif summary.top_items and top:
        items = "\n".join(item_line(i, levels) for i in summary.top_items if i.level == 1)
        if items:
            blocks.append(
                SectionBlock(
                    text=MarkdownTextObject(
                        text=cut(f"*{mrkdwn(top_name, 40)}*\n{items}", SECTION_MAX)
                    )
                )
            )
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=cut(detail, 3000))]))
    button = acknowledge_all(storm_id, summary)
    if button is not None:
        blocks.append(button)
    return cut(text, 3000), [b.to_dict() for b in blocks]
