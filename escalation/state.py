"""The escalation state machine: pure, total, labelled.

``transition(state, event, now=...)`` returns the next state, the effects to deliver (as data)
and the label of the rule that decided, so the timeline can say *why*. Illegal moves raise
:class:`IllegalTransition` with a message fit to show the person who tried.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import assert_never

from escalation.model import Status


@dataclass(frozen=True, slots=True)
class AlertState:
    status: Status
    fired_at: datetime
    last_seen_at: datetime
    count: int = 1
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    first_acknowledged_at: datetime | None = None
    owner: str | None = None
    owner_since: datetime | None = None
    assigned_by: str | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    resolved_by_source: bool = False
    resolution_note: str | None = None
    root_cause: str | None = None


# --- events ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlertRefired:
    """The source reports the same alert (same fingerprint) firing again."""


@dataclass(frozen=True, slots=True)
class Acknowledged:
    actor: str


@dataclass(frozen=True, slots=True)
class Claimed:
    actor: str


@dataclass(frozen=True, slots=True)
class Assigned:
    actor: str
    assignee: str


@dataclass(frozen=True, slots=True)
class Unacknowledged:
    actor: str


@dataclass(frozen=True, slots=True)
class Resolved:
    actor: str
    note: str
    root_cause: str


@dataclass(frozen=True, slots=True)
class ResolvedAtSource:
    """The monitoring tool says the alert recovered."""


Event = (
    AlertRefired | Acknowledged | Claimed | Assigned | Unacknowledged | Resolved | ResolvedAtSource
)


# --- effects --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PostWarning:
    """Post the warning message for a new alert."""


@dataclass(frozen=True, slots=True)
class UpdateWarning:
    """Redraw the warning message in place from the alert's current state."""


@dataclass(frozen=True, slots=True)
class PostThreadNote:
    """A line in the warning's thread."""

    text: str


@dataclass(frozen=True, slots=True)
class RecordResolution:
    """Keep the resolution record (who, when, note, root cause, durations)."""


Effect = PostWarning | UpdateWarning | PostThreadNote | RecordResolution


@dataclass(frozen=True, slots=True)
class Transition:
    state: AlertState
    effects: tuple[Effect, ...]
    rule: str
    summary: str
    """One concise line for the timeline."""


