"""The state machine's vocabulary: the alert's state, the events that move it, the effects
it asks for (as data), and the labelled result of a transition."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, TypedDict, Unpack

from escalation.model import Status
from escalation.policy import Target


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
    # escalation
    tier: int = -1
    """Index of the tier paged last in this cycle; -1 before the first page."""
    cycle: int = 0
    escalating: bool = True
    """Tiers are paged on schedule (firing, or an owner who missed the deadline)."""
    next_action_at: datetime | None = None
    owner_deadline_at: datetime | None = None
    snoozed_until: datetime | None = None
    resume_status: Status | None = None
    """Where a snooze or an approval request returns to."""
    approval_seq: int = 0
    approval_tier: int | None = None
    approval_reason: str | None = None
    approval_requested_by: str | None = None
    approver_index: int = 0
    # silences (see escalation.noise.silencing)
    silence_id: int | None = None
    silenced_until: datetime | None = None


class StateChanges(TypedDict, total=False):
    """Any of :class:`AlertState`'s fields, as keyword arguments of :func:`evolve`."""

    status: Status
    fired_at: datetime
    last_seen_at: datetime
    count: int
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    first_acknowledged_at: datetime | None
    owner: str | None
    owner_since: datetime | None
    assigned_by: str | None
    resolved_by: str | None
    resolved_at: datetime | None
    resolved_by_source: bool
    resolution_note: str | None
    root_cause: str | None
    tier: int
    cycle: int
    escalating: bool
    next_action_at: datetime | None
    owner_deadline_at: datetime | None
    snoozed_until: datetime | None
    resume_status: Status | None
    approval_seq: int
    approval_tier: int | None
    approval_reason: str | None
    approval_requested_by: str | None
    approver_index: int
    silence_id: int | None
    silenced_until: datetime | None


_STATE_FIELDS = tuple(f.name for f in fields(AlertState))
_state_values = operator.attrgetter(*_STATE_FIELDS)
_FIELD_AT = {name: at for at, name in enumerate(_STATE_FIELDS)}


def _state_builder() -> Callable[[Sequence[object]], AlertState]:
    """A function that sets each slot of a new state straight from the values' positions,
    written out field by field (as :mod:`dataclasses` writes ``__init__``): a frozen
    dataclass's ``__init__`` goes through ``object.__setattr__`` for each field, and a loop
    over the fields costs about as much again."""
    setters = {
        f"set_{at}": getattr(AlertState, name).__set__ for at, name in enumerate(_STATE_FIELDS)
    }
    source = "\n".join(
        (
            "def build(values):",
            "    state = new(AlertState)",
            *(f"    {setter}(state, values[{at}])" for at, setter in enumerate(setters)),
            "    return state",
        )
    )
    scope: dict[str, Any] = {"new": object.__new__, "AlertState": AlertState, **setters}
    exec(source, scope)  # noqa: S102 - the source is the fields' names, nothing from outside
    build: Callable[[Sequence[object]], AlertState] = scope["build"]
    return build


_build_state = _state_builder()


def state_of_values(values: Sequence[object]) -> AlertState:
    """``AlertState(*values)`` (every field, in declaration order, as the caller read them
    from a state or a row) in about half the time. Each repeat firing of an open alert
    builds two states (read, then fired again): ~4 µs of its ~70 instead of ~10."""
    if len(values) != len(_STATE_FIELDS):
        raise TypeError(f"AlertState has {len(_STATE_FIELDS)} fields, got {len(values)}")
    return _build_state(values)


def evolve(state: AlertState, /, **changes: Unpack[StateChanges]) -> AlertState:
    """``dataclasses.replace(state, **changes)``, in about a third of the time: every
    escalation step makes a new state, and ``replace`` looks each of the 29 fields up by
    name and goes through ``__init__``."""
    values = list(_state_values(state))
    for name, value in changes.items():
        at = _FIELD_AT.get(name)
        if at is None:
            raise TypeError(f"AlertState has no field {name!r}")
        values[at] = value
    return state_of_values(values)


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
class Snoozed:
    actor: str
    until: datetime


@dataclass(frozen=True, slots=True)
class EscalationRequested:
    actor: str
    reason: str


@dataclass(frozen=True, slots=True)
class EscalationApproved:
    actor: str
    seq: int


@dataclass(frozen=True, slots=True)
class EscalationDenied:
    actor: str
    seq: int
    reason: str


@dataclass(frozen=True, slots=True)
class StepDue:
    """The alert's ``next_action_at`` has come: page, remind, end a snooze, time out."""


@dataclass(frozen=True, slots=True)
class Resolved:
    actor: str
    note: str
    root_cause: str


@dataclass(frozen=True, slots=True)
class ResolvedAtSource:
    """The monitoring tool says the alert recovered."""


@dataclass(frozen=True, slots=True)
class AcknowledgedAtSource:
    """The sending tool says someone took the alert there (a PagerDuty ``acknowledge``).

    The alert is then acknowledged with ``acknowledged_by`` left empty: no person in Slack
    has it, so nobody is reminded, but escalation stops as for a person's acknowledgement
    and resumes if the level's resolve deadline passes.
    """


Event = (
    AlertRefired
    | Acknowledged
    | Claimed
    | Assigned
    | Unacknowledged
    | Snoozed
    | EscalationRequested
    | EscalationApproved
    | EscalationDenied
    | StepDue
    | Resolved
    | ResolvedAtSource
    | AcknowledgedAtSource
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


@dataclass(frozen=True, slots=True)
class Page:
    """Page every target of a tier: DMs to people, a mention in the thread, webhooks."""

    tier: int
    cycle: int
    targets: tuple[Target, ...]
    rule: str


@dataclass(frozen=True, slots=True)
class RequestApproval:
    """Ask approvers (with Approve / Deny) whether ``tier`` may be paged."""

    seq: int
    tier: int
    approvers: tuple[str, ...]
    reason: str
    requested_by: str | None


@dataclass(frozen=True, slots=True)
class CloseApproval:
    """The approval request ``seq`` is decided or withdrawn; update its messages."""

    seq: int
    outcome: str


@dataclass(frozen=True, slots=True)
class Remind:
    """A reminder to the person who owns (or acknowledged) the alert."""

    user: str
    deadline: datetime | None


Effect = (
    PostWarning
    | UpdateWarning
    | PostThreadNote
    | RecordResolution
    | Page
    | RequestApproval
    | CloseApproval
    | Remind
)


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
