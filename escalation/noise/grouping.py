"""Grouping: alerts sharing a group key within a window share one warning and one escalation.

Every member stays its own alert (timeline, resolution, review). The group's first alert is
its *anchor*: its warning is the group's. The *lead* is the member that carries the group's
escalation — the anchor at first, and when the lead resolves while others still fire, the
oldest open member takes over (GROUP-LEAD-1). Other members never page or remind, and a
person's action on the group's warning applies to every open member.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from escalation.events import (
    AlertState,
    CloseApproval,
    Effect,
    PostWarning,
    RecordResolution,
    Transition,
    UpdateWarning,
)
from escalation.model import AlertEvent, Status
from escalation.policy import EscalationPolicy
from escalation.steps import owner_schedule, restart


@dataclass(frozen=True, slots=True)
class GroupRule:
    """A route's grouping: by these labels (or the source's group key when empty), for new
    members arriving within ``window_seconds`` of the group's first alert (0: no grouping)."""

    group_by: tuple[str, ...] = ()
    window_seconds: int = 300


def group_key(event: AlertEvent, *, rule: GroupRule, team: str, channel: str) -> str | None:
    """The key an alert is grouped by, or ``None`` when it is not grouped."""
    if rule.window_seconds <= 0:
        return None
    if rule.group_by:
        values = ",".join(f"{name}={event.labels.get(name, '')}" for name in rule.group_by)
        key = f"labels:{values}"
    elif event.group_key:
        key = f"source:{event.group_key}"
    else:
        return None
    return f"{team}|{channel}|{key}"


def join(*, fired_at: datetime, now: datetime, anchor_id: int) -> Transition:
    """A new alert joins an open group: no warning of its own, no escalation (GROUP-1)."""
    state = AlertState(
        status=Status.FIRING,
        fired_at=fired_at,
        last_seen_at=now,
        escalating=False,
        next_action_at=None,
    )
    summary = f"joined the group of #{anchor_id}: shown on its warning, escalated with it"
    return Transition(state, (UpdateWarning(),), "GROUP-1", summary)


_MEMBER_EFFECTS = (UpdateWarning, PostWarning, RecordResolution, CloseApproval)


def as_member(tr: Transition) -> Transition:
    """A transition of a member that is not the lead: no timers, no pages, no reminders, no
    thread lines of its own (the group's warning is redrawn)."""
    state = tr.state
    if state.status is not Status.SILENCED:
        state = replace(state, escalating=False, next_action_at=None, owner_deadline_at=None)
    effects: tuple[Effect, ...] = tuple(e for e in tr.effects if isinstance(e, _MEMBER_EFFECTS))
    return replace(tr, state=state, effects=effects)


def take_lead(
    member: AlertState, lead: AlertState, *, policy: EscalationPolicy, now: datetime, lead_id: int
) -> Transition:
    """``lead`` resolved while ``member`` still fires: the member carries on the group's
    escalation where the lead left it (GROUP-LEAD-1)."""
    base = replace(member, tier=lead.tier, cycle=lead.cycle)
    if member.status is Status.ACKNOWLEDGED:
        new = owner_schedule(
            replace(base, owner_deadline_at=lead.owner_deadline_at), policy, now, new_owner=False
        )
    elif member.status is Status.SILENCED:
        new = base
    elif lead.next_action_at is not None and lead.escalating:
        new = replace(base, escalating=True, next_action_at=max(lead.next_action_at, now))
    elif lead.tier < 0:
        new = restart(base, policy, now)
    else:
        # the chain was done or held by a denial: keep it so
        new = replace(base, escalating=False, next_action_at=None)
    summary = f"#{lead_id} resolved; this alert now carries the group's escalation"
    return Transition(new, (UpdateWarning(),), "GROUP-LEAD-1", summary)
