"""Snooze lengths, "until tomorrow 09:00" in the team's zone, and what a snooze ends in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from escalation.events import Claimed, Snoozed, StepDue
from escalation.model import Status
from escalation.policy import EscalationPolicy, Target, TargetKind, Tier
from escalation.snooze import snooze_until
from escalation.state import open_alert, transition

NOW = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)  # the night Europe/Berlin springs forward
POLICY = EscalationPolicy(
    name="p", tiers=(Tier(targets=(Target(TargetKind.USER, "U0ALICE"),), after_seconds=0),)
)


@pytest.mark.parametrize(("choice", "minutes"), [("15", 15), ("60", 60), ("240", 240)])
def test_snooze_for_minutes_ends_that_many_minutes_later(choice: str, minutes: int) -> None:
    assert snooze_until(choice, now=NOW, timezone="UTC") == NOW + timedelta(minutes=minutes)


def test_until_tomorrow_is_nine_in_the_morning_local_time_across_a_dst_change() -> None:
    # 09:00 CEST on 2026-03-29 is 07:00 UTC (the clocks went forward that night)
    assert snooze_until("tomorrow", now=NOW, timezone="Europe/Berlin") == datetime(
        2026, 3, 29, 7, 0, tzinfo=UTC
    )


def test_until_tomorrow_uses_the_local_date_not_the_utc_date() -> None:
    late = datetime(2026, 6, 1, 23, 30, tzinfo=UTC)  # already 2 June in Tokyo
    assert snooze_until("tomorrow", now=late, timezone="Asia/Tokyo") == datetime(
        2026, 6, 3, 0, 0, tzinfo=UTC
    )


@pytest.mark.parametrize("choice", ["", "0", "-5", "soon", "99999999"])
def test_unknown_snooze_choices_are_refused(choice: str) -> None:
    with pytest.raises(ValueError, match="snooze"):
        snooze_until(choice, now=NOW, timezone="UTC")


def test_a_snoozed_owned_alert_comes_back_firing_and_unowned() -> None:
    state = open_alert(fired_at=NOW, policy=POLICY, now=NOW).state
    state = transition(state, StepDue(), policy=POLICY, now=NOW).state
    state = transition(state, Claimed("U0ALICE"), policy=POLICY, now=NOW).state
    later = NOW + timedelta(hours=1)
    state = transition(state, Snoozed("U0ALICE", later), policy=POLICY, now=NOW).state
    woke = transition(state, StepDue(), policy=POLICY, now=later)
    assert woke.rule == "SNOOZE-END"
    assert woke.state.status is Status.FIRING
    assert woke.state.owner is None
    assert woke.state.acknowledged_by is None
    assert woke.state.first_acknowledged_at == NOW
