"""Pure renderers for the record: thread lines, ``/tocsin show``, follow-ups, the note modal.

Timeline lines hold people's own words (reasons, notes) next to the mentions Tocsin wrote
on purpose; :func:`safe_line` keeps the mentions and escapes everything else, so a note can
never ring ``@channel``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.slack import ids
from bot.slack.blocks.escape import cut, mention, mrkdwn, plain
from bot.slack.blocks.render import last_time_line, slack_date
from escalation.model import AlertView
from escalation.outbox_kinds import ThreadLinesPayload
from escalation.record.follow_ups import overdue_days
from escalation.timeline import refires_since
from storage.record.follow_ups import FollowUpItem
from storage.timeline import TimelineEntry

_TOKEN = re.compile(r"<[^<>]*>")
_KEPT = re.compile(
    r"<(@[UW][A-Z0-9]{2,20}|#C[A-Z0-9]{2,20}(\|[^<>|]*)?|!subteam\^S[A-Z0-9]{2,20})>"
)
MAX_SHOW_BLOCKS = 45
THREAD_TEXT_LIMIT = 3900


def safe_line(text: str) -> str:
    """``text`` for mrkdwn: user, channel and user-group mentions kept, the rest escaped."""
    out: list[str] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        out.append(mrkdwn(text[pos : match.start()], 100_000))
        token = match.group(0)
        out.append(token if _KEPT.fullmatch(token) else mrkdwn(token, 100_000))
        pos = match.end()
    out.append(mrkdwn(text[pos:], 100_000))
    return "".join(out)


def _time(at: datetime) -> str:
    return f"<!date^{int(at.timestamp())}^{{time}}|{at:%H:%M} UTC>"


def thread_message(payloads: Sequence[ThreadLinesPayload], *, shown: int, count: int) -> str:
    """One thread reply for the timeline lines pending for an alert (oldest first); repeats
    since the thread last spoke are summed up in one line first."""
    lines: list[str] = []
    repeats = refires_since(shown, count)
    if repeats:
        lines.append(f":repeat: {repeats}")
    for payload in payloads:
        at = datetime.fromisoformat(payload["at"])
        rule = mrkdwn(payload["rule"], 40)
        lines.append(f"{_time(at)} `{rule}` {safe_line(payload['text'])}")
        lines.extend(f"      ↳ {safe_line(note)}" for note in payload["notes"])
    return cut("\n".join(lines), THREAD_TEXT_LIMIT)


def _entry_line(entry: TimelineEntry) -> str:
    when = (
        f"<!date^{int(entry.at.timestamp())}^{{date_short}} {{time}}|{entry.at:%Y-%m-%d %H:%M} UTC>"
    )
    return f"{when} `{mrkdwn(entry.rule, 40)}` {safe_line(entry.summary)}"


def show_blocks(
    alert: AlertView, timeline: Sequence[TimelineEntry]
) -> tuple[str, list[dict[str, Any]]]:
    """``/tocsin show``: the warning in brief and its whole timeline (long ones keep their
    first and latest lines, saying how many were left out)."""
    level = alert.level
    state = alert.status.value.replace("_", " ")
    head = (
        f"{level.emoji} *{mrkdwn(level.name.upper(), 40)}* #{alert.id} "
        f"*{mrkdwn(alert.title, 300)}* — {state}"
    ).strip()
    facts = [f"Team {mrkdwn(alert.team, 80)} · {mrkdwn(alert.channel, 80)}"]
    facts.append(f"fired {slack_date(alert.fired_at)}")
    if alert.count > 1:
        facts.append(f"fired {alert.count} times in all")
    if alert.owner:
        facts.append(f"owner {mention(alert.owner)}")
    if alert.resolved_at:
        who = "the source" if alert.resolved_by_source else mention(alert.resolved_by)
        facts.append(f"resolved by {who} {slack_date(alert.resolved_at)}")
        if alert.root_cause:
            facts.append(f"root cause {mrkdwn(alert.root_cause, 100)}")
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=cut(head, 3000))),
        ContextBlock(elements=[MarkdownTextObject(text=cut(" · ".join(facts), 3000))]),
    ]
    if alert.resolution_note:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text="*What was done*\n" + mrkdwn(alert.resolution_note, 2900)
                )
            )
        )
    last = last_time_line(alert)
    if last:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=cut(last, 3000))]))
    blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*Timeline* ({len(timeline)} lines)")))
    chunks = _chunks([_entry_line(e) for e in timeline], limit=2900)
    room = MAX_SHOW_BLOCKS - len(blocks)
    if len(chunks) > room:
        keep_head, keep_tail = 2, room - 3
        left_out = sum(c.count("\n") + 1 for c in chunks[keep_head : len(chunks) - keep_tail])
        note = f"… {left_out} lines left out; `tocsin export` has them all …"
        chunks = [*chunks[:keep_head], note, *chunks[len(chunks) - keep_tail :]]
    blocks.extend(SectionBlock(text=MarkdownTextObject(text=c)) for c in chunks)
    text = cut(f"#{alert.id} {alert.title} — {state}", 3000)
    return mrkdwn(text, 3000), [b.to_dict() for b in blocks]


def _chunks(lines: Sequence[str], *, limit: int) -> list[str]:
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = cut(line, limit)
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


def _due(item: FollowUpItem, now: datetime) -> str:
    late = overdue_days(item.due_at, now=now)
    due = f"due {slack_date(item.due_at)}"
    if late:
        return f"{due} · *overdue by {late} day{'s' if late > 1 else ''}*"
    return f"{due} · *due now*" if item.due_at <= now else due


def follow_up_reminder(item: FollowUpItem, *, now: datetime) -> tuple[str, list[dict[str, Any]]]:
    """The reminder DM to a follow-up's owner, with a Done button."""
    line = (
        f":memo: *Follow-up #{item.id}* of alert #{item.alert_id} "
        f"{mrkdwn(item.alert_title, 200)}\n>{mrkdwn(item.text, 2000)}\n{_due(item, now)} · "
        f"taken on by {mention(item.created_by)} · `/tocsin show {item.alert_id}`"
    )
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=cut(line, 3000))),
        ActionsBlock(
            block_id=f"tocsin.follow_up.{item.id}",
            elements=[
                ButtonElement(
                    text="Done", action_id=ids.FOLLOW_UP_DONE, value=str(item.id), style="primary"
                )
            ],
        ),
    ]
    text = mrkdwn(f"Follow-up #{item.id} is due: {item.text}", 3000)
    return text, [b.to_dict() for b in blocks]


