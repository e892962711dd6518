"""Whole escalation chains under a fake clock: who gets paged (asked, reminded) when.

:class:`Clock` holds one alert. It keeps the policy *snapshot* the alert opened with (as storage
does) and rebuilds the policy from it for every transition. ``run()`` moves time to the alert's
``next_action_at`` and applies :class:`StepDue`, again and again; ``act()`` applies a person's
event at a given minute. Every transition is logged as ``(minute, rule, what)``, where ``what``
names the deliveries: ``"T2"`` (tier 2 paged), ``"T1 r2"`` (tier 1 paged in round 2),
``"ask M1+M2: T3"`` (approval to page tier 3 asked), ``"remind U0ALICE"``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from escalation.model import Status
from escalation.policy import NO_POLICY, EscalationPolicy, OnTimeout, Target, TargetKind, Tier
from escalation.state import (
    Acknowledged,
    AlertState,
    Claimed,
    EscalationApproved,
    EscalationDenied,
    EscalationRequested,
    Event,
    IllegalTransition,
    Page,
    PostThreadNote,
    Remind,
    RequestApproval,
    Resolved,
    Snoozed,
    StepDue,
    Transition,
    Unacknowledged,
    open_alert,
    transition,
)

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)

ALICE = "U0ALICE"
BOB = "U0BOB"
CAROL = "U0CAROL"
M1 = "M1"
M2 = "M2"

Entry = tuple[float, str, str | None]
"""Minutes after the alert opened, the rule, what was delivered."""


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def _what(tr: Transition) -> str | None:
    parts: list[str] = []
    for effect in tr.effects:
        match effect:
            case Page(tier=tier, cycle=cycle):
                parts.append(f"T{tier + 1}" + (f" r{cycle + 1}" if cycle else ""))
            case RequestApproval(tier=tier, approvers=approvers):
                parts.append(f"ask {'+'.join(approvers)}: T{tier + 1}")
            case Remind(user=user):
                parts.append(f"remind {user}")
            case _:
                pass
    return "; ".join(parts) or None


class Clock:
    """One alert and a fake clock; see the module docstring."""

    def __init__(self, policy: EscalationPolicy, *, opened_at: datetime = T0) -> None:
        self.opened_at = opened_at
        self.now = opened_at
        self.snapshot: dict[str, Any] = json.loads(json.dumps(policy.to_snapshot()))
        opened = open_alert(fired_at=opened_at, policy=self.policy, now=opened_at)
        self.state: AlertState = opened.state
        self.transitions: list[Transition] = [opened]
        self.log: list[Entry] = [self._entry(opened)]

    @property
    def policy(self) -> EscalationPolicy:
        """The policy the alert opened with, rebuilt from its snapshot."""
        return EscalationPolicy.from_snapshot(self.snapshot)

    def at(self, minute: float) -> datetime:
        return self.opened_at + minutes(minute)

    def _entry(self, tr: Transition) -> Entry:
        return ((self.now - self.opened_at) / minutes(1), tr.rule, _what(tr))

    def _apply(self, event: Event) -> Transition:
        tr = transition(self.state, event, policy=self.policy, now=self.now)
        self.state = tr.state
        self.transitions.append(tr)
        self.log.append(self._entry(tr))
        return tr

    def act(self, event: Event, *, at: float) -> Transition:
        """A person (or the source) acts ``at`` minutes after opening."""
        when = self.at(at)
        assert when >= self.now, "the clock only moves forward"
        self.now = when
        return self._apply(event)

    def step(self) -> Transition:
        """Move to the next due time and apply StepDue there."""
        due = self.state.next_action_at
        assert due is not None, "nothing is due"
        assert due >= self.now, "a step was left behind"
        self.now = due
        return self._apply(StepDue())

    def run(self, *, until: float | None = None, limit: int = 50) -> list[Entry]:
        """Apply every step that comes due (up to ``until`` minutes); the new log entries."""
        start = len(self.log)
        for _ in range(limit):
            due = self.state.next_action_at
            if due is None or (until is not None and due > self.at(until)):
                return self.log[start:]
            self.step()
        raise AssertionError(f"still stepping after {limit} steps: {self.log[start:]}")

    def pages(self) -> list[Page]:
        return [e for tr in self.transitions for e in tr.effects if isinstance(e, Page)]


def tier(ref: str, after_minutes: float, *, approval: bool = False) -> Tier:
    return Tier(
        targets=(Target(TargetKind.USER, ref),),
        after_seconds=int(after_minutes * 60),
        requires_approval=approval,
    )


PRIMARY = tier("U0PRIMARY", 5)
SECONDARY = tier("U0SECONDARY", 10)
LEAD = tier("U0LEAD", 15)

THREE = EscalationPolicy(
    name="three",
    tiers=(PRIMARY, SECONDARY, LEAD),
    repeat=2,
    repeat_after_seconds=20 * 60,
)
ONCE = replace(THREE, name="once", repeat=0)
GATED = EscalationPolicy(
    name="gated",
    tiers=(PRIMARY, tier("U0LEADS", 10, approval=True), tier("U0DIRECTOR", 15)),
    approvers=(M1, M2),
    approval_timeout_seconds=10 * 60,
    on_timeout=OnTimeout.DENY,
)
OWNED = replace(ONCE, name="owned", resolve_within_seconds=30 * 60, remind_every_seconds=10 * 60)


def test_clock_logs_the_opening_and_moves_only_forward() -> None:
    clock = Clock(THREE)

    assert clock.log == [(0, "FIRE-1", None)]
    assert clock.state.next_action_at == clock.at(5)
    clock.act(Acknowledged(ALICE), at=3)
    with pytest.raises(AssertionError, match="forward"):
        clock.act(Unacknowledged(ALICE), at=2)


# --- a plain chain --------------------------------------------------------------------------


def test_three_tiers_with_repeat_2_run_three_rounds_then_stop() -> None:
    clock = Clock(THREE)

    assert clock.run() == [
        (5, "STEP-1", "T1"),
        (15, "STEP-1", "T2"),
        (30, "STEP-1", "T3"),
        (50, "REPEAT-1", "T1 r2"),  # max(tier 1's 5 minutes, repeat_after 20 minutes)
        (60, "STEP-1", "T2 r2"),
        (75, "STEP-1", "T3 r2"),
        (95, "REPEAT-1", "T1 r3"),
        (105, "STEP-1", "T2 r3"),
        (120, "STEP-1", "T3 r3"),
    ]
    assert (clock.state.tier, clock.state.cycle, clock.state.next_action_at) == (2, 2, None)
    assert clock.state.status is Status.FIRING
    with pytest.raises(IllegalTransition) as caught:
        transition(clock.state, StepDue(), policy=THREE, now=clock.at(500))
    assert caught.value.rule == "STEP-EARLY"


def test_each_page_carries_its_tier_targets_round_and_rule() -> None:
    clock = Clock(THREE)
    clock.run(until=50)

    assert clock.pages() == [
        Page(0, 0, PRIMARY.targets, "STEP-1"),
        Page(1, 0, SECONDARY.targets, "STEP-1"),
        Page(2, 0, LEAD.targets, "STEP-1"),
        Page(0, 1, PRIMARY.targets, "REPEAT-1"),
    ]


def test_repeat_waits_at_least_tier_1s_delay() -> None:
    clock = Clock(replace(THREE, repeat=1, repeat_after_seconds=60))

    assert clock.run() == [
        (5, "STEP-1", "T1"),
        (15, "STEP-1", "T2"),
        (30, "STEP-1", "T3"),
        (35, "REPEAT-1", "T1 r2"),
        (45, "STEP-1", "T2 r2"),
        (60, "STEP-1", "T3 r2"),
    ]


def test_without_repeat_the_chain_stops_after_the_last_tier() -> None:
    clock = Clock(ONCE)

    assert clock.run() == [(5, "STEP-1", "T1"), (15, "STEP-1", "T2"), (30, "STEP-1", "T3")]
    assert clock.state.next_action_at is None


def test_acknowledging_stops_the_chain_and_resolving_closes_it() -> None:
    clock = Clock(THREE)
    clock.run(until=20)
    clock.act(Acknowledged(ALICE), at=20)

    assert clock.run() == []
    clock.act(Resolved(ALICE, "restarted", "capacity"), at=90)
    assert clock.log[-3:] == [(15, "STEP-1", "T2"), (20, "ACK-1", None), (90, "RESOLVE-1", None)]
    assert clock.state.next_action_at is None
    with pytest.raises(IllegalTransition) as caught:
        clock.act(StepDue(), at=91)
    assert caught.value.rule == "CLOSED-1"


# --- snooze ---------------------------------------------------------------------------------


def test_snooze_then_resume_repages_the_current_tier_and_continues() -> None:
    clock = Clock(ONCE)
    clock.run(until=7)
    clock.act(Snoozed(ALICE, clock.at(37)), at=7)

    assert clock.run() == [
        (37, "SNOOZE-END", "T1"),
        (47, "STEP-1", "T2"),
        (62, "STEP-1", "T3"),
    ]
    assert clock.log[:3] == [(0, "FIRE-1", None), (5, "STEP-1", "T1"), (7, "SNOOZE-1", None)]
    assert clock.state.snoozed_until is None


def test_snooze_before_the_first_page_starts_the_chain_at_tier_1() -> None:
    clock = Clock(ONCE)
    clock.act(Snoozed(ALICE, clock.at(12)), at=2)

    assert clock.run() == [
        (12, "SNOOZE-END", "T1"),
        (22, "STEP-1", "T2"),
        (37, "STEP-1", "T3"),
    ]


def test_snooze_in_a_later_round_keeps_the_round() -> None:
    clock = Clock(replace(THREE, repeat=1))
    clock.run(until=52)  # ... 50 REPEAT-1 T1 r2
    clock.act(Snoozed(ALICE, clock.at(80)), at=52)

    assert clock.run() == [
        (80, "SNOOZE-END", "T1 r2"),
        (90, "STEP-1", "T2 r2"),
        (105, "STEP-1", "T3 r2"),
    ]


def test_snooze_can_be_extended_and_acknowledging_ends_it() -> None:
    clock = Clock(ONCE)
    clock.run(until=6)
    clock.act(Snoozed(ALICE, clock.at(20)), at=6)
    clock.act(Snoozed(ALICE, clock.at(40)), at=10)

    assert clock.run(until=39) == []
    clock.act(Acknowledged(BOB), at=39)
    assert clock.run() == []
    assert clock.state.snoozed_until is None


# --- unacknowledge --------------------------------------------------------------------------


def test_unacknowledge_restarts_the_chain_from_tier_1() -> None:
    clock = Clock(ONCE)
    clock.run(until=16)
    clock.act(Acknowledged(ALICE), at=16)
    assert clock.run() == []
    clock.act(Unacknowledged(ALICE), at=40)

    assert clock.run() == [(45, "STEP-1", "T1"), (55, "STEP-1", "T2"), (70, "STEP-1", "T3")]
    assert clock.log[3:5] == [(16, "ACK-1", None), (40, "UNACK-1", None)]
    assert clock.state.first_acknowledged_at == clock.at(16)
    assert clock.state.acknowledged_by is None


def test_unacknowledge_in_a_later_round_starts_again_from_round_1() -> None:
    clock = Clock(THREE)
    clock.run(until=52)  # ... 50 REPEAT-1 T1 r2
    clock.act(Claimed(ALICE), at=52)
    clock.act(Unacknowledged(ALICE), at=53)

    assert clock.run(until=110) == [
        (58, "STEP-1", "T1"),
        (68, "STEP-1", "T2"),
        (83, "STEP-1", "T3"),
        (103, "REPEAT-1", "T1 r2"),
    ]


# --- approvals ------------------------------------------------------------------------------


def test_approval_approved_pages_the_tier_and_the_chain_continues() -> None:
    clock = Clock(GATED)

    assert clock.run(until=24) == [(5, "STEP-1", "T1"), (15, "APPROVAL-1", "ask M1+M2: T2")]
    waiting = clock.state
    clock.act(EscalationApproved(M2, waiting.approval_seq), at=18)

    assert clock.run() == [(33, "STEP-1", "T3")]
    assert clock.log[-2] == (18, "APPROVE-1", "T2")
    assert waiting.status is Status.AWAITING_APPROVAL
    assert clock.state.status is Status.FIRING


def test_approval_request_names_the_tier_the_policy_and_the_approvers() -> None:
    clock = Clock(GATED)
    clock.run(until=15)

    asked = clock.transitions[-1].effects[0]
    assert asked == RequestApproval(
        seq=1,
        tier=1,
        approvers=(M1, M2),
        reason="the policy needs approval to page tier 2",
        requested_by=None,
    )


def test_approval_denied_holds_at_the_current_tier() -> None:
    clock = Clock(GATED)
    clock.run(until=15)
    clock.act(EscalationDenied(M1, 1, "primary has it"), at=18)

    assert clock.run() == []
    assert clock.log[-1] == (18, "DENY-1", None)
    assert (clock.state.status, clock.state.tier) == (Status.FIRING, 0)
    assert not clock.state.escalating
    with pytest.raises(IllegalTransition) as caught:
        clock.act(EscalationApproved(M2, 1), at=19)
    assert caught.value.rule == "APPROVAL-STALE"


def test_after_a_denial_a_manual_escalation_asks_again_with_a_new_seq() -> None:
    clock = Clock(GATED)
    clock.run(until=15)
    clock.act(EscalationDenied(M1, 1, "primary has it"), at=18)
    clock.act(EscalationRequested(ALICE, "it is getting worse"), at=30)

    assert clock.state.approval_seq == 2
    with pytest.raises(IllegalTransition) as caught:
        clock.act(EscalationApproved(M1, 1), at=31)
    assert caught.value.rule == "APPROVAL-STALE"
    clock.act(EscalationApproved(M1, 2), at=32)
    assert clock.run() == [(47, "STEP-1", "T3")]
    assert clock.log[-3:-1] == [(30, "ESC-1", "ask M1+M2: T2"), (32, "APPROVE-1", "T2")]


@pytest.mark.parametrize(
    ("on_timeout", "timeline"),
    [
        (
            OnTimeout.APPROVE,
            [
                (5, "STEP-1", "T1"),
                (15, "APPROVAL-1", "ask M1+M2: T2"),
                (25, "APPROVAL-TIMEOUT-APPROVE", "T2"),
                (40, "STEP-1", "T3"),
            ],
        ),
        (
            OnTimeout.DENY,
            [
                (5, "STEP-1", "T1"),
                (15, "APPROVAL-1", "ask M1+M2: T2"),
                (25, "APPROVAL-TIMEOUT-DENY", None),
            ],
        ),
        (
            OnTimeout.NEXT_APPROVER,
            [
                (5, "STEP-1", "T1"),
                (15, "APPROVAL-1", "ask M1: T2"),
                (25, "APPROVAL-TIMEOUT-NEXT", "ask M2: T2"),
                (35, "APPROVAL-TIMEOUT-DENY", None),
            ],
        ),
    ],
    ids=lambda v: v.value if isinstance(v, OnTimeout) else "",
)
def test_approval_timeout_follows_on_timeout(on_timeout: OnTimeout, timeline: list[Entry]) -> None:
    clock = Clock(replace(GATED, on_timeout=on_timeout))

    assert clock.run() == timeline
    assert clock.state.status is Status.FIRING
    assert clock.state.approval_tier is None


def test_next_approver_can_still_approve_the_same_request() -> None:
    clock = Clock(replace(GATED, on_timeout=OnTimeout.NEXT_APPROVER))
    clock.run(until=25)
    clock.act(EscalationApproved(M2, 1), at=30)

    assert clock.run() == [(45, "STEP-1", "T3")]
    assert clock.log[-4:-1] == [
        (15, "APPROVAL-1", "ask M1: T2"),
        (25, "APPROVAL-TIMEOUT-NEXT", "ask M2: T2"),
        (30, "APPROVE-1", "T2"),
    ]


def test_approval_is_asked_again_in_every_round() -> None:
    clock = Clock(replace(GATED, repeat=1, repeat_after_seconds=10 * 60))
    clock.run(until=15)
    clock.act(EscalationApproved(M1, 1), at=16)
    clock.run(until=51)
    clock.act(EscalationApproved(M1, 2), at=52)

    assert clock.run() == [(67, "STEP-1", "T3 r2")]
    assert clock.log[1:] == [
        (5, "STEP-1", "T1"),
        (15, "APPROVAL-1", "ask M1+M2: T2"),
        (16, "APPROVE-1", "T2"),
        (31, "STEP-1", "T3"),
        (41, "REPEAT-1", "T1 r2"),
        (51, "APPROVAL-1", "ask M1+M2: T2"),
        (52, "APPROVE-1", "T2 r2"),
        (67, "STEP-1", "T3 r2"),
    ]


def test_a_tier_needing_approval_is_paged_directly_when_nobody_can_approve() -> None:
    clock = Clock(replace(GATED, approvers=()))

    assert clock.run() == [(5, "STEP-1", "T1"), (15, "STEP-1", "T2"), (30, "STEP-1", "T3")]


def test_acknowledging_while_approval_is_pending_withdraws_it() -> None:
    clock = Clock(GATED)
    clock.run(until=15)
    tr = clock.act(Acknowledged(ALICE), at=17)

    assert tr.rule == "ACK-1"
    assert [type(e).__name__ for e in tr.effects] == ["UpdateWarning", "CloseApproval"]
    assert clock.run() == []
    with pytest.raises(IllegalTransition) as caught:
        clock.act(EscalationApproved(M1, 1), at=18)
    assert caught.value.rule == "APPROVAL-STALE"


# --- owners and their deadline --------------------------------------------------------------


def test_owner_misses_the_deadline_then_a_second_owner_takes_over() -> None:
    clock = Clock(OWNED)
    clock.run(until=7)
    clock.act(Claimed(ALICE), at=7)

    assert clock.run(until=39) == [
        (17, "REMIND-1", f"remind {ALICE}"),
        (27, "REMIND-1", f"remind {ALICE}"),
        (37, "OWNER-LATE-1", "T2"),
    ]
    clock.act(Claimed(BOB), at=40)
    assert clock.run() == [
        (50, "REMIND-1", f"remind {BOB}"),
        (60, "REMIND-1", f"remind {BOB}"),
        (70, "OWNER-LATE-1", "T3"),
    ]
    clock.act(Resolved(BOB, "failed over", "hardware"), at=75)

    assert clock.log == [
        (0, "FIRE-1", None),
        (5, "STEP-1", "T1"),
        (7, "CLAIM-1", None),
        (17, "REMIND-1", f"remind {ALICE}"),
        (27, "REMIND-1", f"remind {ALICE}"),
        (37, "OWNER-LATE-1", "T2"),
        (40, "CLAIM-2", None),
        (50, "REMIND-1", f"remind {BOB}"),
        (60, "REMIND-1", f"remind {BOB}"),
        (70, "OWNER-LATE-1", "T3"),
        (75, "RESOLVE-1", None),
    ]
    reminders = [e for tr in clock.transitions for e in tr.effects if isinstance(e, Remind)]
    assert reminders == [
        Remind(ALICE, clock.at(37)),
        Remind(ALICE, clock.at(37)),
        Remind(BOB, clock.at(70)),
        Remind(BOB, clock.at(70)),
    ]
    notes = [
        e.text for tr in clock.transitions for e in tr.effects if isinstance(e, PostThreadNote)
    ]
    assert notes == [
        f"<@{ALICE}> missed the resolve deadline; escalation resumes.",
        f"<@{BOB}> missed the resolve deadline; escalation resumes.",
    ]
    assert clock.state.first_acknowledged_at == clock.at(7)


def test_a_late_owner_keeps_being_escalated_on_schedule() -> None:
    clock = Clock(OWNED)
    clock.act(Acknowledged(ALICE), at=1)  # before anybody was paged

    assert clock.run() == [
        (11, "REMIND-1", f"remind {ALICE}"),
        (21, "REMIND-1", f"remind {ALICE}"),
        (31, "OWNER-LATE-1", "T1"),
        (41, "STEP-1", "T2"),
        (56, "STEP-1", "T3"),
    ]
    assert (clock.state.status, clock.state.acknowledged_by) == (Status.ACKNOWLEDGED, ALICE)


def test_deadline_missed_after_every_tier_was_paged_ends_the_chain() -> None:
    clock = Clock(OWNED)
    clock.run()
    clock.act(Claimed(CAROL), at=31)
    entries = clock.run()

    assert entries == [
        (41, "REMIND-1", f"remind {CAROL}"),
        (51, "REMIND-1", f"remind {CAROL}"),
        (61, "OWNER-LATE-1", None),
    ]
    notes = [e for e in clock.transitions[-1].effects if isinstance(e, PostThreadNote)]
    assert [n.text for n in notes] == [
        f"<@{CAROL}> missed the resolve deadline; escalation resumes.",
        "every tier has been paged; the escalation chain is done",
    ]
    assert clock.state.next_action_at is None


def test_resolve_deadline_without_reminders() -> None:
    clock = Clock(replace(OWNED, remind_every_seconds=None))
    clock.run(until=6)
    clock.act(Claimed(ALICE), at=6)

    assert clock.run() == [(36, "OWNER-LATE-1", "T2"), (51, "STEP-1", "T3")]


@pytest.mark.parametrize(
    ("decide", "timeline"),
    [
        (
            EscalationApproved(M1, 1),
            [(45, "APPROVE-1", "T2"), (60, "STEP-1", "T3")],
        ),
        (EscalationDenied(M1, 1, "she's on it"), [(45, "DENY-1", None)]),
    ],
    ids=["approved", "denied"],
)
def test_late_owner_reaching_a_tier_that_needs_approval(
    decide: Event, timeline: list[Entry]
) -> None:
    clock = Clock(replace(GATED, resolve_within_seconds=30 * 60))
    clock.act(Acknowledged(ALICE), at=2)
    assert clock.run(until=45) == [
        (32, "OWNER-LATE-1", "T1"),
        (42, "APPROVAL-1", "ask M1+M2: T2"),
    ]

    clock.act(decide, at=45)
    clock.run()

    assert clock.log[-len(timeline) :] == timeline
    assert clock.state.next_action_at is None
    assert (clock.state.status, clock.state.acknowledged_by) == (Status.ACKNOWLEDGED, ALICE)


def test_late_owner_approval_timing_out_holds() -> None:
    clock = Clock(replace(GATED, resolve_within_seconds=30 * 60))
    clock.act(Acknowledged(ALICE), at=2)

    assert clock.run() == [
        (32, "OWNER-LATE-1", "T1"),
        (42, "APPROVAL-1", "ask M1+M2: T2"),
        (52, "APPROVAL-TIMEOUT-DENY", None),
    ]


# --- manual escalation ----------------------------------------------------------------------


def test_manual_escalation_with_approvers_asks_then_pages() -> None:
    clock = Clock(GATED)
    clock.run(until=6)
    tr = clock.act(EscalationRequested(ALICE, "db on fire"), at=6)

    assert tr.effects[0] == RequestApproval(1, 1, (M1, M2), "db on fire", ALICE)
    assert clock.state.approval_requested_by == ALICE
    clock.act(EscalationApproved(M1, 1), at=8)
    assert clock.run() == [(23, "STEP-1", "T3")]
    assert clock.log == [
        (0, "FIRE-1", None),
        (5, "STEP-1", "T1"),
        (6, "ESC-1", "ask M1+M2: T2"),
        (8, "APPROVE-1", "T2"),
        (23, "STEP-1", "T3"),
    ]


def test_manual_escalation_while_one_is_pending_is_esc_3() -> None:
    clock = Clock(GATED)
    clock.run(until=6)
    clock.act(EscalationRequested(ALICE, "db on fire"), at=6)

    with pytest.raises(IllegalTransition) as caught:
        clock.act(EscalationRequested(BOB, "me too"), at=7)
    assert caught.value.rule == "ESC-3"


def test_manual_escalation_without_approvers_pages_at_once() -> None:
    clock = Clock(ONCE)
    clock.run(until=6)
    clock.act(EscalationRequested(ALICE, "db on fire"), at=6)

    assert clock.run() == [(21, "STEP-1", "T3")]
    assert clock.log[-2] == (6, "ESC-2", "T2")
    with pytest.raises(IllegalTransition) as caught:
        clock.act(EscalationRequested(ALICE, "more"), at=22)
    assert caught.value.rule == "ESC-4"


def test_manual_escalation_before_the_first_page_pages_tier_1() -> None:
    clock = Clock(ONCE)
    clock.act(EscalationRequested(ALICE, "obviously bad"), at=1)

    assert clock.run() == [(11, "STEP-1", "T2"), (26, "STEP-1", "T3")]
    assert clock.log[1] == (1, "ESC-2", "T1")


def test_manual_escalation_by_the_owner_pages_help_but_the_owner_keeps_it() -> None:
    clock = Clock(OWNED)
    clock.run(until=6)
    clock.act(Claimed(ALICE), at=6)
    clock.act(EscalationRequested(ALICE, "need a DBA"), at=8)

    assert clock.run() == [
        (16, "REMIND-1", f"remind {ALICE}"),
        (26, "REMIND-1", f"remind {ALICE}"),
        (36, "OWNER-LATE-1", "T3"),
    ]
    assert clock.log[3] == (8, "ESC-2", "T2")
    assert clock.state.owner == ALICE


def test_manual_escalation_out_of_a_snooze_resumes_the_schedule() -> None:
    clock = Clock(ONCE)
    clock.run(until=7)
    clock.act(Snoozed(ALICE, clock.at(60)), at=7)
    clock.act(EscalationRequested(BOB, "can't wait"), at=10)

    assert clock.run() == [(25, "STEP-1", "T3")]
    assert clock.log[-2] == (10, "ESC-2", "T2")
    assert (clock.state.status, clock.state.snoozed_until) == (Status.FIRING, None)


def test_manual_escalation_out_of_a_snooze_with_approvers() -> None:
    clock = Clock(GATED)
    clock.run(until=7)
    clock.act(Snoozed(ALICE, clock.at(60)), at=7)
    clock.act(EscalationRequested(BOB, "can't wait"), at=10)
    clock.act(EscalationApproved(M2, 1), at=12)

    assert clock.run() == [(27, "STEP-1", "T3")]
    assert clock.log[-3:-1] == [(10, "ESC-1", "ask M1+M2: T2"), (12, "APPROVE-1", "T2")]


# --- the policy snapshot --------------------------------------------------------------------


def test_a_policy_edited_mid_flight_does_not_change_an_alert_in_flight() -> None:
    v1 = ONCE
    v2 = EscalationPolicy(
        name=ONCE.name,
        tiers=(tier("U0NEWPRIMARY", 1), tier("U0NEWLEAD", 2)),
        repeat=1,
        repeat_after_seconds=60,
    )
    loaded = {"backend": v1}
    first = Clock(loaded["backend"])
    first.run(until=10)  # T1 at 5

    loaded["backend"] = v2  # the operator edits the policy file; it is reloaded
    second = Clock(loaded["backend"], opened_at=first.at(10))

    assert first.run() == [(15, "STEP-1", "T2"), (30, "STEP-1", "T3")]
    assert [p.targets for p in first.pages()] == [t.targets for t in v1.tiers]
    assert first.snapshot == v1.to_snapshot()
    assert first.policy == v1
    assert second.run() == [
        (1, "STEP-1", "T1"),
        (3, "STEP-1", "T2"),
        (4, "REPEAT-1", "T1 r2"),  # max(1 minute, repeat_after 1 minute)
        (6, "STEP-1", "T2 r2"),
    ]
    assert [p.targets for p in second.pages()][:2] == [t.targets for t in v2.tiers]


FULL = EscalationPolicy(
    name="everything",
    tiers=(
        Tier((Target(TargetKind.USER, "U01"), Target(TargetKind.ONCALL, "backend")), 30),
        Tier((Target(TargetKind.GROUP, "S01"), Target(TargetKind.CHANNEL, "C01")), 300, True),
        Tier((Target(TargetKind.WEBHOOK, "https://example.test/hook"),), 0),
        Tier((), 60),
    ),
    repeat=3,
    repeat_after_seconds=1234,
    approvers=("U0M1", "U0M2", "U0M3"),
    approval_timeout_seconds=321,
    on_timeout=OnTimeout.NEXT_APPROVER,
    ack_within_seconds=111,
    resolve_within_seconds=2222,
    remind_every_seconds=333,
    stand_down_needs_approval=True,
)


@pytest.mark.parametrize(
    "policy",
    [
        FULL,
        *(replace(FULL, on_timeout=o) for o in OnTimeout),
        THREE,
        GATED,
        OWNED,
        NO_POLICY,
    ],
    ids=lambda p: f"{p.name}-{p.on_timeout.value}",
)
def test_snapshot_round_trips_exactly_also_through_json(policy: EscalationPolicy) -> None:
    snapshot = policy.to_snapshot()
    stored = json.loads(json.dumps(snapshot))

    assert EscalationPolicy.from_snapshot(snapshot) == policy
    assert EscalationPolicy.from_snapshot(stored) == policy
    assert stored == snapshot
    assert EscalationPolicy.from_snapshot(stored).to_snapshot() == snapshot


def test_snapshot_of_only_name_and_tiers_takes_the_defaults() -> None:
    tiers = (tier("U0PRIMARY", 5),)
    data: dict[str, Any] = {
        "name": "bare",
        "tiers": [{"targets": [["user", "U0PRIMARY"]], "after": 300}],
    }

    assert EscalationPolicy.from_snapshot(data) == EscalationPolicy(name="bare", tiers=tiers)


# --- no tiers at all ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "policy",
    [NO_POLICY, EscalationPolicy(name="empty", tiers=(), repeat=3)],
    ids=["none", "repeat"],
)
def test_without_tiers_nothing_is_ever_paged(policy: EscalationPolicy) -> None:
    clock = Clock(policy)

    assert clock.state.next_action_at is None
    assert clock.run() == []
    with pytest.raises(IllegalTransition) as caught:
        clock.act(StepDue(), at=60)
    assert caught.value.rule == "STEP-EARLY"
    with pytest.raises(IllegalTransition) as caught:
        clock.act(EscalationRequested(ALICE, "help"), at=61)
    assert caught.value.rule == "ESC-4"

    clock.act(Acknowledged(ALICE), at=62)
    assert clock.state.next_action_at is None
    clock.act(Unacknowledged(ALICE), at=63)
    assert clock.state.next_action_at is None
    clock.act(Snoozed(ALICE, clock.at(90)), at=64)
    assert clock.run() == [(90, "SNOOZE-END", None)]
    assert clock.state.next_action_at is None
    assert clock.pages() == []
