"""Pure renderers for noise control: silenced warnings, groups, flapping, the silences list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)

from bot.slack import ids
from bot.slack.blocks.escape import cut, mention, mrkdwn
from escalation.model import AlertView, GroupMember, GroupSummary, Status
from escalation.noise.flapping import describe as describe_flapping
from escalation.noise.label_matchers import describe as describe_matchers
from escalation.noise.silence_command import USAGE as SILENCE_USAGE
from escalation.noise.silences import Silence

LISTED_PER_MESSAGE = 20
"""Members per thread message of a group's list: 20 lines of at most 185 characters (a title
is cut to 150) stay within :data:`GROUP_TEXT_LIMIT`, so no member is ever cut off."""
GROUP_TEXT_LIMIT = 3900


def _date(when: datetime) -> str:
    fallback = when.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(when.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def silence_refusal(*, field: str, problem: str) -> str:
    """Why ``/tocsin silence …`` could not be read. The problem keeps its examples and the
    input it quotes in code spans (``=~`` would otherwise strike text through); ``<…>`` in
    the usage is escaped, as Slack wants it."""
    return (
        f":warning: Could not read the silence — *{mrkdwn(field, 80)}*: "
        f"{mrkdwn(problem, 1000)}\n{mrkdwn(SILENCE_USAGE, 1000)}"
    )


def silenced_line(alert: AlertView) -> str:
    until = f" until {_date(alert.silenced_until)}" if alert.silenced_until else ""
    return f":no_bell: *Silenced*{until} (silence #{alert.silence_id}) · escalation stopped"


def noise_lines(alert: AlertView) -> list[str]:
    """Context lines: the group this warning stands for, and flapping."""
    lines = []
    group = alert.group
    if group is not None:
        resolved = len(group.members) - group.open_count
        lines.append(
            f":card_index_dividers: *Group of {len(group.members)} alerts* · "
            f"{group.open_count} open · {resolved} resolved · members listed in the thread; "
            "buttons act on every open member, escalation is the group's"
        )
    if alert.flapping is not None and alert.status is not Status.RESOLVED:
        lines.append(f":repeat_one: *{describe_flapping(alert.flapping)}* · one warning reused")
    return lines


def silence_menu() -> StaticSelectElement:
    return StaticSelectElement(
        placeholder="Silence…",
        action_id=ids.SILENCE,
        options=[Option(value=v, text=f"Silence {t}") for v, t in ids.SNOOZE_CHOICES]
        + [Option(value=ids.SNOOZE_TOMORROW, text="Silence until tomorrow 09:00")],
    )


def silenced_buttons(alert: AlertView) -> ActionsBlock:
    return ActionsBlock(
        block_id=f"{ids.ACTIONS_BLOCK_PREFIX}{alert.id}",
        elements=[
            ButtonElement(
                text="End silence", action_id=ids.END_SILENCE, value=str(alert.silence_id)
            ),
            ButtonElement(
                text="Resolve…", action_id=ids.RESOLVE, value=str(alert.id), style="danger"
            ),
        ],
    )


def group_list_pages(group: GroupSummary) -> list[str]:
    """The thread messages listing a group's members (resolved ones struck through): every
    member, :data:`LISTED_PER_MESSAGE` to a message (each well within Slack's text limit), the
    first with the counts. Later messages carry no counts, so a change shows in the messages
    of the members it concerns (and the first) only."""
    lines = [_member_line(member) for member in group.members]
    pages = [
        lines[at : at + LISTED_PER_MESSAGE] for at in range(0, len(lines), LISTED_PER_MESSAGE)
    ] or [[]]
    head = f"*Alerts in this group* ({group.open_count} of {len(group.members)} open)"
    texts = [cut("\n".join([head, *pages[0]]), GROUP_TEXT_LIMIT)]
    texts.extend(
        cut("\n".join(["*Alerts in this group* (continued)", *page]), GROUP_TEXT_LIMIT)
        for page in pages[1:]
    )
    return texts


def _member_line(member: GroupMember) -> str:
    title = mrkdwn(member.title, 150)
    if member.status is Status.RESOLVED:
        return f"• ~#{member.id} {title}~ resolved"
    return f"• #{member.id} {title} — {member.status.value.replace('_', ' ')}"


def silence_text(silence: Silence) -> str:
    team = f"team *{mrkdwn(silence.team, 80)}*" if silence.team else "*every team*"
    return (
        f"*#{silence.id}* `{mrkdwn(describe_matchers(silence.matchers), 500)}` for {team}, "
        f"{_date(silence.starts_at)} → {_date(silence.effective_end)} · by "
        f"{mention(silence.created_by)}: “{mrkdwn(silence.comment, 500)}”"
    )


def silences_blocks(
    silences: Sequence[Silence], *, now: datetime, muted: Mapping[int, int]
) -> tuple[str, list[dict[str, Any]]]:
    """``/tocsin silences``: each current or scheduled silence with an *End* button."""
    if not silences:
        text = ":bell: No silences in force or scheduled."
        return text, [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]
    blocks: list[Block] = []
    for silence in silences:
        state = "in force" if silence.active_at(now) else "scheduled"
        count = muted.get(silence.id, 0)
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=cut(silence_text(silence), 2900)),
                accessory=ButtonElement(
                    text="End" if state == "in force" else "Cancel",
                    action_id=ids.END_SILENCE,
                    value=str(silence.id),
                ),
            )
        )
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=f"{state} · {count} alert(s) held muted")]
            )
        )
    text = f"{len(silences)} silence(s)"
    return text, [b.to_dict() for b in blocks[:50]]
