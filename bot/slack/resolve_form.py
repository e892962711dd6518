"""The resolve modal's answers read and checked: what was done, root cause, and the optional
follow-up (what, owner, due date) and notes. Errors name the input they belong to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot.slack import ids
from bot.slack.acting import USER_ID
from escalation.record.follow_ups import FollowUpError, due_at, parse_due_date
from storage.record.follow_ups import NewFollowUp


@dataclass(frozen=True, slots=True)
class ResolveForm:
    note: str
    root_cause: str
    follow_up: NewFollowUp | None
    notes: str


def input_state(values: Mapping[str, Any], block: str, action: str) -> Mapping[str, Any]:
    """One input's state; ``{}`` when Slack (or a forger) sent something else in its place."""
    inputs = values.get(block)
    found = inputs.get(action) if isinstance(inputs, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def input_text(values: Mapping[str, Any], block: str, action: str) -> str:
    return str(input_state(values, block, action).get("value") or "").strip()


def selected_value(values: Mapping[str, Any], block: str, action: str) -> str:
    """The value of a select's chosen option, or ``""``."""
    option = input_state(values, block, action).get("selected_option")
    return str(option.get("value") or "") if isinstance(option, Mapping) else ""


def read_resolve_form(
    values: Mapping[str, Any],
    *,
    root_causes: Sequence[str],
    timezone: str,
    due_time: str,
    now: datetime,
) -> ResolveForm | dict[str, str]:
    """The form's answers, or ``{block_id: error}`` to show on the modal."""
    errors: dict[str, str] = {}
    note = input_text(values, ids.RESOLVE_NOTE_BLOCK, ids.RESOLVE_NOTE_ACTION)
    cause = selected_value(values, ids.RESOLVE_CAUSE_BLOCK, ids.RESOLVE_CAUSE_ACTION)
    if not note:
        errors[ids.RESOLVE_NOTE_BLOCK] = "Say what was done."
    if cause not in root_causes:
        errors[ids.RESOLVE_CAUSE_BLOCK] = "Pick a root-cause category from the list."
    what = input_text(values, ids.RESOLVE_FOLLOW_UP_BLOCK, ids.RESOLVE_FOLLOW_UP_ACTION)
    owner_field = input_state(
        values, ids.RESOLVE_FOLLOW_UP_OWNER_BLOCK, ids.RESOLVE_FOLLOW_UP_OWNER_ACTION
    )
    owner = str(owner_field.get("selected_user") or "")
    due_field = input_state(
        values, ids.RESOLVE_FOLLOW_UP_DUE_BLOCK, ids.RESOLVE_FOLLOW_UP_DUE_ACTION
    )
    due_text = str(due_field.get("selected_date") or "")
    follow_up = None
    if what or owner or due_text:
        zone = ZoneInfo(timezone)
        if not what:
            errors[ids.RESOLVE_FOLLOW_UP_BLOCK] = (
                "Say what the follow-up is, or clear its owner and date."
            )
        if not USER_ID.match(owner):
            errors[ids.RESOLVE_FOLLOW_UP_OWNER_BLOCK] = "A follow-up needs an owner."
        if not due_text:
            errors[ids.RESOLVE_FOLLOW_UP_DUE_BLOCK] = "A follow-up needs a due date."
        else:
            try:
                day = parse_due_date(due_text, today=now.astimezone(zone).date())
            except FollowUpError as bad:
                errors[ids.RESOLVE_FOLLOW_UP_DUE_BLOCK] = str(bad)
            else:
                hour, minute = (int(x) for x in due_time.split(":"))
                when = due_at(day, at=time(hour, minute), timezone=timezone)
                if not errors:
                    follow_up = NewFollowUp(text=what, owner=owner, due_at=when)
    if errors:
        return errors
    notes = input_text(values, ids.RESOLVE_NOTES_BLOCK, ids.RESOLVE_NOTES_ACTION)
    return ResolveForm(note=note, root_cause=cause, follow_up=follow_up, notes=notes)
