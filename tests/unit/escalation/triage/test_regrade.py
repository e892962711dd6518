"""Re-grading a repeat under a fake clock: worse goes up a level and follows the new level's
policy; better is shown but never lowers the level."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from escalation.events import AlertState, Page, PostThreadNote, UpdateWarning
from escalation.model import Metric, Status
from escalation.policy import EscalationPolicy, Target, TargetKind, Tier
from escalation.state import Acknowledged, Snoozed, StepDue, open_alert, transition
from escalation.triage.grading import Grade, Noise
from escalation.triage.regrade import describe_metric, regrade_kept, regrade_up

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
NAMES = {1: "critical", 2: "major", 3: "minor"}
ALICE = "U0ALICE"


def _tier(who: str, after_minutes: int) -> Tier:
    return Tier(targets=(Target(TargetKind.USER, who),), after_seconds=after_minutes * 60)


MINOR_POLICY = EscalationPolicy(
    name="slow",
    tiers=(_tier("U0FIRST", 30), _tier("U0SECOND", 60)),
    resolve_within_seconds=8 * 3600,
)
CRITICAL_POLICY = EscalationPolicy(
    name="fast",
    tiers=(_tier("U0FIRST", 0), _tier("U0SECOND", 5), _tier("U0BOSS", 10)),
    resolve_within_seconds=3600,
)


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def metric(value: float) -> Metric:
    return Metric("orders_per_minute", value=value, baseline=100.0, unit="/min")


def opened() -> AlertState:
    return open_alert(fired_at=T0, policy=MINOR_POLICY, now=T0).state


def up(state: AlertState, minute: float, value: float = 77.0) -> tuple[AlertState, str]:
    tr = regrade_up(
        state,
        level=3,
        new=Grade(1, "grading rule 2: deviation 23% in 20% and over", 0.23),
        policy=CRITICAL_POLICY,
        names=NAMES,
        metric=metric(value),
        now=at(minute),
    )
    assert tr.rule == "REGRADE-1"
    assert UpdateWarning() in tr.effects
    [note] = [e for e in tr.effects if isinstance(e, PostThreadNote)]
    return tr.state, note.text


def test_unacknowledged_alert_regraded_up_pages_at_the_new_levels_pace() -> None:
    state = opened()
    assert state.next_action_at == at(30)  # the minor policy waits 30 minutes for tier 1

    state, note = up(state, 2)

    assert state.next_action_at == at(2)  # the critical policy pages tier 1 at once
    assert "Re-graded from level 3 (minor) to *level 1 (critical)*" in note
    assert "value 77 /min vs baseline 100 /min (23% below)" in note
    assert "policy *fast*" in note
    paged = transition(state, StepDue(), policy=CRITICAL_POLICY, now=at(2))
    assert [e.tier for e in paged.effects if isinstance(e, Page)] == [0]
    assert paged.state.next_action_at == at(7)  # tier 2 five minutes later, as the new policy


def test_regrade_keeps_tiers_already_paged() -> None:
    state = transition(opened(), StepDue(), policy=MINOR_POLICY, now=at(30)).state
    assert state.tier == 0
    assert state.next_action_at == at(90)

    state, _ = up(state, 40)

    assert state.tier == 0
    assert state.next_action_at == at(45)  # tier 2 of the new policy: 5 minutes from now


def test_regrade_never_delays_a_step_already_due_sooner() -> None:
    slow_critical = EscalationPolicy(name="slower", tiers=(_tier("U0X", 120),))
    state = opened()
    tr = regrade_up(
        state,
        level=3,
        new=Grade(1, "r"),
        policy=slow_critical,
        names=NAMES,
        metric=None,
        now=at(1),
    )

    assert tr.state.next_action_at == at(30)


def test_acknowledged_alert_regraded_up_pages_nobody_but_tells_the_owner() -> None:
    state = transition(opened(), Acknowledged(ALICE), policy=MINOR_POLICY, now=at(3)).state
    assert state.owner_deadline_at == at(3 + 8 * 60)

    state, note = up(state, 10)

    assert state.status is Status.ACKNOWLEDGED
    assert not state.escalating
    assert f"<@{ALICE}>, this is now level 1 (critical)." in note
    assert "nobody is paged while someone owns it" in note
    assert state.owner_deadline_at == at(10 + 60)  # the new level's resolve deadline is sooner


def test_snoozed_alert_regraded_up_wakes_now() -> None:
    state = transition(
        opened(), Snoozed(ALICE, until=at(240)), policy=MINOR_POLICY, now=at(5)
    ).state

    state, note = up(state, 20)

    assert state.next_action_at == at(20)
    assert "The snooze ends now." in note
    woke = transition(state, StepDue(), policy=CRITICAL_POLICY, now=at(20))
    assert woke.rule == "SNOOZE-END"
    assert woke.state.status is Status.FIRING


def test_value_back_in_a_milder_band_keeps_the_level_and_says_so() -> None:
    state = opened()

    tr = regrade_kept(
        state,
        level=1,
        previous=Grade(1, "r", 0.23),
        new=Grade(3, "r", 0.07),
        previous_metric=metric(77.0),
        metric=metric(93.0),
        names=NAMES,
    )

    assert tr is not None
    assert tr.rule == "REGRADE-2"
    assert tr.state == state
    [note] = tr.effects
    assert isinstance(note, PostThreadNote)
    assert "Value back to 7% from 23%" in note.text
    assert "level kept at level 1 (critical)" in note.text
    assert tr.summary == "value back to 7% from 23%; level kept at 1"


def test_value_in_the_noise_band_of_an_open_alert_is_shown_not_dropped() -> None:
    tr = regrade_kept(
        opened(),
        level=2,
        previous=Grade(2, "r", 0.12),
        new=Noise("r", 0.01, 2),
        previous_metric=metric(88.0),
        metric=metric(99.0),
        names=NAMES,
    )

    assert tr is not None
    [note] = tr.effects
    assert isinstance(note, PostThreadNote)
    assert "within the noise band" in note.text


def test_repeat_in_the_same_band_says_nothing() -> None:
    assert (
        regrade_kept(
            opened(),
            level=1,
            previous=Grade(3, "r", 0.07),
            new=Grade(3, "r", 0.08),
            previous_metric=metric(93.0),
            metric=metric(92.0),
            names=NAMES,
        )
        is None
    )


def test_describe_metric_with_threshold_and_without_reference() -> None:
    assert (
        describe_metric(Metric("p99", value=150.0, threshold=100.0, unit="ms"))
        == "value 150 ms vs threshold 100 ms (50% above)"
    )
    assert describe_metric(Metric("p99", value=150.0)) == "value 150"
