"""The escalation state machine: pure, total, labelled.

``transition(state, event, policy=…, now=…)`` returns the next state, the effects to deliver
(as data) and the label of the rule that decided, so the timeline can say *why*. Illegal
moves raise :class:`IllegalTransition` with a message fit to show the person who tried.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import assert_never

from escalation.events import (
    Acknowledged,
    AcknowledgedAtSource,
    AlertRefired,
    AlertState,
    Assigned,
    Claimed,
    CloseApproval,
    Effect,
    EscalationApproved,
    EscalationDenied,
    EscalationRequested,
    Event,
    IllegalTransition,
    Page,
    PostThreadNote,
    PostWarning,
    RecordResolution,
    Remind,
    RequestApproval,
    Resolved,
    ResolvedAtSource,
    Snoozed,
    StepDue,
    Transition,
    Unacknowledged,
    UpdateWarning,
    evolve,
)
from escalation.model import Status
from escalation.noise.silencing import on_silenced
from escalation.policy import EscalationPolicy, OnTimeout
from escalation.steps import (
    advance,
    ask_approval,
    close_approval,
    first_due,
    next_approver,
    owner_schedule,
    page,
    remind,
    restart,
)

__all__ = [
    "Acknowledged",
    "AcknowledgedAtSource",
    "AlertRefired",
    "AlertState",
    "Assigned",
    "Claimed",
    "CloseApproval",
    "Effect",
    "EscalationApproved",
    "EscalationDenied",
    "EscalationRequested",
    "Event",
    "IllegalTransition",
    "Page",
    "PostThreadNote",
    "PostWarning",
    "RecordResolution",
    "Remind",
    "RequestApproval",
    "Resolved",
    "ResolvedAtSource",
    "Snoozed",
    "StepDue",
    "Transition",
    "Unacknowledged",
    "UpdateWarning",
    "open_alert",
    "step_at_once",
    "time_to_acknowledge",
    "time_to_resolve",
    "transition",
]

_OPEN_WITH_SOMEONE = (Status.ACKNOWLEDGED,)


def open_alert(*, fired_at: datetime, policy: EscalationPolicy, now: datetime) -> Transition:
    """AlertFired: a new alert starts firing and its escalation starts (FIRE-1)."""
    state = AlertState(
        status=Status.FIRING,
        fired_at=fired_at,
        last_seen_at=now,
        next_action_at=first_due(policy, now),
    )
    return Transition(state, (PostWarning(),), "FIRE-1", "fired")


def step_at_once(
    state: AlertState, *, policy: EscalationPolicy, now: datetime
) -> Transition | None:
    """The step the escalation engine would take at its next drain, taken as a new alert
    opens, when its first tier has no delay (``next_action_at`` is ``now``): the page —
    without an edit of the warning, which is not posted yet and shows the step's state when
    it is. ``None`` when nothing is due (a later first tier, a group member, a silenced
    alert)."""
    due = state.next_action_at
    if due is None or due > now or state.status in (Status.RESOLVED, Status.SILENCED):
        return None
    try:
        tr = transition(state, StepDue(), policy=policy, now=now)
    except IllegalTransition:
        return None
    return replace(tr, effects=tuple(e for e in tr.effects if not isinstance(e, UpdateWarning)))


def transition(
    state: AlertState, event: Event, *, policy: EscalationPolicy, now: datetime
) -> Transition:
    """Apply ``event`` to ``state`` at time ``now`` under the alert's policy snapshot."""
    if state.status is Status.RESOLVED:
        raise IllegalTransition("CLOSED-1", _closed_message(state))
    if state.status is Status.SILENCED:
        return on_silenced(state, event, policy=policy, now=now)
    match event:
        case AlertRefired():
            new = evolve(state, count=state.count + 1, last_seen_at=now)
            return Transition(new, (UpdateWarning(),), "REFIRE-1", f"fired again (x{new.count})")
        case Acknowledged(actor=actor):
            return _acknowledge(state, policy, actor, now)
        case Claimed(actor=actor):
            return _take(state, policy, now, owner=actor, by=actor, rules=("CLAIM-1", "CLAIM-2"))
        case Assigned(actor=actor, assignee=assignee):
            return _take(
                state, policy, now, owner=assignee, by=actor, rules=("ASSIGN-1", "ASSIGN-2")
            )
        case Unacknowledged(actor=actor):
            return _unacknowledge(state, policy, actor, now)
        case Snoozed(actor=actor, until=until):
            return _snooze(state, actor, until, now)
        case EscalationRequested(actor=actor, reason=reason):
            return _request(state, policy, actor, reason, now)
        case EscalationApproved(actor=actor, seq=seq):
            return _approve(state, policy, actor, seq, now)
        case EscalationDenied(actor=actor, seq=seq, reason=reason):
            return _deny(state, policy, actor, seq, reason, now)
        case StepDue():
            return _step(state, policy, now)
        case Resolved(actor=actor, note=note, root_cause=root_cause):
            return _resolve(state, now, actor=actor, note=note, root_cause=root_cause)
        case ResolvedAtSource():
            return _resolve(state, now, actor=None, note=None, root_cause=None)
        case AcknowledgedAtSource():
            return _acknowledge_at_source(state, policy, now)
        case _:
            assert_never(event)


