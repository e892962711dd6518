"""Escalation steps: which tier is paged next and when, approvals, owner deadlines.

Pure helpers for :mod:`escalation.state`; each returns the new state and its effects.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from escalation.events import (
    AlertState,
    Effect,
    Page,
    PostThreadNote,
    Remind,
    RequestApproval,
    UpdateWarning,
    evolve,
)
from escalation.model import Status
from escalation.policy import EscalationPolicy

Step = tuple[AlertState, tuple[Effect, ...], str, str]
"""New state, effects, rule label, timeline summary."""


def _after(seconds: int, now: datetime) -> datetime:
    return now + timedelta(seconds=seconds)


def first_due(policy: EscalationPolicy, now: datetime) -> datetime | None:
    """When tier 0 is due for a chain that starts now."""
    return _after(policy.tiers[0].after_seconds, now) if policy.tiers else None


def due_after_page(
    policy: EscalationPolicy, *, tier: int, cycle: int, now: datetime
) -> datetime | None:
    """When the step after paging ``tier`` in ``cycle`` is due (None: the chain is done)."""
    if tier + 1 < len(policy.tiers):
        return _after(policy.tiers[tier + 1].after_seconds, now)
    if cycle < policy.repeat:
        return _after(max(policy.tiers[0].after_seconds, policy.repeat_after_seconds), now)
    return None


def restart(state: AlertState, policy: EscalationPolicy, now: datetime) -> AlertState:
    """The chain from the beginning: tier 0 after its delay."""
    return evolve(
        state,
        tier=-1,
        cycle=0,
        escalating=True,
        owner_deadline_at=None,
        next_action_at=first_due(policy, now),
    )


def owner_schedule(
    state: AlertState, policy: EscalationPolicy, now: datetime, *, new_owner: bool
) -> AlertState:
    """Someone has it: escalation stops; reminders and the resolve deadline run."""
    deadline = state.owner_deadline_at
    if new_owner or deadline is None:
        seconds = policy.resolve_within_seconds
        deadline = _after(seconds, now) if seconds else None
    reminder = _after(policy.remind_every_seconds, now) if policy.remind_every_seconds else None
    due = min((t for t in (reminder, deadline) if t is not None), default=None)
    return evolve(state, escalating=False, owner_deadline_at=deadline, next_action_at=due)


def advance(state: AlertState, policy: EscalationPolicy, now: datetime, *, rule: str) -> Step:
    """Page the next tier of the chain, or ask for approval when the tier needs it."""
    tier, cycle = state.tier + 1, state.cycle
    if tier >= len(policy.tiers):
        if policy.tiers and cycle < policy.repeat:
            tier, cycle, rule = 0, cycle + 1, "REPEAT-1"
        else:
            done = evolve(state, next_action_at=None)
            text = "every tier has been paged; the escalation chain is done"
            return done, (PostThreadNote(text),), "STEP-END", text
    if policy.tiers[tier].requires_approval and policy.approvers:
        return ask_approval(
            state,
            policy,
            now,
            tier=tier,
            cycle=cycle,
            reason=f"the policy needs approval to page tier {tier + 1}",
            requested_by=None,
        )
    return page(state, policy, now, tier=tier, cycle=cycle, rule=rule)


def page(
    state: AlertState,
    policy: EscalationPolicy,
    now: datetime,
    *,
    tier: int,
    cycle: int,
    rule: str,
) -> Step:
    due = (
        due_after_page(policy, tier=tier, cycle=cycle, now=now)
        if state.escalating
        else state.next_action_at
    )
    paged = evolve(state, tier=tier, cycle=cycle, next_action_at=due)
    targets = policy.tiers[tier].targets
    effect = Page(tier=tier, cycle=cycle, targets=targets, rule=rule)
    who = ", ".join(t.describe() for t in targets) or "nobody (no targets)"
    again = f" (round {cycle + 1})" if cycle else ""
    return paged, (effect, UpdateWarning()), rule, f"paged tier {tier + 1}{again}: {who}"


def ask_approval(
    state: AlertState,
    policy: EscalationPolicy,
    now: datetime,
    *,
    tier: int,
    cycle: int,
    reason: str,
    requested_by: str | None,
) -> Step:
    seq = state.approval_seq + 1
    approvers = _asked(policy, 0)
    waiting = evolve(
        state,
        status=Status.AWAITING_APPROVAL,
        resume_status=state.status,
        cycle=cycle,
        approval_seq=seq,
        approval_tier=tier,
        approval_reason=reason,
        approval_requested_by=requested_by,
        approver_index=0,
        next_action_at=_after(policy.approval_timeout_seconds, now),
    )
    effect = RequestApproval(seq, tier, approvers, reason, requested_by)
    who = f"<@{requested_by}>" if requested_by else "the policy"
    summary = f"approval asked by {who} to page tier {tier + 1}: {reason}"
    return waiting, (effect, UpdateWarning()), "APPROVAL-1", summary


def _asked(policy: EscalationPolicy, index: int) -> tuple[str, ...]:
    """Who is asked: everyone at once, or one at a time with ``next_approver``."""
    if policy.on_timeout.value == "next_approver":
        return policy.approvers[index : index + 1]
    return policy.approvers


def next_approver(state: AlertState, policy: EscalationPolicy, now: datetime) -> Step | None:
    index = state.approver_index + 1
    if index >= len(policy.approvers):
        return None
    asked = evolve(
        state, approver_index=index, next_action_at=_after(policy.approval_timeout_seconds, now)
    )
    tier = state.approval_tier if state.approval_tier is not None else state.tier + 1
    effect = RequestApproval(
        state.approval_seq,
        tier,
        _asked(policy, index),
        state.approval_reason or "",
        state.approval_requested_by,
    )
    summary = f"no answer in time; asking the next approver <@{policy.approvers[index]}>"
    return asked, (effect,), "APPROVAL-TIMEOUT-NEXT", summary


def close_approval(state: AlertState) -> AlertState:
    return evolve(
        state,
        status=state.resume_status or Status.FIRING,
        resume_status=None,
        approval_tier=None,
        approval_reason=None,
        approval_requested_by=None,
        approver_index=0,
    )


def remind(state: AlertState, policy: EscalationPolicy, now: datetime) -> Step:
    who = state.owner or state.acknowledged_by or ""
    next_state = owner_schedule(state, policy, now, new_owner=False)
    effect = Remind(user=who, deadline=state.owner_deadline_at)
    return next_state, (effect,), "REMIND-1", f"reminded <@{who}>"
