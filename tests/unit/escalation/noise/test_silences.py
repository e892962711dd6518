"""Silences as pure rules: what they mute and when, the lifecycle of a silenced alert with
a fake clock, and who may manage them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from escalation.events import (
    Acknowledged,
    AlertRefired,
    CloseApproval,
    EscalationRequested,
    IllegalTransition,
    Page,
    PostWarning,
    StepDue,
    UpdateWarning,
)
from escalation.model import Status
from escalation.noise.label_matchers import Matcher, Op, parse_matchers
from escalation.noise.silence_access import Person, Refused, may_manage, team_for_new_silence
from escalation.noise.silences import Silence, alert_values, matchers_for_alert, muting
from escalation.noise.silencing import open_silenced, release, silence
from escalation.policy import EscalationPolicy, Target, TargetKind, Tier
from escalation.state import open_alert, transition

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
POLICY = EscalationPolicy(
    name="p",
    tiers=(
        Tier((Target(TargetKind.USER, "U0BOB"),), after_seconds=0),
        Tier((Target(TargetKind.USER, "U0DAVE"),), after_seconds=600),
    ),
    approvers=("U0DAVE",),
)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def make(
    silence_id: int = 1,
    matchers: str = "service=db",
    start: float = 0,
    end: float = 60,
    team: str | None = "ops",
) -> Silence:
    return Silence(
        id=silence_id,
        matchers=parse_matchers(matchers),
        starts_at=minutes(start),
        ends_at=minutes(end),
        created_by="U0ALICE",
        comment="upgrade",
        team=team,
    )


def values(team: str = "ops", **labels: str) -> dict[str, str]:
    return alert_values(
        labels=labels,
        team=team,
        level=2,
        severity="warning",
        category=None,
        source="generic",
        fingerprint="fp1",
    )


def test_a_silence_mutes_only_from_its_start_to_its_end() -> None:
    found = make(start=10, end=70)
    assert not found.mutes(values(service="db"), now=minutes(9))
    assert found.mutes(values(service="db"), now=minutes(10))
    assert found.mutes(values(service="db"), now=minutes(69))
    assert not found.mutes(values(service="db"), now=minutes(70))


def test_a_silence_ended_by_hand_stops_muting_then() -> None:
    ended = replace(make(), ended_at=minutes(20), ended_by="U0BOB")
    assert ended.effective_end == minutes(20)
    assert not ended.mutes(values(service="db"), now=minutes(20))


def test_a_team_silence_mutes_only_that_teams_alerts_and_a_global_one_every_team() -> None:
    assert not make().mutes(values(team="web", service="db"), now=T0)
    assert make(team=None).mutes(values(team="web", service="db"), now=T0)


def test_matchers_see_the_alerts_own_fields_over_labels() -> None:
    found = make(matchers="level=2,severity=~warn.*,fingerprint=fp1")
    assert found.mutes(values(level="1"), now=T0)  # the label "level" is not the level


def test_of_several_silences_the_one_ending_last_holds_the_alert() -> None:
    found = muting(
        [make(1, end=30), make(2, end=90), make(3, "service=web")], values(service="db"), now=T0
    )
    assert found is not None
    assert found.id == 2


def test_a_menu_silence_matches_the_alerts_labels_or_its_fingerprint() -> None:
    assert matchers_for_alert({"b": "2", "a": "1"}, fingerprint="x") == (
        Matcher("a", Op.EQUAL, "1"),
        Matcher("b", Op.EQUAL, "2"),
    )
    assert matchers_for_alert({}, fingerprint="x") == (Matcher("fingerprint", Op.EQUAL, "x"),)


# --- the lifecycle of a silenced alert, with a fake clock -------------------------------------


def test_an_alert_firing_in_a_silence_is_kept_quiet_then_posted_and_escalated_when_it_ends() -> (
    None
):
    opened = open_silenced(fired_at=T0, silence_id=1, until=minutes(60), now=T0)
    assert (opened.rule, opened.effects, opened.state.status) == ("SILENCE-1", (), Status.SILENCED)
    assert (opened.state.escalating, opened.state.next_action_at) == (False, minutes(60))

    again = transition(opened.state, AlertRefired(), policy=POLICY, now=minutes(5))
    assert (again.state.count, again.state.status) == (2, Status.SILENCED)
    with pytest.raises(IllegalTransition) as early:
        transition(again.state, StepDue(), policy=POLICY, now=minutes(59))
    assert early.value.rule == "STEP-EARLY"
    with pytest.raises(IllegalTransition) as acked:
        transition(again.state, Acknowledged("U0BOB"), policy=POLICY, now=minutes(6))
    assert acked.value.rule == "SILENCED-1"
    assert "/tocsin unsilence 1" in acked.value.message

    ended = transition(again.state, StepDue(), policy=POLICY, now=minutes(60))
    assert (ended.rule, ended.effects) == ("SILENCE-END", (PostWarning(),))
    assert (ended.state.status, ended.state.next_action_at) == (Status.FIRING, minutes(60))
    paged = transition(ended.state, StepDue(), policy=POLICY, now=minutes(60))
    assert [type(e) for e in paged.effects] == [Page, UpdateWarning]


def test_silencing_an_acknowledged_alert_stops_reminders_and_its_release_leaves_it_unowned() -> (
    None
):
    fired = open_alert(fired_at=T0, policy=POLICY, now=T0).state
    acked = transition(fired, Acknowledged("U0ALICE"), policy=POLICY, now=minutes(1)).state
    muted = silence(acked, silence_id=4, until=minutes(30), actor="U0ALICE")
    assert (muted.rule, muted.effects) == ("SILENCE-2", (UpdateWarning(),))
    assert (muted.state.status, muted.state.next_action_at) == (Status.SILENCED, minutes(30))
    back = release(muted.state, policy=POLICY, now=minutes(10), why="was ended")
    assert (back.state.status, back.state.acknowledged_by, back.state.tier) == (
        Status.FIRING,
        None,
        -1,
    )
    assert back.state.next_action_at == minutes(10)


def test_silencing_an_alert_awaiting_approval_withdraws_the_request() -> None:
    fired = open_alert(fired_at=T0, policy=POLICY, now=T0).state
    paged = transition(fired, StepDue(), policy=POLICY, now=T0).state
    asked = transition(paged, EscalationRequested("U0BOB", "help"), policy=POLICY, now=minutes(1))
    muted = silence(asked.state, silence_id=2, until=minutes(30), actor=None)
    assert CloseApproval(seq=1, outcome="withdrawn (silenced)") in muted.effects
    assert muted.state.approval_tier is None


def test_a_longer_silence_extends_a_silenced_alert_and_a_shorter_one_does_not() -> None:
    opened = open_silenced(fired_at=T0, silence_id=1, until=minutes(60), now=T0).state
    longer = silence(opened, silence_id=2, until=minutes(90), actor=None)
    assert (longer.rule, longer.state.silence_id, longer.state.next_action_at) == (
        "SILENCE-3",
        2,
        minutes(90),
    )
    with pytest.raises(IllegalTransition):
        silence(opened, silence_id=3, until=minutes(30), actor=None)


# --- who may manage silences ----------------------------------------------------------------


def person(*teams: str, admin: bool = False, defined: bool = True) -> Person:
    return Person("U0X", frozenset(teams), admin, defined)


def test_a_new_silence_belongs_to_the_named_team_or_the_persons_only_team() -> None:
    assert team_for_new_silence(person("ops"), parse_matchers("service=db")) == "ops"
    assert team_for_new_silence(person("ops", "web"), parse_matchers("team=web,x=1")) == "web"
    assert team_for_new_silence(person(admin=True), parse_matchers("service=db")) is None
    assert team_for_new_silence(person(defined=False), parse_matchers("service=db")) is None


@pytest.mark.parametrize(
    ("who", "matchers", "says"),
    [
        (person("web"), "team=ops,x=1", "Only members of team ops"),
        (person("ops", "web"), "service=db", "several teams (ops, web)"),
        (person(), "service=db", "only admins may silence every team"),
    ],
)
def test_refusals_say_why(who: Person, matchers: str, says: str) -> None:
    with pytest.raises(Refused) as refused:
        team_for_new_silence(who, parse_matchers(matchers))
    assert says in refused.value.message


def test_only_admins_manage_silences_of_other_teams_or_of_every_team() -> None:
    may_manage(person("ops"), "ops", what="end it")
    may_manage(person(admin=True), "web", what="end it")
    may_manage(person(admin=True), None, what="end it")
    with pytest.raises(Refused):
        may_manage(person("ops"), "web", what="end it")
    with pytest.raises(Refused):
        may_manage(person("ops"), None, what="end it")