def follow_up_done(item: FollowUpItem) -> tuple[str, list[dict[str, Any]]]:
    """The reminder once the follow-up is done (no button any more)."""
    who = mention(item.done_by)
    line = (
        f":white_check_mark: *Follow-up #{item.id}* of alert #{item.alert_id} done by {who}"
        f"\n>{mrkdwn(item.text, 2000)}"
    )
    blocks = [SectionBlock(text=MarkdownTextObject(text=cut(line, 3000)))]
    return mrkdwn(f"Follow-up #{item.id} done", 3000), [b.to_dict() for b in blocks]


def follow_ups_text(items: Sequence[FollowUpItem], *, total: int, now: datetime, whose: str) -> str:
    """``/tocsin followups``: open follow-ups, earliest due first."""
    if not items:
        return f":white_check_mark: No open follow-ups{whose}."
    more = f" (first {len(items)})" if total > len(items) else ""
    lines = [f"*{total} open follow-up{'s' if total != 1 else ''}{whose}*{more}"]
    for item in items:
        lines.append(
            f"• #{item.id} {mention(item.owner)} — {mrkdwn(cut(item.text, 200), 400)} "
            f"· {_due(item, now)} · alert #{item.alert_id} {mrkdwn(cut(item.alert_title, 80), 200)}"
        )
    return "\n".join(lines)


def note_modal(alert: AlertView, *, root_causes: Sequence[str]) -> dict[str, Any]:
    """Add note: free text (required) and, optionally, a root cause."""
    blocks: list[Block] = [
        SectionBlock(text=PlainTextObject(text=plain(f"#{alert.id} {alert.title}", 3000))),
        InputBlock(
            block_id=ids.NOTE_BLOCK,
            label=PlainTextObject(text="Note"),
            hint=PlainTextObject(text="Kept in the alert's timeline; the review reads it."),
            element=PlainTextInputElement(
                action_id=ids.NOTE_ACTION, multiline=True, max_length=3000
            ),
        ),
    ]
    if not alert.root_cause:
        blocks.append(
            InputBlock(
                block_id=ids.NOTE_CAUSE_BLOCK,
                label=PlainTextObject(text="Root cause"),
                optional=True,
                element=StaticSelectElement(
                    action_id=ids.NOTE_CAUSE_ACTION,
                    placeholder=PlainTextObject(text="Pick a category"),
                    options=[Option(value=c, text=plain(c, 75)) for c in root_causes[:100]],
                ),
            )
        )
    view = View(
        type="modal",
        callback_id=ids.NOTE_MODAL,
        private_metadata=str(alert.id),
        title=PlainTextObject(text="Add note"),
        submit=PlainTextObject(text="Add"),
        close=PlainTextObject(text="Cancel"),
        blocks=blocks,
    )
    return view.to_dict()
