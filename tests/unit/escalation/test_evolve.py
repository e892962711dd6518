"""``evolve``: the state machine's fast ``dataclasses.replace`` for the alert's state."""

from __future__ import annotations

import typing
from dataclasses import FrozenInstanceError, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from escalation.events import AlertState, StateChanges, evolve, state_of_values
from escalation.model import Status

T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
STATE = AlertState(
    Status.ACKNOWLEDGED,
    T0,
    T0 + timedelta(minutes=3),
    count=4,
    acknowledged_by="U1",
    acknowledged_at=T0 + timedelta(minutes=1),
    first_acknowledged_at=T0 + timedelta(minutes=1),
    owner="U1",
    owner_since=T0 + timedelta(minutes=1),
    tier=1,
    cycle=1,
    escalating=False,
    next_action_at=T0 + timedelta(hours=1),
    owner_deadline_at=T0 + timedelta(hours=4),
    resume_status=Status.FIRING,
    approval_seq=2,
    approver_index=1,
)
OTHER: dict[type, Any] = {
    Status: Status.SNOOZED,
    datetime: T0 + timedelta(days=1),
    int: 7,
    str: "U9",
    bool: True,
}


def test_the_changes_it_takes_are_the_fields_of_the_state_with_their_types() -> None:
    assert typing.get_type_hints(StateChanges) == typing.get_type_hints(AlertState)


@pytest.mark.parametrize("name", [f.name for f in fields(AlertState)])
def test_changing_any_one_field_gives_what_replace_gives(name: str) -> None:
    kinds = typing.get_args(typing.get_type_hints(AlertState)[name]) or (
        typing.get_type_hints(AlertState)[name],
    )
    for kind in kinds:
        change: Any = {name: None if kind is type(None) else OTHER[kind]}
        changed = evolve(STATE, **change)
        assert changed == replace(STATE, **change)
        assert getattr(changed, name) == change[name]


def test_several_changes_at_once_and_none() -> None:
    changes: StateChanges = {"tier": 2, "cycle": 0, "next_action_at": None, "owner": None}
    assert evolve(STATE, **changes) == replace(STATE, **changes)
    assert evolve(STATE) == STATE
    assert evolve(STATE) is not STATE


def test_a_name_that_is_not_a_field_is_refused_as_replace_refuses_it() -> None:
    with pytest.raises(TypeError):
        evolve(STATE, tiers=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        replace(STATE, tiers=1)  # type: ignore[call-arg]


def test_a_state_built_from_its_values_equals_the_dataclass_built_one() -> None:
    values = [getattr(STATE, f.name) for f in fields(AlertState)]

    built = state_of_values(values)

    assert built == AlertState(*values)
    assert type(built) is AlertState


def test_a_state_built_from_its_values_is_still_frozen() -> None:
    built = state_of_values([getattr(STATE, f.name) for f in fields(AlertState)])

    with pytest.raises(FrozenInstanceError):
        built.count = 9  # type: ignore[misc]


def test_building_a_state_from_too_few_values_is_refused() -> None:
    with pytest.raises(TypeError, match="29 fields, got 28"):
        state_of_values([getattr(STATE, f.name) for f in fields(AlertState)][:-1])
