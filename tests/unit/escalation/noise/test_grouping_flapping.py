"""Grouping keys, members that never page, the hand-over of a group's escalation, and
flapping detection — pure, with a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from escalation.events import (
    Acknowledged,
    AlertState,
    Assigned,
    Page,
    PostThreadNote,
    Remind,
    ResolvedAtSource,
    StepDue,
    UpdateWarning,
)
from escalation.model import AlertEvent, Flapping, SourceStatus, Status
from escalation.noise.flapping import FlapRule, describe, detect
from escalation.noise.grouping import GroupRule, as_member, group_key, join, take_lead
from escalation.policy import EscalationPolicy, Target, TargetKind, Tier
from escalation.state import open_alert, transition

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
POLICY = EscalationPolicy(
    name="p",
    tiers=(
        Tier((Target(TargetKind.USER, "U0BOB"),), after_seconds=0),
        Tier((Target(TargetKind.USER, "U0DAVE"),), after_seconds=600),
    ),
    resolve_within_seconds=3600,
    remind_every_seconds=900,
)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def event(group: str | None = None, **labels: str) -> AlertEvent:
    return AlertEvent("fp", SourceStatus.FIRING, "t", "am", labels=labels, group_key=group)


def test_group_key_from_the_routes_labels_else_the_sources_key_else_none() -> None:
    by_labels = GroupRule(group_by=("alertname", "env"))
    key = group_key(
        event("g", alertname="Disk", env="prod"), rule=by_labels, team="ops", channel="#a"
    )
    assert key == "ops|#a|labels:alertname=Disk,env=prod"
    assert group_key(event("g"), rule=GroupRule(), team="ops", channel="#a") == "ops|#a|source:g"
    assert group_key(event(None), rule=GroupRule(), team="ops", channel="#a") is None
    assert group_key(event("g"), rule=GroupRule(window_seconds=0), team="ops", channel="#a") is None


def test_a_new_member_has_no_warning_of_its_own_and_no_timer() -> None:
    joined = join(fired_at=T0, now=minutes(1), anchor_id=7)
    assert (joined.rule, joined.effects) == ("GROUP-1", (UpdateWarning(),))
    assert (joined.state.status, joined.state.next_action_at, joined.state.escalating) == (
        Status.FIRING,
        None,
        False,
    )


def test_a_member_acting_with_the_group_never_reminds_nor_posts_thread_lines() -> None:
    member = join(fired_at=T0, now=T0, anchor_id=1).state
    assigned = as_member(transition(member, Assigned("U0A", "U0B"), policy=POLICY, now=minutes(1)))
    assert assigned.state.owner == "U0B"
    assert assigned.effects == (UpdateWarning(),)
    assert (assigned.state.next_action_at, assigned.state.owner_deadline_at) == (None, None)
    assert not any(isinstance(e, PostThreadNote | Remind | Page) for e in assigned.effects)


def lead_paged() -> AlertState:
    opened = open_alert(fired_at=T0, policy=POLICY, now=T0).state
    return transition(
        opened, StepDue(), policy=POLICY, now=T0
    ).state  # tier 1 paged, tier 2 at +10m


def test_an_heir_carries_on_the_escalation_where_the_resolved_lead_left_it() -> None:
    lead = lead_paged()
    heir = join(fired_at=T0, now=T0, anchor_id=1).state
    took = take_lead(heir, lead, policy=POLICY, now=minutes(3), lead_id=1)
    assert took.rule == "GROUP-LEAD-1"
    assert (took.state.tier, took.state.escalating, took.state.next_action_at) == (
        0,
        True,
        minutes(10),
    )
    step = transition(took.state, StepDue(), policy=POLICY, now=minutes(10))
    [page] = [e for e in step.effects if isinstance(e, Page)]
    assert page.tier == 1


def test_an_acknowledged_heir_keeps_the_owner_clock() -> None:
    lead = transition(lead_paged(), Acknowledged("U0A"), policy=POLICY, now=minutes(1)).state
    heir = as_member(
        transition(
            join(fired_at=T0, now=T0, anchor_id=1).state,
            Acknowledged("U0A"),
            policy=POLICY,
            now=minutes(1),
        )
    ).state
    resolved = transition(lead, ResolvedAtSource(), policy=POLICY, now=minutes(2))
    assert resolved.state.status is Status.RESOLVED
    took = take_lead(heir, lead, policy=POLICY, now=minutes(2), lead_id=1)
    assert took.state.owner_deadline_at == lead.owner_deadline_at
    assert took.state.next_action_at == minutes(17)  # the next reminder


@pytest.mark.parametrize(
    ("earlier", "expected"),
    [
        ([], None),
        ([minutes(-5)], None),
        ([minutes(-5), minutes(-10)], Flapping(3, 1800)),
        ([minutes(-5), minutes(-31)], None),  # one of them is outside the window
        ([minutes(-1), minutes(-2), minutes(-3), minutes(-4), minutes(-5)], Flapping(6, 1800)),
    ],
)
def test_flapping_is_n_firings_within_the_window(
    earlier: list[datetime], expected: Flapping | None
) -> None:
    assert detect(earlier, now=T0, rule=FlapRule(3, 1800)) == expected


def test_flapping_off_and_its_description() -> None:
    assert detect([minutes(-1)] * 9, now=T0, rule=None) is None
    assert describe(Flapping(6, 1800)) == "flapping: fired 6 times in 30 min"
    assert describe(Flapping(4, 3 * 3600)) == "flapping: fired 4 times in 3 h"
