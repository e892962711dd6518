"""Transitions of silenced alerts: muted at opening or later, released when the silence ends.

A silenced alert is stored and counted but not shown and not escalated. When its silence
ends (expiry or by hand) and it still fires, it is posted — or its warning updated, if it had
one — and escalation restarts from tier 1, unowned (as when a snooze ends). A resolution
while silenced is recorded as any other; a warning it never had is not posted.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

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
    PostWarning,
    RecordResolution,
    Resolved,
    ResolvedAtSource,
    Snoozed,
    StepDue,
    Transition,
    Unacknowledged,
    UpdateWarning,
)
from escalation.model import Status
from escalation.policy import EscalationPolicy
from escalation.steps import close_approval, restart


def _when(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC"


def open_silenced(
    *, fired_at: datetime, silence_id: int, until: datetime, now: datetime
) -> Transition:
    """A new alert that a silence mutes: kept, not posted, no escalation (SILENCE-1)."""
    state = AlertState(
        status=Status.SILENCED,
        fired_at=fired_at,
        last_seen_at=now,
        escalating=False,
        next_action_at=until,
        silence_id=silence_id,
        silenced_until=until,
    )
    summary = f"fired while silence #{silence_id} is in force (until {_when(until)}); not posted"
    return Transition(state, (), "SILENCE-1", summary)


def silence(
    state: AlertState, *, silence_id: int, until: datetime, actor: str | None
) -> Transition:
    """An open alert a silence now covers: escalation stops, the warning says so."""
    if state.status is Status.RESOLVED:
        raise IllegalTransition("CLOSED-1", "This alert is already resolved.")
    if state.status is Status.SILENCED:
        if state.silenced_until is not None and state.silenced_until >= until:
            raise IllegalTransition(
                "SILENCE-4", f"Already silenced until {_when(state.silenced_until)}."
            )
        longer = replace(state, silence_id=silence_id, silenced_until=until, next_action_at=until)
        summary = f"silence #{silence_id} keeps it muted until {_when(until)}"
        return Transition(longer, (UpdateWarning(),), "SILENCE-3", summary)
    extra: tuple[Effect, ...] = ()
    if state.status is Status.AWAITING_APPROVAL:
        seq = state.approval_seq
        state = close_approval(state)
        extra = (CloseApproval(seq=seq, outcome="withdrawn (silenced)"),)
    muted = replace(
        state,
        status=Status.SILENCED,
        resume_status=None,
        escalating=False,
        snoozed_until=None,
        next_action_at=until,
        silence_id=silence_id,
        silenced_until=until,
    )
    who = f" by <@{actor}>" if actor else ""
    summary = f"silenced{who} (silence #{silence_id}) until {_when(until)}; escalation stops"
    return Transition(muted, (UpdateWarning(), *extra), "SILENCE-2", summary)


def release(state: AlertState, *, policy: EscalationPolicy, now: datetime, why: str) -> Transition:
    """The silence is over and the alert still fires: show it, escalate from tier 1."""
    if state.status is not Status.SILENCED:
        raise IllegalTransition("SILENCE-5", "This alert is not silenced.")
    woke = replace(
        state,
        status=Status.FIRING,
        silence_id=None,
        silenced_until=None,
        acknowledged_by=None,
        acknowledged_at=None,
        owner=None,
        owner_since=None,
        assigned_by=None,
        owner_deadline_at=None,
    )
    woke = restart(woke, policy, now)
    summary = (
        f"silence #{state.silence_id} {why} while the alert still fires; "
        "posted, escalation restarts"
    )
    return Transition(woke, (PostWarning(),), "SILENCE-END", summary)


def on_silenced(
    state: AlertState, event: Event, *, policy: EscalationPolicy, now: datetime
) -> Transition:
    """``transition`` for an alert in the ``silenced`` status."""
    match event:
        case AlertRefired():
            new = replace(state, count=state.count + 1, last_seen_at=now)
            # the warning (if it has one) shows the count; one never posted stays unposted
            return Transition(
                new, (UpdateWarning(),), "REFIRE-1", f"fired again (x{new.count}) while silenced"
            )
        case ResolvedAtSource():
            return _resolved(state, now, actor=None, note=None, root_cause=None)
        case Resolved(actor=actor, note=note, root_cause=root_cause):
            return _resolved(state, now, actor=actor, note=note, root_cause=root_cause)
        case StepDue():
            if state.next_action_at is None or state.next_action_at > now:
                raise IllegalTransition("STEP-EARLY", "Nothing is due for this alert yet.")
            return release(state, policy=policy, now=now, why="ended")
        case (
            Acknowledged()
            | AcknowledgedAtSource()  # the source's acknowledgement of a muted alert: ignored
            | Claimed()
            | Assigned()
            | Unacknowledged()
            | Snoozed()
            | EscalationRequested()
            | EscalationApproved()
            | EscalationDenied()
        ):
            until = _when(state.silenced_until) if state.silenced_until else "its end"
            raise IllegalTransition(
                "SILENCED-1",
                f"This alert is silenced (silence #{state.silence_id}, until {until}); "
                f"end the silence to act on it: `/tocsin unsilence {state.silence_id}`.",
            )


def _resolved(
    state: AlertState, now: datetime, *, actor: str | None, note: str | None, root_cause: str | None
) -> Transition:
    new = replace(
        state,
        status=Status.RESOLVED,
        resolved_by=actor,
        resolved_at=now,
        resolved_by_source=actor is None,
        resolution_note=note,
        root_cause=root_cause,
        next_action_at=None,
        escalating=False,
        silenced_until=None,
    )
    effects = (UpdateWarning(), RecordResolution())
    if actor is None:
        return Transition(new, effects, "RESOLVE-2", "resolved at the source (while silenced)")
    return Transition(
        new, effects, "RESOLVE-1", f"resolved by <@{actor}> ({root_cause}) while silenced"
    )
