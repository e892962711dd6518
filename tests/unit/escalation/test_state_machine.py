"""The escalation state machine, cell by cell: every event in every status.

Time is always passed in; the datetimes below are fixed and UTC-aware.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from escalation.model import Status
from escalation.state import (
    Acknowledged,
    AlertRefired,
    AlertState,
    Assigned,
    Claimed,
    Effect,
    Event,
    IllegalTransition,
    PostThreadNote,
    PostWarning,
    RecordResolution,
    Resolved,
    ResolvedAtSource,
    Transition,
    Unacknowledged,
    UpdateWarning,
    open_alert,
    time_to_acknowledge,
    time_to_resolve,
    transition,
)

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
T_ACK = T0 + timedelta(minutes=3)
NOW = T0 + timedelta(minutes=10)

ALICE = "U0ALICE"
BOB = "U0BOB"
CAROL = "U0CAROL"
DAVE = "U0DAVE"

# --- the four statuses ----------------------------------------------------------------------

FIRING = AlertState(status=Status.FIRING, fired_at=T0, last_seen_at=T0)
ACKED = replace(
    FIRING,
    status=Status.ACKNOWLEDGED,
    acknowledged_by=ALICE,
    acknowledged_at=T_ACK,
    first_acknowledged_at=T_ACK,
)
OWNED = replace(ACKED, owner=BOB, owner_since=T_ACK, assigned_by=ALICE)
RESOLVED = replace(
    ACKED,
    status=Status.RESOLVED,
    resolved_by=ALICE,
    resolved_at=T_ACK,
    resolution_note="restarted",
    root_cause="capacity",
)
RESOLVED_AT_SOURCE = replace(
    FIRING, status=Status.RESOLVED, resolved_at=T_ACK, resolved_by_source=True
)

STATES: dict[str, AlertState] = {
    "firing": FIRING,
    "acknowledged": ACKED,
    "acknowledged_with_owner": OWNED,
    "resolved": RESOLVED,
    "resolved_at_source": RESOLVED_AT_SOURCE,
}

# --- the table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Legal:
    status: Status
    acknowledged_by: str | None
    owner: str | None
    assigned_by: str | None
    effects: tuple[type[Effect], ...]
    rule: str
    resolved_by: str | None = None


@dataclass(frozen=True)
class Illegal:
    rule: str


@dataclass(frozen=True)
class Cell:
    state: str
    event: Event
    expect: Legal | Illegal

    @property
    def id(self) -> str:
        return f"{self.state}-{type(self.event).__name__}-{self.expect.rule}"


UPDATE = (UpdateWarning,)
ASSIGN_EFFECTS = (UpdateWarning, PostThreadNote)
RESOLVE_EFFECTS = (UpdateWarning, RecordResolution)
ACK = Status.ACKNOWLEDGED

CELLS: list[Cell] = [
    # firing
    Cell("firing", AlertRefired(), Legal(Status.FIRING, None, None, None, UPDATE, "REFIRE-1")),
    Cell("firing", Acknowledged(ALICE), Legal(ACK, ALICE, None, None, UPDATE, "ACK-1")),
    Cell("firing", Claimed(ALICE), Legal(ACK, ALICE, ALICE, None, UPDATE, "CLAIM-1")),
    Cell("firing", Assigned(ALICE, BOB), Legal(ACK, ALICE, BOB, ALICE, ASSIGN_EFFECTS, "ASSIGN-1")),
    Cell("firing", Unacknowledged(ALICE), Illegal("UNACK-2")),
    Cell(
        "firing",
        Resolved(ALICE, "restarted", "capacity"),
        Legal(Status.RESOLVED, None, None, None, RESOLVE_EFFECTS, "RESOLVE-1", ALICE),
    ),
    Cell(
        "firing",
        ResolvedAtSource(),
        Legal(Status.RESOLVED, None, None, None, RESOLVE_EFFECTS, "RESOLVE-2"),
    ),
    # acknowledged by ALICE, nobody owns it
    Cell("acknowledged", AlertRefired(), Legal(ACK, ALICE, None, None, UPDATE, "REFIRE-1")),
    Cell("acknowledged", Acknowledged(BOB), Illegal("ACK-2")),
    Cell("acknowledged", Acknowledged(ALICE), Illegal("ACK-2")),
    Cell("acknowledged", Claimed(BOB), Legal(ACK, ALICE, BOB, None, UPDATE, "CLAIM-2")),
    Cell("acknowledged", Claimed(ALICE), Legal(ACK, ALICE, ALICE, None, UPDATE, "CLAIM-2")),
    Cell(
        "acknowledged",
        Assigned(BOB, CAROL),
        Legal(ACK, ALICE, CAROL, BOB, ASSIGN_EFFECTS, "ASSIGN-2"),
    ),
    Cell(
        "acknowledged",
        Unacknowledged(BOB),
        Legal(Status.FIRING, None, None, None, UPDATE, "UNACK-1"),
    ),
    Cell(
        "acknowledged",
        Resolved(BOB, "restarted", "capacity"),
        Legal(Status.RESOLVED, ALICE, None, None, RESOLVE_EFFECTS, "RESOLVE-1", BOB),
    ),
    Cell(
        "acknowledged",
        ResolvedAtSource(),
        Legal(Status.RESOLVED, ALICE, None, None, RESOLVE_EFFECTS, "RESOLVE-2"),
    ),
    # acknowledged by ALICE, BOB owns it (assigned by ALICE)
    Cell(
        "acknowledged_with_owner",
        AlertRefired(),
        Legal(ACK, ALICE, BOB, ALICE, UPDATE, "REFIRE-1"),
    ),
    Cell("acknowledged_with_owner", Acknowledged(CAROL), Illegal("ACK-2")),
    Cell("acknowledged_with_owner", Claimed(BOB), Illegal("CLAIM-3")),
    Cell(
        "acknowledged_with_owner",
        Claimed(CAROL),
        Legal(ACK, ALICE, CAROL, None, UPDATE, "CLAIM-2"),
    ),
    Cell("acknowledged_with_owner", Assigned(CAROL, BOB), Illegal("ASSIGN-3")),
    Cell(
        "acknowledged_with_owner",
        Assigned(CAROL, DAVE),
        Legal(ACK, ALICE, DAVE, CAROL, ASSIGN_EFFECTS, "ASSIGN-2"),
    ),
    Cell(
        "acknowledged_with_owner",
        Unacknowledged(BOB),
        Legal(Status.FIRING, None, None, None, UPDATE, "UNACK-1"),
    ),
    Cell(
        "acknowledged_with_owner",
        Resolved(BOB, "restarted", "capacity"),
        Legal(Status.RESOLVED, ALICE, BOB, ALICE, RESOLVE_EFFECTS, "RESOLVE-1", BOB),
    ),
    Cell(
        "acknowledged_with_owner",
        ResolvedAtSource(),
        Legal(Status.RESOLVED, ALICE, BOB, ALICE, RESOLVE_EFFECTS, "RESOLVE-2"),
    ),
    # resolved (by a person, and at the source): nothing applies any more
    *(
        Cell(state, event, Illegal("CLOSED-1"))
        for state in ("resolved", "resolved_at_source")
        for event in (
            AlertRefired(),
            Acknowledged(BOB),
            Claimed(BOB),
            Assigned(BOB, CAROL),
            Unacknowledged(BOB),
            Resolved(BOB, "again", "unknown"),
            ResolvedAtSource(),
        )
    ),
]

LEGAL = [c for c in CELLS if isinstance(c.expect, Legal)]
ILLEGAL = [c for c in CELLS if isinstance(c.expect, Illegal)]


def _legal(cell: Cell) -> Legal:
    assert isinstance(cell.expect, Legal)
    return cell.expect


# --- table coverage -------------------------------------------------------------------------


def test_table_covers_every_event_type_in_every_status() -> None:
    event_types = set(typing.get_args(Event))
    assert len(event_types) == 7
    for state_name in STATES:
        covered = {type(c.event) for c in CELLS if c.state == state_name}
        missing = sorted(t.__name__ for t in event_types - covered)
        assert not missing, f"{state_name}: no test for {missing}"


def test_table_covers_every_status() -> None:
    assert {STATES[c.state].status for c in CELLS} == set(Status)


# --- legal cells ----------------------------------------------------------------------------


@pytest.mark.parametrize("cell", LEGAL, ids=lambda c: c.id)
def test_legal_transition_sets_status_people_effects_and_rule(cell: Cell) -> None:
    expect = _legal(cell)

    result = transition(STATES[cell.state], cell.event, now=NOW)

    assert result.state.status is expect.status
    assert result.state.acknowledged_by == expect.acknowledged_by
    assert result.state.owner == expect.owner
    assert result.state.assigned_by == expect.assigned_by
    assert result.state.resolved_by == expect.resolved_by
    assert tuple(type(e) for e in result.effects) == expect.effects
    assert result.rule == expect.rule
    assert result.summary


@pytest.mark.parametrize("cell", LEGAL, ids=lambda c: c.id)
def test_legal_transition_never_mutates_its_input(cell: Cell) -> None:
    state = STATES[cell.state]
    snapshot = dataclasses.astuple(state)

    result = transition(state, cell.event, now=NOW)

    assert dataclasses.astuple(state) == snapshot
    assert result.state is not state


@pytest.mark.parametrize("cell", LEGAL, ids=lambda c: c.id)
def test_legal_transition_keeps_fired_at(cell: Cell) -> None:
    result = transition(STATES[cell.state], cell.event, now=NOW)

    assert result.state.fired_at == T0


# --- illegal cells --------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ILLEGAL, ids=lambda c: c.id)
def test_illegal_transition_raises_with_rule_label_and_message(cell: Cell) -> None:
    state = STATES[cell.state]
    snapshot = dataclasses.astuple(state)

    with pytest.raises(IllegalTransition) as caught:
        transition(state, cell.event, now=NOW)

    assert caught.value.rule == cell.expect.rule
    assert caught.value.message
    assert str(caught.value) == caught.value.message
    assert dataclasses.astuple(state) == snapshot


def test_closed_message_names_the_person_who_resolved() -> None:
    with pytest.raises(IllegalTransition, match=rf"already resolved \(by <@{ALICE}>\)"):
        transition(RESOLVED, Acknowledged(BOB), now=NOW)


def test_closed_message_names_the_source_when_resolved_at_source() -> None:
    with pytest.raises(IllegalTransition, match=r"already resolved \(by the source\)"):
        transition(RESOLVED_AT_SOURCE, Acknowledged(BOB), now=NOW)


def test_acknowledge_when_acknowledged_names_who_acknowledged() -> None:
    with pytest.raises(IllegalTransition, match=f"<@{ALICE}>"):
        transition(ACKED, Acknowledged(BOB), now=NOW)


# --- details of single moves ----------------------------------------------------------------


def test_open_alert_fires_with_post_warning_and_rule_fire_1() -> None:
    result = open_alert(fired_at=T0, now=NOW)

    assert result.state.status is Status.FIRING
    assert result.state.fired_at == T0
    assert result.state.last_seen_at == NOW
    assert result.state.count == 1
    assert result.effects == (PostWarning(),)
    assert result.rule == "FIRE-1"


def test_acknowledge_when_firing_sets_acknowledger_and_time() -> None:
    result = transition(FIRING, Acknowledged(ALICE), now=NOW)

    assert result.state.acknowledged_by == ALICE
    assert result.state.acknowledged_at == NOW
    assert result.state.first_acknowledged_at == NOW
    assert result.state.owner is None


def test_claim_when_firing_acknowledges_and_owns_from_now() -> None:
    result = transition(FIRING, Claimed(ALICE), now=NOW)

    assert result.state.acknowledged_at == NOW
    assert result.state.owner_since == NOW
    assert result.summary == f"claimed by <@{ALICE}>"


def test_claim_from_another_owner_says_who_owned_it_and_clears_assigned_by() -> None:
    result = transition(OWNED, Claimed(CAROL), now=NOW)

    assert result.state.owner_since == NOW
    assert result.state.assigned_by is None
    assert result.state.acknowledged_at == T_ACK
    assert result.summary == f"claimed by <@{CAROL}> (was <@{BOB}>)"


def test_assign_posts_thread_note_to_the_assignee() -> None:
    result = transition(FIRING, Assigned(ALICE, BOB), now=NOW)

    notes = [e for e in result.effects if isinstance(e, PostThreadNote)]
    assert notes == [PostThreadNote(f"<@{BOB}>, you now own this alert.")]
    assert result.state.owner_since == NOW
    assert result.summary == f"assigned to <@{BOB}> by <@{ALICE}>"


def test_unacknowledge_clears_acknowledger_owner_and_assigner_but_not_first_ack() -> None:
    result = transition(OWNED, Unacknowledged(CAROL), now=NOW)

    state = result.state
    assert (state.acknowledged_by, state.acknowledged_at) == (None, None)
    assert (state.owner, state.owner_since, state.assigned_by) == (None, None, None)
    assert state.first_acknowledged_at == T_ACK


def test_resolve_by_person_records_who_when_note_and_root_cause() -> None:
    result = transition(ACKED, Resolved(BOB, "rolled back", "software change"), now=NOW)

    state = result.state
    assert state.resolved_by == BOB
    assert state.resolved_at == NOW
    assert state.resolved_by_source is False
    assert state.resolution_note == "rolled back"
    assert state.root_cause == "software change"
    assert "software change" in result.summary


def test_resolved_at_source_marks_resolved_by_source_and_no_person() -> None:
    result = transition(ACKED, ResolvedAtSource(), now=NOW)

    state = result.state
    assert state.status is Status.RESOLVED
    assert state.resolved_by_source is True
    assert state.resolved_by is None
    assert state.resolved_at == NOW
    assert state.resolution_note is None
    assert state.root_cause is None


def test_refire_counts_and_moves_last_seen() -> None:
    first = transition(FIRING, AlertRefired(), now=T0 + timedelta(minutes=1))
    second = transition(first.state, AlertRefired(), now=T0 + timedelta(minutes=2))

    assert first.state.count == 2
    assert second.state.count == 3
    assert second.state.last_seen_at == T0 + timedelta(minutes=2)
    assert second.state.fired_at == T0
    assert second.summary == "fired again (x3)"


def test_refire_when_acknowledged_keeps_status_and_people() -> None:
    result = transition(OWNED, AlertRefired(), now=NOW)

    assert replace(result.state, count=OWNED.count, last_seen_at=OWNED.last_seen_at) == OWNED


# --- durations ------------------------------------------------------------------------------


def _run(state: AlertState, *steps: tuple[Event, datetime]) -> Transition:
    result = Transition(state, (), "", "")
    for event, when in steps:
        result = transition(result.state, event, now=when)
    return result


def test_time_to_acknowledge_uses_first_acknowledgement_after_unack_and_reack() -> None:
    minute = timedelta(minutes=1)
    result = _run(
        FIRING,
        (Acknowledged(ALICE), T0 + 2 * minute),
        (Unacknowledged(ALICE), T0 + 5 * minute),
        (Acknowledged(BOB), T0 + 30 * minute),
    )

    assert result.state.acknowledged_by == BOB
    assert result.state.acknowledged_at == T0 + 30 * minute
    assert time_to_acknowledge(result.state) == 120.0


@pytest.mark.parametrize("event", [Claimed(ALICE), Assigned(ALICE, BOB)], ids=["claim", "assign"])
def test_time_to_acknowledge_counts_claim_and_assign_as_first_acknowledgement(
    event: Event,
) -> None:
    result = _run(
        FIRING,
        (event, T0 + timedelta(seconds=45)),
        (Unacknowledged(ALICE), T0 + timedelta(minutes=5)),
        (Acknowledged(CAROL), T0 + timedelta(minutes=9)),
    )

    assert time_to_acknowledge(result.state) == 45.0


def test_time_to_acknowledge_is_none_when_never_acknowledged() -> None:
    result = _run(FIRING, (AlertRefired(), NOW), (ResolvedAtSource(), NOW))

    assert time_to_acknowledge(result.state) is None


def test_time_to_resolve_is_seconds_from_firing_to_resolution() -> None:
    result = _run(
        FIRING,
        (Acknowledged(ALICE), T0 + timedelta(minutes=1)),
        (Resolved(ALICE, "fixed", "hardware"), T0 + timedelta(hours=1, seconds=30)),
    )

    assert time_to_resolve(result.state) == 3630.0


def test_time_to_resolve_is_none_while_open() -> None:
    assert time_to_resolve(FIRING) is None
    assert time_to_resolve(OWNED) is None


# --- immutability ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cls",
    [
        AlertState,
        *typing.get_args(Event),
        *typing.get_args(Effect),
        Transition,
    ],
    ids=lambda c: c.__name__,
)
def test_state_events_effects_and_transitions_are_frozen_dataclasses(cls: type) -> None:
    assert dataclasses.is_dataclass(cls)
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    assert params.frozen


def test_assigning_to_a_state_field_raises() -> None:
    field_name = "status"

    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(FIRING, field_name, Status.RESOLVED)

    assert FIRING.status is Status.FIRING