class IllegalTransition(Exception):
    """The event cannot apply to the alert in its current state."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


def open_alert(*, fired_at: datetime, now: datetime) -> Transition:
    """AlertFired: a new alert starts firing (FIRE-1)."""
    state = AlertState(status=Status.FIRING, fired_at=fired_at, last_seen_at=now)
    return Transition(state, (PostWarning(),), "FIRE-1", "fired")


def transition(state: AlertState, event: Event, *, now: datetime) -> Transition:
    """Apply ``event`` to ``state`` at time ``now``."""
    if state.status is Status.RESOLVED:
        raise IllegalTransition("CLOSED-1", _closed_message(state))
    match event:
        case AlertRefired():
            return _refire(state, now)
        case Acknowledged(actor=actor):
            return _acknowledge(state, actor, now)
        case Claimed(actor=actor):
            return _claim(state, actor, now)
        case Assigned(actor=actor, assignee=assignee):
            return _assign(state, actor, assignee, now)
        case Unacknowledged(actor=actor):
            return _unacknowledge(state, actor)
        case Resolved(actor=actor, note=note, root_cause=root_cause):
            return _resolve(state, actor, note, root_cause, now)
        case ResolvedAtSource():
            return _resolve_at_source(state, now)
        case _:
            assert_never(event)


def _closed_message(state: AlertState) -> str:
    who = "the source" if state.resolved_by_source else f"<@{state.resolved_by}>"
    return f"This alert is already resolved (by {who})."


def _refire(state: AlertState, now: datetime) -> Transition:
    new = replace(state, count=state.count + 1, last_seen_at=now)
    return Transition(new, (UpdateWarning(),), "REFIRE-1", f"fired again (x{new.count})")


def _acknowledge(state: AlertState, actor: str, now: datetime) -> Transition:
    if state.status is Status.ACKNOWLEDGED:
        raise IllegalTransition(
            "ACK-2", f"Already acknowledged by <@{state.acknowledged_by}>; nothing to do."
        )
    new = replace(
        state,
        status=Status.ACKNOWLEDGED,
        acknowledged_by=actor,
        acknowledged_at=now,
        first_acknowledged_at=state.first_acknowledged_at or now,
    )
    return Transition(new, (UpdateWarning(),), "ACK-1", f"acknowledged by <@{actor}>")


def _claim(state: AlertState, actor: str, now: datetime) -> Transition:
    if state.owner == actor:
        raise IllegalTransition("CLAIM-3", "You already own this alert.")
    if state.status is Status.FIRING:
        new = replace(
            state,
            status=Status.ACKNOWLEDGED,
            acknowledged_by=actor,
            acknowledged_at=now,
            first_acknowledged_at=state.first_acknowledged_at or now,
            owner=actor,
            owner_since=now,
            assigned_by=None,
        )
        return Transition(new, (UpdateWarning(),), "CLAIM-1", f"claimed by <@{actor}>")
    previous = state.owner
    new = replace(state, owner=actor, owner_since=now, assigned_by=None)
    summary = f"claimed by <@{actor}>" + (f" (was <@{previous}>)" if previous else "")
    return Transition(new, (UpdateWarning(),), "CLAIM-2", summary)


def _assign(state: AlertState, actor: str, assignee: str, now: datetime) -> Transition:
    if state.owner == assignee:
        raise IllegalTransition("ASSIGN-3", f"<@{assignee}> already owns this alert.")
    summary = f"assigned to <@{assignee}> by <@{actor}>"
    effects = (UpdateWarning(), PostThreadNote(f"<@{assignee}>, you now own this alert."))
    if state.status is Status.FIRING:
        new = replace(
            state,
            status=Status.ACKNOWLEDGED,
            acknowledged_by=actor,
            acknowledged_at=now,
            first_acknowledged_at=state.first_acknowledged_at or now,
            owner=assignee,
            owner_since=now,
            assigned_by=actor,
        )
        return Transition(new, effects, "ASSIGN-1", summary)
    new = replace(state, owner=assignee, owner_since=now, assigned_by=actor)
    return Transition(new, effects, "ASSIGN-2", summary)


def _unacknowledge(state: AlertState, actor: str) -> Transition:
    if state.status is Status.FIRING:
        raise IllegalTransition("UNACK-2", "This alert is not acknowledged.")
    new = replace(
        state,
        status=Status.FIRING,
        acknowledged_by=None,
        acknowledged_at=None,
        owner=None,
        owner_since=None,
        assigned_by=None,
    )
    return Transition(new, (UpdateWarning(),), "UNACK-1", f"unacknowledged by <@{actor}>")


def _resolve(
    state: AlertState, actor: str, note: str, root_cause: str, now: datetime
) -> Transition:
    new = replace(
        state,
        status=Status.RESOLVED,
        resolved_by=actor,
        resolved_at=now,
        resolved_by_source=False,
        resolution_note=note,
        root_cause=root_cause,
    )
    effects = (UpdateWarning(), RecordResolution())
    return Transition(new, effects, "RESOLVE-1", f"resolved by <@{actor}> ({root_cause})")


def _resolve_at_source(state: AlertState, now: datetime) -> Transition:
    new = replace(
        state, status=Status.RESOLVED, resolved_by=None, resolved_at=now, resolved_by_source=True
    )
    effects = (UpdateWarning(), RecordResolution())
    return Transition(new, effects, "RESOLVE-2", "resolved at the source")


def time_to_acknowledge(state: AlertState) -> float | None:
    """Seconds from firing to the first acknowledgement, ``None`` if never acknowledged."""
    if state.first_acknowledged_at is None:
        return None
    return (state.first_acknowledged_at - state.fired_at).total_seconds()


def time_to_resolve(state: AlertState) -> float | None:
    if state.resolved_at is None:
        return None
    return (state.resolved_at - state.fired_at).total_seconds()