def _closed_message(state: AlertState) -> str:
    who = "the source" if state.resolved_by_source else f"<@{state.resolved_by}>"
    return f"This alert is already resolved (by {who})."


def _effective_status(state: AlertState) -> Status | None:
    """The status behind a pending approval (where the alert returns to)."""
    if state.status is Status.AWAITING_APPROVAL:
        return state.resume_status
    return state.status


def _withdraw(state: AlertState) -> tuple[AlertState, tuple[Effect, ...]]:
    """A pending approval request is no longer needed (someone acted)."""
    if state.status is not Status.AWAITING_APPROVAL:
        return state, ()
    seq = state.approval_seq
    return close_approval(state), (CloseApproval(seq=seq, outcome="withdrawn"),)


def _acknowledge(
    state: AlertState, policy: EscalationPolicy, actor: str, now: datetime
) -> Transition:
    taken = state.status in _OPEN_WITH_SOMEONE or (
        state.status is Status.AWAITING_APPROVAL and state.resume_status is Status.ACKNOWLEDGED
    )
    if taken and state.acknowledged_by is not None:  # a person, not only the source
        raise IllegalTransition(
            "ACK-2", f"Already acknowledged by <@{state.acknowledged_by}>; nothing to do."
        )
    state, extra = _withdraw(state)
    new = evolve(
        state,
        status=Status.ACKNOWLEDGED,
        acknowledged_by=actor,
        acknowledged_at=now,
        first_acknowledged_at=state.first_acknowledged_at or now,
        snoozed_until=None,
    )
    new = owner_schedule(new, policy, now, new_owner=True)
    return Transition(new, (UpdateWarning(), *extra), "ACK-1", f"acknowledged by <@{actor}>")


def _acknowledge_at_source(
    state: AlertState, policy: EscalationPolicy, now: datetime
) -> Transition:
    """ACK-SRC-1: as a person's acknowledgement, with no one in Slack to remind."""
    if _effective_status(state) is Status.ACKNOWLEDGED:
        raise IllegalTransition("ACK-SRC-2", "Already acknowledged; nothing to do.")
    state, extra = _withdraw(state)
    new = evolve(
        state,
        status=Status.ACKNOWLEDGED,
        acknowledged_by=None,
        acknowledged_at=now,
        first_acknowledged_at=state.first_acknowledged_at or now,
        snoozed_until=None,
    )
    new = owner_schedule(new, policy, now, new_owner=True)
    new = evolve(new, next_action_at=new.owner_deadline_at)  # no reminders: nobody to remind
    return Transition(new, (UpdateWarning(), *extra), "ACK-SRC-1", "acknowledged by the source")


def _take(
    state: AlertState,
    policy: EscalationPolicy,
    now: datetime,
    *,
    owner: str,
    by: str,
    rules: tuple[str, str],
) -> Transition:
    claiming = owner == by
    if state.owner == owner:
        if claiming:
            raise IllegalTransition("CLAIM-3", "You already own this alert.")
        raise IllegalTransition("ASSIGN-3", f"<@{owner}> already owns this alert.")
    was_open = _effective_status(state) is not Status.ACKNOWLEDGED
    previous = state.owner
    state, extra = _withdraw(state)
    new = evolve(
        state,
        status=Status.ACKNOWLEDGED,
        owner=owner,
        owner_since=now,
        assigned_by=None if claiming else by,
        snoozed_until=None,
    )
    if new.acknowledged_by is None or was_open:
        new = evolve(
            new,
            acknowledged_by=by,
            acknowledged_at=now,
            first_acknowledged_at=state.first_acknowledged_at or now,
        )
    new = owner_schedule(new, policy, now, new_owner=True)
    rule = rules[0] if was_open else rules[1]
    if claiming:
        summary = f"claimed by <@{owner}>" + (f" (was <@{previous}>)" if previous else "")
        effects: tuple[Effect, ...] = (UpdateWarning(), *extra)
    else:
        summary = f"assigned to <@{owner}> by <@{by}>"
        note = PostThreadNote(f"<@{owner}>, you now own this alert.")
        effects = (UpdateWarning(), note, *extra)
    return Transition(new, effects, rule, summary)


