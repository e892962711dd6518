"""Pure renderers for pages (DMs), approval requests, reminders and the reason modals."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.slack import ids
from bot.slack.blocks.escape import link as safe_link
from bot.slack.blocks.escape import mention, mrkdwn, plain
from bot.slack.blocks.render import slack_date
from escalation.model import AlertView


def _headline(alert: AlertView) -> str:
    level = alert.level
    return (
        f"{level.emoji} *{mrkdwn(level.name.upper(), 40)}* #{alert.id} {mrkdwn(alert.title, 300)}"
    )


def page_dm(
    alert: AlertView, *, tier: int, rule: str, rotation: str | None, link: str | None
) -> tuple[str, list[dict[str, Any]]]:
    why = f"You are paged for tier {tier + 1} ({rule})"
    if rotation:
        why += f" as on call for *{mrkdwn(rotation, 80)}*"
    where = _where(alert, link)
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(text=f":rotating_light: {_headline(alert)}{_impact(alert)}")
        ),
        ContextBlock(elements=[MarkdownTextObject(text=why + where)]),
        _page_buttons(alert),
    ]
    text = mrkdwn(f"Paged: [{alert.level.name}] {alert.title}", 3000)
    return text, [b.to_dict() for b in blocks]


def _where(alert: AlertView, link: str | None) -> str:
    """Where the warning is: a link to it once it is in the channel, else the channel."""
    shown = safe_link(link, "open the warning") if link else None
    if shown is not None:
        return f" · {shown}"
    return f" · in {mrkdwn(alert.channel, 80)}"


def _impact(alert: AlertView, limit: int = 1000) -> str:
    """What the alert's source says it affects, on a line of its own (nothing if unsaid)."""
    return f"\n*Impact:* {mrkdwn(alert.impact, limit)}" if alert.impact else ""


PAGES_PER_MESSAGE = 20
"""The most alerts one page DM names (two blocks each, within Slack's 50 blocks a message);
more pages due for the same person go out in the next message, a second later."""


@dataclass(frozen=True, slots=True)
class PageLine:
    """One alert of a page DM naming several: the alert and why this person is paged."""

    alert: AlertView
    tier: int
    rule: str
    rotation: str | None
    link: str | None = None
    """The link to the alert's warning, once it is in the channel."""


def page_dms(lines: list[PageLine]) -> tuple[str, list[dict[str, Any]]]:
    """One DM for the pages due for one person at the same moment: each alert with its own
    Acknowledge and Claim, the most urgent first (as given)."""
    if len(lines) == 1:
        one = lines[0]
        return page_dm(
            one.alert, tier=one.tier, rule=one.rule, rotation=one.rotation, link=one.link
        )
    top = min(line.alert.level.number for line in lines)
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f":rotating_light: *You are paged for {len(lines)} alerts*"
            )
        )
    ]
    for line in lines:
        alert = line.alert
        why = f"tier {line.tier + 1} ({mrkdwn(line.rule, 40)})"
        if line.rotation:
            why += f" as on call for *{mrkdwn(line.rotation, 80)}*"
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"{_headline(alert)}{_impact(alert, 300)}\n{why}{_where(alert, line.link)}"
                )
            )
        )
        blocks.append(_page_buttons(alert))
    titles = "; ".join(f"[{line.alert.level.name}] {line.alert.title}" for line in lines)
    text = mrkdwn(f"Paged for {len(lines)} alerts (top level {top}): {titles}", 3000)
    return text, [b.to_dict() for b in blocks]


def _page_buttons(alert: AlertView) -> ActionsBlock:
    return ActionsBlock(
        block_id=f"{ids.ACTIONS_BLOCK_PREFIX}{alert.id}",
        elements=[
            ButtonElement(
                text="Acknowledge", action_id=ids.ACKNOWLEDGE, value=str(alert.id), style="primary"
            ),
            ButtonElement(text="Claim (I own it)", action_id=ids.CLAIM, value=str(alert.id)),
        ],
    )


def approval_request(
    alert: AlertView, *, seq: int, tier: int, reason: str, requested_by: str | None
) -> tuple[str, list[dict[str, Any]]]:
    who = mention(requested_by) if requested_by else "the escalation policy"
    value = f"{alert.id}:{seq}"
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f":raised_hand: {_headline(alert)}")),
        SectionBlock(
            text=MarkdownTextObject(
                text=f"{who} asks to page *tier {tier + 1}*.\n>{mrkdwn(reason, 1000)}"
            )
        ),
        ActionsBlock(
            block_id=f"tocsin.approval.{alert.id}.{seq}",
            elements=[
                ButtonElement(text="Approve", action_id=ids.APPROVE, value=value, style="primary"),
                ButtonElement(text="Deny…", action_id=ids.DENY, value=value, style="danger"),
            ],
        ),
    ]
    text = mrkdwn(f"Approval needed: page tier {tier + 1} for {alert.title}", 3000)
    return text, [b.to_dict() for b in blocks]


_DECIDER = re.compile(r"^(?P<verb>[a-z]+ by )<@(?P<who>[UW][A-Z0-9]{2,20})>(?P<rest>.*)\Z", re.S)


def decision(outcome: str, limit: int) -> str:
    """An approval's outcome as the state machine words it (``approved by <@U…>``, ``denied
    by <@U…>: reason``, ``withdrawn``): the decider — a Slack user id Slack gave us — is a real
    mention; the rest (a reason someone typed) is untrusted text."""
    found = _DECIDER.match(outcome)
    if found is None:
        return mrkdwn(outcome, limit)
    who = mention(found["who"])
    return f"{found['verb']}{who}{mrkdwn(found['rest'], max(limit - len(found['verb'] + who), 0))}"


def approval_closed(
    alert: AlertView, *, tier: int | None, outcome: str
) -> tuple[str, list[dict[str, Any]]]:
    tier_text = f"tier {tier + 1}" if tier is not None else "the next tier"
    line = (
        f":ballot_box_with_check: {_headline(alert)}\n"
        f"Escalation to {tier_text}: *{decision(outcome, 500)}*"
    )
    blocks = [SectionBlock(text=MarkdownTextObject(text=line))]
    return f"Decided: {decision(outcome, 2990)}", [b.to_dict() for b in blocks]


def reminder(alert: AlertView, *, deadline: datetime | None) -> str:
    due = f" Resolve by {slack_date(deadline)}." if deadline else ""
    return f":alarm_clock: Reminder: you have {_headline(alert)} (still {alert.status.value}).{due}"


def reason_modal(
    *, callback_id: str, metadata: str, title: str, label: str, submit: str
) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=callback_id,
        private_metadata=metadata,
        title=PlainTextObject(text=plain(title, 24)),
        submit=PlainTextObject(text=plain(submit, 24)),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            InputBlock(
                block_id=ids.REASON_BLOCK,
                label=PlainTextObject(text=plain(label, 2000)),
                element=PlainTextInputElement(
                    action_id=ids.REASON_ACTION, multiline=True, max_length=1000
                ),
            )
        ],
    )
    return view.to_dict()
