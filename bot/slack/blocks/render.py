"""Pure renderers: an alert's warning message and the resolve modal, as Block Kit dicts.

Everything taken from an alert goes through :mod:`bot.slack.blocks.escape`; slack_sdk's block
classes check the field limits when the blocks are serialised.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DatePickerElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.slack import ids
from bot.slack.blocks.escape import cut, link, mention, mrkdwn, plain
from bot.slack.blocks.render_metric import metric_line, mirror_line
from bot.slack.blocks.render_noise import noise_lines, silence_menu, silenced_buttons, silenced_line
from escalation.model import AlertView, Status

MAX_LABELS = 8


def slack_date(when: datetime) -> str:
    """A date Slack shows in each reader's own time zone (UTC in the fallback)."""
    fallback = when.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(when.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def notification_text(alert: AlertView) -> str:
    """The plain fallback shown in notifications."""
    state = "" if alert.status is Status.FIRING else f" [{alert.status.value}]"
    return mrkdwn(f"[{alert.level.name}]{state} {alert.title}", 3000)


def within(seconds: int) -> str:
    """A policy duration as people say it: ``90 s``, ``5 min``, ``1 h 30 min``, ``2 d``."""
    parts = []
    for unit, name in ((86400, "d"), (3600, "h"), (60, "min"), (1, "s")):
        if seconds >= unit:
            parts.append(f"{seconds // unit} {name}")
            seconds %= unit
    return " ".join(parts) or "0 s"


def _ack_due(alert: AlertView) -> str | None:
    """The level's ``ack_within`` on a warning nobody has acknowledged: how long, and by when
    (counted from when the alert fired, as the review counts it)."""
    seconds = alert.level.ack_within_seconds
    open_states = (Status.FIRING, Status.SNOOZED, Status.AWAITING_APPROVAL)
    if not seconds or alert.acknowledged_at is not None or alert.status not in open_states:
        return None
    by = alert.fired_at + timedelta(seconds=seconds)
    return f":stopwatch: Acknowledge within {within(seconds)} — by {slack_date(by)}"


def _status_line(alert: AlertView) -> str:
    line = _state_line(alert)
    due = _ack_due(alert)
    return f"{line}\n{due}" if due else line


def _state_line(alert: AlertView) -> str:
    if alert.status is Status.SILENCED:
        return silenced_line(alert)
    if alert.status is Status.RESOLVED:
        who = "the source" if alert.resolved_by_source else mention(alert.resolved_by)
        when = slack_date(alert.resolved_at) if alert.resolved_at else ""
        line = f":white_check_mark: *Resolved* by {who} {when}"
        if alert.root_cause:
            line += f" · root cause: *{mrkdwn(alert.root_cause, 100)}*"
        return line
    if alert.status is Status.ACKNOWLEDGED:
        who = mention(alert.acknowledged_by) if alert.acknowledged_by else "the source"
        line = f":eyes: *Acknowledged* by {who}"
        if alert.acknowledged_at:
            line += f" {slack_date(alert.acknowledged_at)}"
        if alert.owner:
            line += f" · owner {mention(alert.owner)}"
            if alert.owner_since:
                line += f" since {slack_date(alert.owner_since)}"
            if alert.assigned_by and alert.assigned_by != alert.owner:
                line += f" (assigned by {mention(alert.assigned_by)})"
        return line
    if alert.status is Status.SNOOZED and alert.snoozed_until:
        return f":zzz: *Snoozed* until {slack_date(alert.snoozed_until)}"
    if alert.status is Status.AWAITING_APPROVAL:
        tier = (alert.approval_tier or 0) + 1
        who = mention(alert.approval_requested_by) if alert.approval_requested_by else "policy"
        return f":raised_hand: *Awaiting approval* to page tier {tier} (asked by {who})"
    return f":rotating_light: *Firing* since {slack_date(alert.fired_at)}"


def _escalation_line(alert: AlertView) -> str | None:
    """Where the escalation stands: the tier paged, and what is due next."""
    if alert.status is Status.RESOLVED or alert.tier_count == 0:
        return None
    parts = []
    if alert.tier >= 0:
        parts.append(f"Tier {alert.tier + 1} of {alert.tier_count} paged")
    when = alert.next_action_at
    if when is not None:
        if alert.status is Status.ACKNOWLEDGED and not alert.escalating:
            if alert.owner_deadline_at:
                parts.append(f"resolve by {slack_date(alert.owner_deadline_at)}")
        elif alert.status is Status.AWAITING_APPROVAL:
            parts.append(f"approval times out {slack_date(when)}")
        elif alert.status is Status.FIRING:
            nxt = alert.tier + 2 if alert.tier + 1 < alert.tier_count else 1
            parts.append(f"tier {nxt} due {slack_date(when)}")
    return " · ".join(parts) if parts else None


def _repeat_line(alert: AlertView) -> str | None:
    if alert.count <= 1:
        return None
    return f"Fired {alert.count} times · last seen {slack_date(alert.last_seen_at)}"


def _meta_line(alert: AlertView) -> str:
    parts = [f"Source: {mrkdwn(alert.source, 80)}", f"Team: {mrkdwn(alert.team, 80)}"]
    if alert.category:
        parts.append(f"Category: {mrkdwn(alert.category, 80)}")
    labels = [f"`{mrkdwn(k, 60)}={mrkdwn(v, 100)}`" for k, v in sorted(alert.labels.items())][
        :MAX_LABELS
    ]
    if labels:
        more = len(alert.labels) - len(labels)
        parts.append(" ".join(labels) + (f" +{more} more" if more > 0 else ""))
    return cut(" · ".join(parts), 3000)


def last_time_line(alert: AlertView) -> str | None:
    """How often the same problem fired lately, and what was done the last time."""
    parts = []
    if alert.recent_firings > 1:
        parts.append(
            f":repeat: *Fired {alert.recent_firings} times* in the last {alert.recent_days} days"
        )
    last = alert.last_resolution
    if last is not None:
        who = "the source" if last.by_source else mention(last.resolved_by)
        line = f"*Last time* ({slack_date(last.resolved_at)}) resolved by {who}"
        if not parts:
            line = ":repeat: " + line
        if last.root_cause:
            line += f" · root cause: {mrkdwn(last.root_cause, 100)}"
        if last.note:
            line += f" · “{mrkdwn(last.note, 500)}”"
        if last.alert_id is not None:
            line += f" · `/tocsin show {last.alert_id}`"
        parts.append(line)
    return " · ".join(parts) if parts else None


def _buttons(alert: AlertView) -> ActionsBlock | None:
    if alert.status is Status.SILENCED:
        return silenced_buttons(alert)
    value = str(alert.id)
    if alert.status is Status.RESOLVED:
        note = ButtonElement(text="Add note…", action_id=ids.ADD_NOTE, value=value)
        return ActionsBlock(block_id=f"{ids.ACTIONS_BLOCK_PREFIX}{alert.id}", elements=[note])
    elements: list[Any] = []
    if alert.status in (Status.FIRING, Status.SNOOZED, Status.AWAITING_APPROVAL):
        elements.append(
            ButtonElement(
                text="Acknowledge", action_id=ids.ACKNOWLEDGE, value=value, style="primary"
            )
        )
    elements.append(ButtonElement(text="Claim (I own it)", action_id=ids.CLAIM, value=value))
    elements.append(UserSelectElement(placeholder="Assign to…", action_id=ids.ASSIGN))
    if alert.status is Status.ACKNOWLEDGED:
        elements.append(
            ButtonElement(text="Unacknowledge", action_id=ids.UNACKNOWLEDGE, value=value)
        )
    if alert.status is not Status.AWAITING_APPROVAL:
        elements.append(
            StaticSelectElement(
                placeholder="Snooze…",
                action_id=ids.SNOOZE,
                options=[Option(value=v, text=t) for v, t in ids.SNOOZE_CHOICES]
                + [Option(value=ids.SNOOZE_TOMORROW, text="Until tomorrow 09:00")],
            )
        )
        if alert.tier_count and alert.tier + 1 < alert.tier_count:
            elements.append(ButtonElement(text="Escalate…", action_id=ids.ESCALATE, value=value))
        elements.append(silence_menu())
    elements.append(
        ButtonElement(text="Resolve…", action_id=ids.RESOLVE, value=value, style="danger")
    )
    return ActionsBlock(block_id=f"{ids.ACTIONS_BLOCK_PREFIX}{alert.id}", elements=elements)


def warning_blocks(alert: AlertView, *, mirror: bool = False) -> list[dict[str, Any]]:
    """The warning; ``mirror``: the copy shown in a channel of a route with ``continue``."""
    level = alert.level
    header = f"{level.emoji} {level.name.upper()}: {alert.title}".strip()
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=plain(header, 150), emoji=True)),
        SectionBlock(text=MarkdownTextObject(text=_status_line(alert))),
    ]
    if alert.description:
        blocks.append(SectionBlock(text=PlainTextObject(text=plain(alert.description, 3000))))
    fields = []
    if alert.impact:
        fields.append(MarkdownTextObject(text="*Impact*\n" + mrkdwn(alert.impact, 1900)))
    if alert.suggested_actions:
        fields.append(
            MarkdownTextObject(text="*Suggested actions*\n" + mrkdwn(alert.suggested_actions, 1900))
        )
    if fields:
        blocks.append(SectionBlock(fields=fields))
    measured = metric_line(alert)
    if measured:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=measured)))
    if alert.status is Status.RESOLVED and alert.resolution_note:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text="*What was done*\n" + mrkdwn(alert.resolution_note, 2900)
                )
            )
        )
    context = [_meta_line(alert), *noise_lines(alert)]
    repeat = _repeat_line(alert)
    if repeat:
        context.append(repeat)
    escalation = _escalation_line(alert)
    if escalation:
        context.append(escalation)
    if mirror:
        context.append(mirror_line(alert))
    links = [x for x in (link(lk.url, lk.title) for lk in alert.links[:5]) if x]
    if links:
        context.append(cut(" · ".join(links), 3000))
    if alert.truncated_alerts > 0:
        n = alert.truncated_alerts
        context.append(
            f":warning: The source truncated {n} alert{'s' if n != 1 else ''} "
            "from its last notification; they are not shown in Tocsin"
        )
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=t) for t in context]))
    last = last_time_line(alert)
    if last:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=cut(last, 3000))]))
    buttons = _buttons(alert)
    if buttons:
        blocks.append(buttons)
    return [block.to_dict() for block in blocks]