def _unacknowledge(
    state: AlertState, policy: EscalationPolicy, actor: str, now: datetime
) -> Transition:
    if _effective_status(state) is not Status.ACKNOWLEDGED:
        raise IllegalTransition("UNACK-2", "This alert is not acknowledged.")
    state, extra = _withdraw(state)
    new = evolve(
        state,
        status=Status.FIRING,
        acknowledged_by=None,
        acknowledged_at=None,
        owner=None,
        owner_since=None,
        assigned_by=None,
    )
    new = restart(new, policy, now)
    summary = f"unacknowledged by <@{actor}>; escalation restarts"
    return Transition(new, (UpdateWarning(), *extra), "UNACK-1", summary)


def _snooze(state: AlertState, actor: str, until: datetime, now: datetime) -> Transition:
    if state.status is Status.AWAITING_APPROVAL:
        raise IllegalTransition("SNOOZE-2", "An approval is pending; decide it first.")
    if until <= now:
        raise IllegalTransition("SNOOZE-3", "Pick a snooze end in the future.")
    new = evolve(
        state,
        status=Status.SNOOZED,
        resume_status=None,
        snoozed_until=until,
        next_action_at=until,
        escalating=False,
    )
    summary = f"snoozed by <@{actor}> until {until:%Y-%m-%d %H:%M} UTC"
    return Transition(new, (UpdateWarning(),), "SNOOZE-1", summary)


def _request(
    state: AlertState, policy: EscalationPolicy, actor: str, reason: str, now: datetime
) -> Transition:
    if state.status is Status.AWAITING_APPROVAL:
        raise IllegalTransition("ESC-3", "An escalation is already waiting for approval.")
    tier = state.tier + 1
    if tier >= len(policy.tiers):
        raise IllegalTransition("ESC-4", "There is no higher tier to escalate to.")
    if state.status is Status.SNOOZED:
        base = evolve(state, status=Status.FIRING, escalating=True)
    else:
        base = state
    base = evolve(base, snoozed_until=None)
    if not policy.approvers:
        new, effects, _, summary = page(
            base, policy, now, tier=tier, cycle=state.cycle, rule="ESC-2"
        )
        summary = f"escalated by <@{actor}> ({reason}); no approvers: {summary}"
        return Transition(new, effects, "ESC-2", summary)
    new, effects, _, summary = ask_approval(
        base, policy, now, tier=tier, cycle=state.cycle, reason=reason, requested_by=actor
    )
    return Transition(new, effects, "ESC-1", summary)


def _pending(state: AlertState, seq: int) -> None:
    if state.status is not Status.AWAITING_APPROVAL or seq != state.approval_seq:
        raise IllegalTransition("APPROVAL-STALE", "This approval request is no longer open.")


def _approve(
    state: AlertState, policy: EscalationPolicy, actor: str, seq: int, now: datetime
) -> Transition:
    _pending(state, seq)
    return _page_approved(state, policy, now, rule="APPROVE-1", who=f"<@{actor}>")


def _page_approved(
    state: AlertState, policy: EscalationPolicy, now: datetime, *, rule: str, who: str
) -> Transition:
    tier = state.approval_tier if state.approval_tier is not None else state.tier + 1
    seq = state.approval_seq
    resumed = close_approval(state)
    if resumed.status is Status.ACKNOWLEDGED and not state.escalating:
        paged, effects, _, summary = page(
            resumed, policy, now, tier=tier, cycle=state.cycle, rule=rule
        )
        paged = owner_schedule(paged, policy, now, new_owner=False)
    else:
        resumed = evolve(resumed, escalating=True)
        paged, effects, _, summary = page(
            resumed, policy, now, tier=tier, cycle=state.cycle, rule=rule
        )
    closed = CloseApproval(seq=seq, outcome=f"approved by {who}")
    return Transition(paged, (*effects, closed), rule, f"approved by {who}; {summary}")


def _deny(
    state: AlertState,
    policy: EscalationPolicy,
    actor: str,
    seq: int,
    reason: str,
    now: datetime,
) -> Transition:
    _pending(state, seq)
    return _hold(state, policy, now, rule="DENY-1", who=f"<@{actor}>", reason=reason)


