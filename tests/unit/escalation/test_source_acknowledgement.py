"""The source's acknowledgement (PagerDuty ``acknowledge``) next to people's actions."""

from datetime import UTC, datetime, timedelta

import pytest

from escalation.events import (
    Acknowledged,
    AcknowledgedAtSource,
    AlertState,
    Claimed,
    Event,
    PostThreadNote,
    StepDue,
    Unacknowledged,
)
from escalation.model import Status
from escalation.policy import EscalationPolicy, Target, TargetKind, Tier
from escalation.state import IllegalTransition, open_alert, time_to_acknowledge, transition

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
POLICY = EscalationPolicy(
    name="p",
    tiers=(
        Tier((Target(TargetKind.USER, "U0ONE"),), after_seconds=0),
        Tier((Target(TargetKind.USER, "U0TWO"),), after_seconds=600),
    ),
    resolve_within_seconds=3600,
    remind_every_seconds=900,
)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def apply(state: AlertState, event: Event, when: datetime) -> AlertState:
    return transition(state, event, policy=POLICY, now=when).state


def source_acked() -> AlertState:
    fired = open_alert(fired_at=T0, policy=POLICY, now=T0).state
    paged = apply(fired, StepDue(), T0)
    return apply(paged, AcknowledgedAtSource(), minutes(3))


def test_source_acknowledgement_stops_paging_and_counts_as_the_first_acknowledgement() -> None:
    state = source_acked()

    assert state.status is Status.ACKNOWLEDGED
    assert not state.escalating
    assert state.next_action_at == minutes(63)  # the resolve deadline, not tier 2 at 12:10
    assert time_to_acknowledge(state) == 180


def test_no_reminder_is_sent_after_a_source_acknowledgement() -> None:
    result = transition(source_acked(), StepDue(), policy=POLICY, now=minutes(63))

    assert result.rule == "OWNER-LATE-1"
    notes = [e.text for e in result.effects if isinstance(e, PostThreadNote)]
    assert notes == [
        "The source's acknowledgement missed the resolve deadline; escalation resumes."
    ]
    assert result.state.escalating


def test_a_person_may_acknowledge_an_alert_the_source_acknowledged() -> None:
    result = transition(source_acked(), Acknowledged("U0ALICE"), policy=POLICY, now=minutes(5))

    assert result.rule == "ACK-1"
    assert result.state.acknowledged_by == "U0ALICE"
    assert result.state.next_action_at == minutes(20)  # reminders run again for a person


def test_claiming_a_source_acknowledged_alert_records_the_claimer_as_acknowledger() -> None:
    state = apply(source_acked(), Claimed("U0BOB"), minutes(5))

    assert (state.owner, state.acknowledged_by) == ("U0BOB", "U0BOB")


def test_unacknowledging_a_source_acknowledged_alert_restarts_escalation() -> None:
    state = apply(source_acked(), Unacknowledged("U0BOB"), minutes(5))

    assert state.status is Status.FIRING
    assert state.escalating


def test_a_second_source_acknowledgement_is_refused_as_nothing_to_do() -> None:
    with pytest.raises(IllegalTransition) as refused:
        transition(source_acked(), AcknowledgedAtSource(), policy=POLICY, now=minutes(4))

    assert refused.value.rule == "ACK-SRC-2"