def resolve_modal(alert: AlertView, *, root_causes: Sequence[str]) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=ids.RESOLVE_MODAL,
        private_metadata=str(alert.id),
        title=PlainTextObject(text="Resolve alert"),
        submit=PlainTextObject(text="Resolve"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            SectionBlock(text=PlainTextObject(text=plain(f"#{alert.id} {alert.title}", 3000))),
            InputBlock(
                block_id=ids.RESOLVE_NOTE_BLOCK,
                label=PlainTextObject(text="What was done?"),
                element=PlainTextInputElement(
                    action_id=ids.RESOLVE_NOTE_ACTION, multiline=True, max_length=3000
                ),
            ),
            InputBlock(
                block_id=ids.RESOLVE_CAUSE_BLOCK,
                label=PlainTextObject(text="Root cause"),
                element=StaticSelectElement(
                    action_id=ids.RESOLVE_CAUSE_ACTION,
                    placeholder=PlainTextObject(text="Pick a category"),
                    options=[
                        Option(value=cause, text=plain(cause, 75)) for cause in root_causes[:100]
                    ],
                ),
            ),
            *_follow_up_inputs(),
        ],
    )
    return view.to_dict()


def _follow_up_inputs() -> list[Block]:
    """The resolve modal's optional part: a follow-up (what, who, by when) and notes."""
    return [
        InputBlock(
            block_id=ids.RESOLVE_FOLLOW_UP_BLOCK,
            label=PlainTextObject(text="Follow-up needed?"),
            hint=PlainTextObject(text="What still needs doing; give an owner and a due date."),
            optional=True,
            element=PlainTextInputElement(
                action_id=ids.RESOLVE_FOLLOW_UP_ACTION, multiline=True, max_length=1000
            ),
        ),
        InputBlock(
            block_id=ids.RESOLVE_FOLLOW_UP_OWNER_BLOCK,
            label=PlainTextObject(text="Follow-up owner"),
            optional=True,
            element=UserSelectElement(
                action_id=ids.RESOLVE_FOLLOW_UP_OWNER_ACTION, placeholder="Who does it?"
            ),
        ),
        InputBlock(
            block_id=ids.RESOLVE_FOLLOW_UP_DUE_BLOCK,
            label=PlainTextObject(text="Follow-up due"),
            optional=True,
            element=DatePickerElement(
                action_id=ids.RESOLVE_FOLLOW_UP_DUE_ACTION, placeholder="By when?"
            ),
        ),
        InputBlock(
            block_id=ids.RESOLVE_NOTES_BLOCK,
            label=PlainTextObject(text="Notes"),
            optional=True,
            element=PlainTextInputElement(
                action_id=ids.RESOLVE_NOTES_ACTION, multiline=True, max_length=3000
            ),
        ),
    ]