def _hold(
    state: AlertState,
    policy: EscalationPolicy,
    now: datetime,
    *,
    rule: str,
    who: str,
    reason: str,
) -> Transition:
    """Denied: the current tier keeps the alert; no further automatic pages."""
    seq = state.approval_seq
    held = close_approval(state)
    if held.status is Status.ACKNOWLEDGED and not state.escalating:
        held = owner_schedule(held, policy, now, new_owner=False)
    else:
        held = evolve(held, escalating=False, next_action_at=None)
    tier = max(state.tier, 0) + 1 if state.tier >= 0 else 1
    summary = f"denied by {who}: {reason}; tier {tier} keeps the alert"
    effects = (UpdateWarning(), CloseApproval(seq=seq, outcome=f"denied by {who}: {reason}"))
    return Transition(held, effects, rule, summary)


def _step(state: AlertState, policy: EscalationPolicy, now: datetime) -> Transition:
    if state.next_action_at is None or state.next_action_at > now:
        raise IllegalTransition("STEP-EARLY", "Nothing is due for this alert yet.")
    if state.status is Status.SNOOZED:
        # back to firing and unowned, as after Unacknowledge: someone must take it again
        woke = evolve(
            state,
            status=Status.FIRING,
            snoozed_until=None,
            escalating=True,
            tier=max(state.tier, 0) - 1,
            acknowledged_by=None,
            acknowledged_at=None,
            owner=None,
            owner_since=None,
            assigned_by=None,
            owner_deadline_at=None,
        )
        new, effects, _, summary = advance(woke, policy, now, rule="SNOOZE-END")
        return Transition(new, effects, "SNOOZE-END", f"snooze ended; {summary}")
    if state.status is Status.AWAITING_APPROVAL:
        return _approval_timeout(state, policy, now)
    if state.status is Status.ACKNOWLEDGED and not state.escalating:
        deadline = state.owner_deadline_at
        if deadline is not None and now >= deadline:
            late = evolve(state, escalating=True)
            new, effects, _, summary = advance(late, policy, now, rule="OWNER-LATE-1")
            who = state.owner or state.acknowledged_by
            late_one = f"<@{who}>" if who else "The source's acknowledgement"
            note = PostThreadNote(f"{late_one} missed the resolve deadline; escalation resumes.")
            return Transition(new, (note, *effects), "OWNER-LATE-1", f"deadline missed; {summary}")
        new, effects, rule, summary = remind(state, policy, now)
        return Transition(new, effects, rule, summary)
    new, effects, rule, summary = advance(state, policy, now, rule="STEP-1")
    return Transition(new, effects, rule, summary)


def _approval_timeout(state: AlertState, policy: EscalationPolicy, now: datetime) -> Transition:
    if policy.on_timeout is OnTimeout.APPROVE:
        return _page_approved(state, policy, now, rule="APPROVAL-TIMEOUT-APPROVE", who="timeout")
    if policy.on_timeout is OnTimeout.NEXT_APPROVER:
        asked = next_approver(state, policy, now)
        if asked is not None:
            new, effects, rule, summary = asked
            return Transition(new, effects, rule, summary)
    return _hold(
        state,
        policy,
        now,
        rule="APPROVAL-TIMEOUT-DENY",
        who="timeout",
        reason="no approver answered in time",
    )


def _resolve(
    state: AlertState,
    now: datetime,
    *,
    actor: str | None,
    note: str | None,
    root_cause: str | None,
) -> Transition:
    state, extra = _withdraw(state)
    new = evolve(
        state,
        status=Status.RESOLVED,
        resolved_by=actor,
        resolved_at=now,
        resolved_by_source=actor is None,
        resolution_note=note if actor else state.resolution_note,
        root_cause=root_cause if actor else state.root_cause,
        next_action_at=None,
        snoozed_until=None,
        escalating=False,
    )
    effects = (UpdateWarning(), RecordResolution(), *extra)
    if actor is None:
        return Transition(new, effects, "RESOLVE-2", "resolved at the source")
    return Transition(new, effects, "RESOLVE-1", f"resolved by <@{actor}> ({root_cause})")


def time_to_acknowledge(state: AlertState) -> float | None:
    """Seconds from firing to the first acknowledgement, ``None`` if never acknowledged."""
    if state.first_acknowledged_at is None:
        return None
    return (state.first_acknowledged_at - state.fired_at).total_seconds()


def time_to_resolve(state: AlertState) -> float | None:
    if state.resolved_at is None:
        return None
    return (state.resolved_at - state.fired_at).total_seconds()
