"""The escalation state machine, cell by cell: every event in every status.

Time is always passed in; the datetimes below are fixed and UTC-aware. The states of the table
are reached by driving the machine itself from ``open_alert`` under one policy, so every one of
them is a state the machine can really be in.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from escalation.model import Status
from escalation.noise.silencing import silence
from escalation.policy import EscalationPolicy, OnTimeout, Target, TargetKind, Tier
from escalation.state import (
    Acknowledged,
    AcknowledgedAtSource,
    AlertRefired,
    AlertState,
    Assigned,
    Claimed,
    CloseApproval,
    Effect,
    EscalationApproved,
    EscalationDenied,
    EscalationRequested,
    Event,
    IllegalTransition,
    Page,
    PostThreadNote,
    PostWarning,
    RecordResolution,
    Remind,
    RequestApproval,
    Resolved,
    ResolvedAtSource,
    Snoozed,
    StepDue,
    Transition,
    Unacknowledged,
    UpdateWarning,
    open_alert,
    step_at_once,
    time_to_acknowledge,
    time_to_resolve,
    transition,
)


def at(hh: int, mm: int) -> datetime:
    return datetime(2024, 5, 1, hh, mm, tzinfo=UTC)


T0 = at(12, 0)
NOW = at(12, 20)
"""When the table's events (other than StepDue) happen."""
SNOOZE_UNTIL = at(12, 45)

ALICE = "U0ALICE"
BOB = "U0BOB"
CAROL = "U0CAROL"
DAVE = "U0DAVE"
MGR1 = "U0MGR1"
MGR2 = "U0MGR2"

TIER1 = (Target(TargetKind.USER, "U0PRIMARY"),)
TIER2 = (Target(TargetKind.ONCALL, "backend"),)
TIER3 = (Target(TargetKind.GROUP, "S0LEADS"), Target(TargetKind.CHANNEL, "C0INCIDENT"))

POLICY = EscalationPolicy(
    name="backend",
    tiers=(
        Tier(TIER1, after_seconds=60),
        Tier(TIER2, after_seconds=300),
        Tier(TIER3, after_seconds=600, requires_approval=True),
    ),
    repeat=1,
    repeat_after_seconds=900,
    approvers=(MGR1, MGR2),
    approval_timeout_seconds=900,
    on_timeout=OnTimeout.DENY,
    resolve_within_seconds=3600,
    remind_every_seconds=1800,
)


def drive(state: AlertState, *steps: tuple[Event, datetime]) -> AlertState:
    for event, when in steps:
        state = transition(state, event, policy=POLICY, now=when).state
    return state


# --- the statuses, reached through the machine -----------------------------------------------
# 12:00 fired; 12:01 tier 1 paged (tier 2 due 12:06).
OPENED = open_alert(fired_at=T0, policy=POLICY, now=T0).state
FIRING = drive(OPENED, (StepDue(), at(12, 1)))
# 12:02 ALICE acknowledges: reminder 12:32, resolve deadline 13:02.
ACKED = drive(FIRING, (Acknowledged(ALICE), at(12, 2)))
# 12:03 ALICE assigns it to BOB: reminder 12:33, deadline 13:03.
OWNED = drive(ACKED, (Assigned(ALICE, BOB), at(12, 3)))
# 12:04 ALICE snoozes until 12:40.
SNOOZED = drive(FIRING, (Snoozed(ALICE, at(12, 40)), at(12, 4)))
# 12:06 tier 2 paged; 12:16 tier 3 needs approval: asked, times out 12:31.
AWAITING = drive(FIRING, (StepDue(), at(12, 6)), (StepDue(), at(12, 16)))
# 12:10 BOB (the owner) asks to escalate to tier 2: asked, times out 12:25.
AWAITING_OWNED = drive(OWNED, (EscalationRequested(BOB, "need the DBA"), at(12, 10)))
RESOLVED = drive(ACKED, (Resolved(ALICE, "restarted", "capacity"), at(12, 5)))
RESOLVED_AT_SOURCE = drive(FIRING, (ResolvedAtSource(), at(12, 5)))
# 12:05 silence #7 covers it until 12:40: escalation stops.
SILENCED = silence(FIRING, silence_id=7, until=at(12, 40), actor=ALICE).state

STATES: dict[str, AlertState] = {
    "firing": FIRING,
    "acknowledged": ACKED,
    "acknowledged_with_owner": OWNED,
    "snoozed": SNOOZED,
    "awaiting_approval": AWAITING,
    "awaiting_approval_acknowledged": AWAITING_OWNED,
    "resolved": RESOLVED,
    "resolved_at_source": RESOLVED_AT_SOURCE,
    "silenced": SILENCED,
}


def test_the_table_states_are_what_their_names_say() -> None:
    assert (FIRING.status, FIRING.tier, FIRING.next_action_at) == (Status.FIRING, 0, at(12, 6))
    assert FIRING.escalating
    assert (ACKED.status, ACKED.acknowledged_by, ACKED.owner) == (Status.ACKNOWLEDGED, ALICE, None)
    assert (ACKED.next_action_at, ACKED.owner_deadline_at) == (at(12, 32), at(13, 2))
    assert (OWNED.owner, OWNED.assigned_by, OWNED.acknowledged_by) == (BOB, ALICE, ALICE)
    assert (OWNED.next_action_at, OWNED.owner_deadline_at) == (at(12, 33), at(13, 3))
    assert (SNOOZED.status, SNOOZED.next_action_at) == (Status.SNOOZED, at(12, 40))
    assert AWAITING.status is Status.AWAITING_APPROVAL
    assert (AWAITING.tier, AWAITING.approval_tier, AWAITING.approval_seq) == (1, 2, 1)
    assert (AWAITING.resume_status, AWAITING.next_action_at) == (Status.FIRING, at(12, 31))
    assert AWAITING_OWNED.status is Status.AWAITING_APPROVAL
    assert (AWAITING_OWNED.approval_tier, AWAITING_OWNED.approval_seq) == (1, 1)
    assert AWAITING_OWNED.resume_status is Status.ACKNOWLEDGED
    assert AWAITING_OWNED.next_action_at == at(12, 25)
    assert RESOLVED.status is RESOLVED_AT_SOURCE.status is Status.RESOLVED
    assert (SILENCED.status, SILENCED.silence_id) == (Status.SILENCED, 7)
    assert (SILENCED.next_action_at, SILENCED.escalating) == (at(12, 40), False)
    not_yet_due = (ACKED, OWNED, SNOOZED, AWAITING, AWAITING_OWNED, SILENCED)
    assert all(s.next_action_at and s.next_action_at > NOW for s in not_yet_due)


# --- the table ------------------------------------------------------------------------------

Fields = Mapping[str, object]
ExpectedEffect = type[Effect] | Effect
"""A type (only the kind of effect is checked) or an instance (checked for equality)."""


@dataclass(frozen=True)
class Legal:
    status: Status
    rule: str
    effects: tuple[ExpectedEffect, ...]
    fields: Fields = field(default_factory=dict)
    """AlertState fields of the result, by name."""


@dataclass(frozen=True)
class Illegal:
    rule: str


@dataclass(frozen=True)
class Cell:
    state: str
    event: Event
    expect: Legal | Illegal
    when: datetime = NOW

    @property
    def id(self) -> str:
        args = ",".join(
            f"{v:%H%M}" if isinstance(v, datetime) else str(v).removeprefix("U0")
            for v in dataclasses.astuple(self.event)
        )
        name = type(self.event).__name__
        return f"{self.state}-{name}({args})-{self.expect.rule}@{self.when:%H%M}"


ACK = Status.ACKNOWLEDGED
FIRE = Status.FIRING
RES = Status.RESOLVED
WAIT = Status.AWAITING_APPROVAL

UPDATE = (UpdateWarning,)
ASSIGN_EFFECTS = (UpdateWarning, PostThreadNote)
RESOLVE_EFFECTS = (UpdateWarning, RecordResolution)
NOBODY_DUE: Fields = {"escalating": False}
WITHDRAWN = CloseApproval(seq=1, outcome="withdrawn")


def owner_clock(next_action: datetime, deadline: datetime) -> Fields:
    """Someone has it: no pages, the next reminder and the resolve deadline."""
    return {"escalating": False, "next_action_at": next_action, "owner_deadline_at": deadline}


RESTARTED: Fields = {"tier": -1, "cycle": 0, "escalating": True, "next_action_at": at(12, 21)}
CLOSED: Fields = {"next_action_at": None, "escalating": False, "resolved_at": NOW}


def closed_cells(state: str) -> list[Cell]:
    return [
        Cell(state, event, Illegal("CLOSED-1"))
        for event in (
            AlertRefired(),
            Acknowledged(BOB),
            Claimed(BOB),
            Assigned(BOB, CAROL),
            Unacknowledged(BOB),
            Snoozed(BOB, SNOOZE_UNTIL),
            EscalationRequested(BOB, "help"),
            EscalationApproved(MGR1, 1),
            EscalationDenied(MGR1, 1, "no"),
            StepDue(),
            Resolved(BOB, "again", "unknown"),
            ResolvedAtSource(),
            AcknowledgedAtSource(),
        )
    ]


# The source's acknowledgement (a PagerDuty "acknowledge"): like a person's, but nobody to
# remind, so the only thing due is the level's resolve deadline (13:20).
BY_SOURCE: Fields = {
    "acknowledged_by": None,
    "acknowledged_at": NOW,
    "escalating": False,
    "next_action_at": at(13, 20),
    "owner_deadline_at": at(13, 20),
}
SOURCE_ACK_CELLS = [
    Cell("firing", AcknowledgedAtSource(), Legal(ACK, "ACK-SRC-1", UPDATE, BY_SOURCE)),
    Cell(
        "snoozed",
        AcknowledgedAtSource(),
        Legal(ACK, "ACK-SRC-1", UPDATE, {**BY_SOURCE, "snoozed_until": None}),
    ),
    Cell(
        "awaiting_approval",
        AcknowledgedAtSource(),
        Legal(
            ACK,
            "ACK-SRC-1",
            (UpdateWarning(), WITHDRAWN),
            {**BY_SOURCE, "approval_tier": None, "resume_status": None},
        ),
    ),
    Cell("acknowledged", AcknowledgedAtSource(), Illegal("ACK-SRC-2")),
    Cell("acknowledged_with_owner", AcknowledgedAtSource(), Illegal("ACK-SRC-2")),
    Cell("awaiting_approval_acknowledged", AcknowledgedAtSource(), Illegal("ACK-SRC-2")),
]


CELLS: list[Cell] = [
    # --- firing: tier 1 paged at 12:01, tier 2 due at 12:06 -------------------------------
    Cell(
        "firing",
        AlertRefired(),
        Legal(
            FIRE, "REFIRE-1", UPDATE, {"count": 2, "last_seen_at": NOW, "next_action_at": at(12, 6)}
        ),
    ),
    Cell(
        "firing",
        Acknowledged(ALICE),
        Legal(
            ACK,
            "ACK-1",
            UPDATE,
            {
                "acknowledged_by": ALICE,
                "acknowledged_at": NOW,
                "owner": None,
                **owner_clock(at(12, 50), at(13, 20)),
            },
        ),
    ),
    Cell(
        "firing",
        Claimed(ALICE),
        Legal(
            ACK,
            "CLAIM-1",
            UPDATE,
            {
                "acknowledged_by": ALICE,
                "owner": ALICE,
                "owner_since": NOW,
                "assigned_by": None,
                **owner_clock(at(12, 50), at(13, 20)),
            },
        ),
    ),
    Cell(
        "firing",
        Assigned(ALICE, BOB),
        Legal(
            ACK,
            "ASSIGN-1",
            (UpdateWarning(), PostThreadNote(f"<@{BOB}>, you now own this alert.")),
            {
                "acknowledged_by": ALICE,
                "owner": BOB,
                "assigned_by": ALICE,
                **owner_clock(at(12, 50), at(13, 20)),
            },
        ),
    ),
    Cell("firing", Unacknowledged(ALICE), Illegal("UNACK-2")),
    Cell(
        "firing",
        Snoozed(ALICE, SNOOZE_UNTIL),
        Legal(
            Status.SNOOZED,
            "SNOOZE-1",
            UPDATE,
            {"snoozed_until": SNOOZE_UNTIL, "next_action_at": SNOOZE_UNTIL, "tier": 0},
        ),
    ),
    Cell("firing", Snoozed(ALICE, NOW), Illegal("SNOOZE-3")),
    Cell("firing", Snoozed(ALICE, at(12, 19)), Illegal("SNOOZE-3")),
    Cell(
        "firing",
        EscalationRequested(ALICE, "db down"),
        Legal(
            WAIT,
            "ESC-1",
            (RequestApproval(1, 1, (MGR1, MGR2), "db down", ALICE), UpdateWarning()),
            {
                "approval_seq": 1,
                "approval_tier": 1,
                "approval_requested_by": ALICE,
                "resume_status": FIRE,
                "next_action_at": at(12, 35),
                "tier": 0,
            },
        ),
    ),
    Cell("firing", EscalationApproved(MGR1, 0), Illegal("APPROVAL-STALE")),
    Cell("firing", EscalationApproved(MGR1, 1), Illegal("APPROVAL-STALE")),
    Cell("firing", EscalationDenied(MGR1, 1, "no"), Illegal("APPROVAL-STALE")),
    Cell(
        "firing",
        StepDue(),
        Legal(
            FIRE,
            "STEP-1",
            (Page(1, 0, TIER2, "STEP-1"), UpdateWarning()),
            {"tier": 1, "cycle": 0, "escalating": True, "next_action_at": at(12, 16)},
        ),
        when=at(12, 6),
    ),
    Cell("firing", StepDue(), Illegal("STEP-EARLY"), when=at(12, 5)),
    Cell(
        "firing",
        Resolved(ALICE, "restarted", "capacity"),
        Legal(RES, "RESOLVE-1", RESOLVE_EFFECTS, {"resolved_by": ALICE, **CLOSED}),
    ),
    Cell(
        "firing",
        ResolvedAtSource(),
        Legal(RES, "RESOLVE-2", RESOLVE_EFFECTS, {"resolved_by": None, "resolved_by_source": True}),
    ),
    # --- acknowledged by ALICE at 12:02, nobody owns it -----------------------------------
    Cell(
        "acknowledged",
        AlertRefired(),
        Legal(ACK, "REFIRE-1", UPDATE, {"acknowledged_by": ALICE, "next_action_at": at(12, 32)}),
    ),
    Cell("acknowledged", Acknowledged(BOB), Illegal("ACK-2")),
    Cell("acknowledged", Acknowledged(ALICE), Illegal("ACK-2")),
    Cell(
        "acknowledged",
        Claimed(BOB),
        Legal(
            ACK,
            "CLAIM-2",
            UPDATE,
            {
                "acknowledged_by": ALICE,
                "acknowledged_at": at(12, 2),
                "owner": BOB,
                **owner_clock(at(12, 50), at(13, 20)),
            },
        ),
    ),
    Cell(
        "acknowledged",
        Claimed(ALICE),
        Legal(ACK, "CLAIM-2", UPDATE, {"acknowledged_by": ALICE, "owner": ALICE}),
    ),
    Cell(
        "acknowledged",
        Assigned(BOB, CAROL),
        Legal(
            ACK,
            "ASSIGN-2",
            ASSIGN_EFFECTS,
            {"acknowledged_by": ALICE, "owner": CAROL, "assigned_by": BOB},
        ),
    ),
    Cell(
        "acknowledged",
        Unacknowledged(BOB),
        Legal(
            FIRE,
            "UNACK-1",
            UPDATE,
            {"acknowledged_by": None, "owner_deadline_at": None, **RESTARTED},
        ),
    ),
    Cell(
        "acknowledged",
        Snoozed(ALICE, SNOOZE_UNTIL),
        Legal(Status.SNOOZED, "SNOOZE-1", UPDATE, {"next_action_at": SNOOZE_UNTIL}),
    ),
    Cell(
        "acknowledged",
        EscalationRequested(ALICE, "need help"),
        Legal(
            WAIT,
            "ESC-1",
            (RequestApproval, UpdateWarning),
            {"resume_status": ACK, "approval_tier": 1, "acknowledged_by": ALICE},
        ),
    ),
    Cell("acknowledged", EscalationApproved(MGR1, 1), Illegal("APPROVAL-STALE")),
    Cell("acknowledged", EscalationDenied(MGR1, 1, "no"), Illegal("APPROVAL-STALE")),
    Cell(
        "acknowledged",
        StepDue(),
        Legal(
            ACK,
            "REMIND-1",
            (Remind(ALICE, at(13, 2)),),
            owner_clock(at(13, 2), at(13, 2)),
        ),
        when=at(12, 32),
    ),
    Cell(
        "acknowledged",
        StepDue(),
        Legal(
            ACK,
            "OWNER-LATE-1",
            (
                PostThreadNote(f"<@{ALICE}> missed the resolve deadline; escalation resumes."),
                Page(1, 0, TIER2, "OWNER-LATE-1"),
                UpdateWarning(),
            ),
            {"escalating": True, "tier": 1, "next_action_at": at(13, 12), "acknowledged_by": ALICE},
        ),
        when=at(13, 2),
    ),
    Cell("acknowledged", StepDue(), Illegal("STEP-EARLY")),
    Cell(
        "acknowledged",
        Resolved(BOB, "restarted", "capacity"),
        Legal(RES, "RESOLVE-1", RESOLVE_EFFECTS, {"acknowledged_by": ALICE, "resolved_by": BOB}),
    ),
    Cell(
        "acknowledged",
        ResolvedAtSource(),
        Legal(RES, "RESOLVE-2", RESOLVE_EFFECTS, {"acknowledged_by": ALICE, **CLOSED}),
    ),
    # --- acknowledged by ALICE, BOB owns it (assigned by ALICE at 12:03) ------------------
    Cell(
        "acknowledged_with_owner",
        AlertRefired(),
        Legal(ACK, "REFIRE-1", UPDATE, {"owner": BOB, "assigned_by": ALICE, "count": 2}),
    ),
    Cell("acknowledged_with_owner", Acknowledged(CAROL), Illegal("ACK-2")),
    Cell("acknowledged_with_owner", Claimed(BOB), Illegal("CLAIM-3")),
    Cell(
        "acknowledged_with_owner",
        Claimed(CAROL),
        Legal(
            ACK,
            "CLAIM-2",
            UPDATE,
            {
                "acknowledged_by": ALICE,
                "owner": CAROL,
                "assigned_by": None,
                "owner_since": NOW,
                **owner_clock(at(12, 50), at(13, 20)),
            },
        ),
    ),
    Cell("acknowledged_with_owner", Assigned(CAROL, BOB), Illegal("ASSIGN-3")),
    Cell(
        "acknowledged_with_owner",
        Assigned(CAROL, DAVE),
        Legal(
            ACK,
            "ASSIGN-2",
            (UpdateWarning(), PostThreadNote(f"<@{DAVE}>, you now own this alert.")),
            {"acknowledged_by": ALICE, "owner": DAVE, "assigned_by": CAROL},
        ),
    ),
    Cell(
        "acknowledged_with_owner",
        Unacknowledged(BOB),
        Legal(
            FIRE,
            "UNACK-1",
            UPDATE,
            {
                "acknowledged_by": None,
                "owner": None,
                "assigned_by": None,
                "owner_since": None,
                **RESTARTED,
            },
        ),
    ),
    Cell(
        "acknowledged_with_owner",
        Snoozed(BOB, SNOOZE_UNTIL),
        Legal(Status.SNOOZED, "SNOOZE-1", UPDATE, {"snoozed_until": SNOOZE_UNTIL}),
    ),
    Cell(
        "acknowledged_with_owner",
        EscalationRequested(BOB, "need the DBA"),
        Legal(
            WAIT,
            "ESC-1",
            (RequestApproval(1, 1, (MGR1, MGR2), "need the DBA", BOB), UpdateWarning()),
            {"resume_status": ACK, "owner": BOB},
        ),
    ),
    Cell("acknowledged_with_owner", EscalationApproved(MGR1, 1), Illegal("APPROVAL-STALE")),
    Cell("acknowledged_with_owner", EscalationDenied(MGR1, 1, "no"), Illegal("APPROVAL-STALE")),
    Cell(
        "acknowledged_with_owner",
        StepDue(),
        Legal(ACK, "REMIND-1", (Remind(BOB, at(13, 3)),), owner_clock(at(13, 3), at(13, 3))),
        when=at(12, 33),
    ),
    Cell(
        "acknowledged_with_owner",
        StepDue(),
        Legal(
            ACK,
            "OWNER-LATE-1",
            (
                PostThreadNote(f"<@{BOB}> missed the resolve deadline; escalation resumes."),
                Page(1, 0, TIER2, "OWNER-LATE-1"),
                UpdateWarning(),
            ),
            {"escalating": True, "owner": BOB, "next_action_at": at(13, 13)},
        ),
        when=at(13, 3),
    ),
    Cell("acknowledged_with_owner", StepDue(), Illegal("STEP-EARLY")),
    Cell(
        "acknowledged_with_owner",
        Resolved(BOB, "restarted", "capacity"),
        Legal(
            RES,
            "RESOLVE-1",
            RESOLVE_EFFECTS,
            {"owner": BOB, "resolved_by": BOB, "resolution_note": "restarted", **CLOSED},
        ),
    ),
    Cell(
        "acknowledged_with_owner",
        ResolvedAtSource(),
        Legal(RES, "RESOLVE-2", RESOLVE_EFFECTS, {"owner": BOB, "root_cause": None}),
    ),
    # --- snoozed by ALICE at 12:04 until 12:40 (tier 1 was paged) -------------------------
    Cell(
        "snoozed",
        AlertRefired(),
        Legal(Status.SNOOZED, "REFIRE-1", UPDATE, {"next_action_at": at(12, 40)}),
    ),
    Cell(
        "snoozed",
        Acknowledged(BOB),
        Legal(
            ACK,
            "ACK-1",
            UPDATE,
            {"acknowledged_by": BOB, "snoozed_until": None, **owner_clock(at(12, 50), at(13, 20))},
        ),
    ),
    Cell(
        "snoozed",
        Claimed(BOB),
        Legal(
            ACK, "CLAIM-1", UPDATE, {"owner": BOB, "acknowledged_by": BOB, "snoozed_until": None}
        ),
    ),
    Cell(
        "snoozed",
        Assigned(BOB, CAROL),
        Legal(ACK, "ASSIGN-1", ASSIGN_EFFECTS, {"owner": CAROL, "acknowledged_by": BOB}),
    ),
    Cell("snoozed", Unacknowledged(BOB), Illegal("UNACK-2")),
    Cell(
        "snoozed",
        Snoozed(BOB, at(13, 0)),
        Legal(
            Status.SNOOZED,
            "SNOOZE-1",
            UPDATE,
            {"snoozed_until": at(13, 0), "next_action_at": at(13, 0)},
        ),
    ),
    Cell("snoozed", Snoozed(BOB, NOW), Illegal("SNOOZE-3")),
    Cell(
        "snoozed",
        EscalationRequested(BOB, "can't wait"),
        Legal(
            WAIT,
            "ESC-1",
            (RequestApproval(1, 1, (MGR1, MGR2), "can't wait", BOB), UpdateWarning()),
            {"resume_status": FIRE, "snoozed_until": None, "next_action_at": at(12, 35)},
        ),
    ),
    Cell("snoozed", EscalationApproved(MGR1, 1), Illegal("APPROVAL-STALE")),
    Cell("snoozed", EscalationDenied(MGR1, 1, "no"), Illegal("APPROVAL-STALE")),
    Cell(
        "snoozed",
        StepDue(),
        Legal(
            FIRE,
            "SNOOZE-END",
            (Page(0, 0, TIER1, "SNOOZE-END"), UpdateWarning()),
            {
                "tier": 0,
                "escalating": True,
                "snoozed_until": None,
                "next_action_at": at(12, 45),
            },
        ),
        when=at(12, 40),
    ),
    Cell("snoozed", StepDue(), Illegal("STEP-EARLY")),
    Cell(
        "snoozed",
        Resolved(BOB, "fixed", "config"),
        Legal(RES, "RESOLVE-1", RESOLVE_EFFECTS, {"snoozed_until": None, **CLOSED}),
    ),
    Cell(
        "snoozed",
        ResolvedAtSource(),
        Legal(RES, "RESOLVE-2", RESOLVE_EFFECTS, {"snoozed_until": None, **CLOSED}),
    ),
    # --- awaiting approval to page tier 3 (asked by the policy at 12:16, seq 1) -----------
    Cell(
        "awaiting_approval",
        AlertRefired(),
        Legal(WAIT, "REFIRE-1", UPDATE, {"approval_seq": 1, "next_action_at": at(12, 31)}),
    ),
    Cell(
        "awaiting_approval",
        Acknowledged(ALICE),
        Legal(
            ACK,
            "ACK-1",
            (UpdateWarning(), WITHDRAWN),
            {
                "approval_tier": None,
                "resume_status": None,
                "acknowledged_by": ALICE,
                **owner_clock(at(12, 50), at(13, 20)),
            },
        ),
    ),
    Cell(
        "awaiting_approval",
        Claimed(ALICE),
        Legal(ACK, "CLAIM-1", (UpdateWarning(), WITHDRAWN), {"owner": ALICE}),
    ),
    Cell(
        "awaiting_approval",
        Assigned(ALICE, BOB),
        Legal(
            ACK,
            "ASSIGN-1",
            (UpdateWarning, PostThreadNote, CloseApproval),
            {"owner": BOB, "acknowledged_by": ALICE, "approval_tier": None},
        ),
    ),
    Cell("awaiting_approval", Unacknowledged(ALICE), Illegal("UNACK-2")),
    Cell("awaiting_approval", Snoozed(ALICE, SNOOZE_UNTIL), Illegal("SNOOZE-2")),
    Cell("awaiting_approval", EscalationRequested(ALICE, "now"), Illegal("ESC-3")),
    Cell(
        "awaiting_approval",
        EscalationApproved(MGR2, 1),
        Legal(
            FIRE,
            "APPROVE-1",
            (
                Page(2, 0, TIER3, "APPROVE-1"),
                UpdateWarning(),
                CloseApproval(1, f"approved by <@{MGR2}>"),
            ),
            # the last tier of cycle 0 with repeat 1: the chain starts again after 15 minutes
            {"tier": 2, "escalating": True, "approval_tier": None, "next_action_at": at(12, 35)},
        ),
    ),
    Cell("awaiting_approval", EscalationApproved(MGR1, 0), Illegal("APPROVAL-STALE")),
    Cell("awaiting_approval", EscalationApproved(MGR1, 2), Illegal("APPROVAL-STALE")),
    Cell(
        "awaiting_approval",
        EscalationDenied(MGR1, 1, "not yet"),
        Legal(
            FIRE,
            "DENY-1",
            (UpdateWarning(), CloseApproval(1, f"denied by <@{MGR1}>: not yet")),
            {"tier": 1, "approval_tier": None, "next_action_at": None, **NOBODY_DUE},
        ),
    ),
    Cell("awaiting_approval", EscalationDenied(MGR1, 2, "no"), Illegal("APPROVAL-STALE")),
    Cell(
        "awaiting_approval",
        StepDue(),
        Legal(
            FIRE,
            "APPROVAL-TIMEOUT-DENY",
            (UpdateWarning(), CloseApproval(1, "denied by timeout: no approver answered in time")),
            {"tier": 1, "next_action_at": None, **NOBODY_DUE},
        ),
        when=at(12, 31),
    ),
    Cell("awaiting_approval", StepDue(), Illegal("STEP-EARLY")),
    Cell(
        "awaiting_approval",
        Resolved(ALICE, "fixed", "config"),
        Legal(
            RES,
            "RESOLVE-1",
            (UpdateWarning, RecordResolution, CloseApproval),
            {"approval_tier": None, **CLOSED},
        ),
    ),
    Cell(
        "awaiting_approval",
        ResolvedAtSource(),
        Legal(RES, "RESOLVE-2", (UpdateWarning(), RecordResolution(), WITHDRAWN), CLOSED),
    ),
    # --- awaiting approval the owner BOB asked for (12:10, seq 1, tier 2) -----------------
    Cell(
        "awaiting_approval_acknowledged",
        AlertRefired(),
        Legal(WAIT, "REFIRE-1", UPDATE, {"resume_status": ACK}),
    ),
    Cell("awaiting_approval_acknowledged", Acknowledged(CAROL), Illegal("ACK-2")),
    Cell("awaiting_approval_acknowledged", Claimed(BOB), Illegal("CLAIM-3")),
    Cell(
        "awaiting_approval_acknowledged",
        Claimed(CAROL),
        Legal(
            ACK,
            "CLAIM-2",
            (UpdateWarning(), WITHDRAWN),
            {
                "acknowledged_by": ALICE,
                "acknowledged_at": at(12, 2),
                "owner": CAROL,
                **owner_clock(at(12, 50), at(13, 20)),
            },
        ),
    ),
    Cell(
        "awaiting_approval_acknowledged",
        Assigned(CAROL, DAVE),
        Legal(
            ACK,
            "ASSIGN-2",
            (UpdateWarning, PostThreadNote, CloseApproval),
            {"acknowledged_by": ALICE, "owner": DAVE, "assigned_by": CAROL},
        ),
    ),
    Cell(
        "awaiting_approval_acknowledged",
        Unacknowledged(BOB),
        Legal(
            FIRE,
            "UNACK-1",
            (UpdateWarning(), WITHDRAWN),
            {"owner": None, "approval_tier": None, "resume_status": None, **RESTARTED},
        ),
    ),
    Cell("awaiting_approval_acknowledged", Snoozed(BOB, SNOOZE_UNTIL), Illegal("SNOOZE-2")),
    Cell("awaiting_approval_acknowledged", EscalationRequested(BOB, "x"), Illegal("ESC-3")),
    Cell(
        "awaiting_approval_acknowledged",
        EscalationApproved(MGR1, 1),
        Legal(
            ACK,
            "APPROVE-1",
            (
                Page(1, 0, TIER2, "APPROVE-1"),
                UpdateWarning(),
                CloseApproval(1, f"approved by <@{MGR1}>"),
            ),
            # BOB keeps it: his deadline stands, reminders go on
            {"tier": 1, "owner": BOB, **owner_clock(at(12, 50), at(13, 3))},
        ),
    ),
    Cell(
        "awaiting_approval_acknowledged",
        EscalationDenied(MGR1, 1, "handle it"),
        Legal(
            ACK,
            "DENY-1",
            (UpdateWarning(), CloseApproval(1, f"denied by <@{MGR1}>: handle it")),
            {"tier": 0, "owner": BOB, **owner_clock(at(12, 50), at(13, 3))},
        ),
    ),
    Cell(
        "awaiting_approval_acknowledged",
        StepDue(),
        Legal(
            ACK,
            "APPROVAL-TIMEOUT-DENY",
            (UpdateWarning, CloseApproval),
            {"tier": 0, "owner": BOB, **owner_clock(at(12, 55), at(13, 3))},
        ),
        when=at(12, 25),
    ),
    Cell("awaiting_approval_acknowledged", StepDue(), Illegal("STEP-EARLY")),
    Cell(
        "awaiting_approval_acknowledged",
        Resolved(BOB, "fixed", "config"),
        Legal(RES, "RESOLVE-1", (UpdateWarning(), RecordResolution(), WITHDRAWN), CLOSED),
    ),
    Cell(
        "awaiting_approval_acknowledged",
        ResolvedAtSource(),
        Legal(RES, "RESOLVE-2", (UpdateWarning(), RecordResolution(), WITHDRAWN), CLOSED),
    ),
    # --- silenced by silence #7 until 12:40: counted, never shown, not escalated ----------
    Cell(
        "silenced",
        AlertRefired(),
        Legal(Status.SILENCED, "REFIRE-1", UPDATE, {"count": 2, "next_action_at": at(12, 40)}),
    ),
    *(
        Cell("silenced", event, Illegal("SILENCED-1"))
        for event in (
            Acknowledged(BOB),
            Claimed(BOB),
            Assigned(BOB, CAROL),
            Unacknowledged(BOB),
            Snoozed(BOB, SNOOZE_UNTIL),
            EscalationRequested(BOB, "help"),
            EscalationApproved(MGR1, 1),
            EscalationDenied(MGR1, 1, "no"),
            AcknowledgedAtSource(),
        )
    ),
    Cell(
        "silenced",
        StepDue(),
        Legal(
            FIRE,
            "SILENCE-END",
            (PostWarning(),),
            {
                "tier": -1,
                "escalating": True,
                "next_action_at": at(12, 41),
                "silence_id": None,
                "silenced_until": None,
            },
        ),
        when=at(12, 40),
    ),
    Cell("silenced", StepDue(), Illegal("STEP-EARLY")),
    Cell(
        "silenced",
        Resolved(BOB, "fixed", "config"),
        Legal(RES, "RESOLVE-1", RESOLVE_EFFECTS, {**CLOSED, "resolved_by": BOB}),
    ),
    Cell(
        "silenced",
        ResolvedAtSource(),
        Legal(RES, "RESOLVE-2", RESOLVE_EFFECTS, {**CLOSED, "resolved_by_source": True}),
    ),
    # --- resolved (by a person, and at the source): nothing applies any more ---------------
    *closed_cells("resolved"),
    *closed_cells("resolved_at_source"),
    *SOURCE_ACK_CELLS,
]

LEGAL = [c for c in CELLS if isinstance(c.expect, Legal)]
ILLEGAL = [c for c in CELLS if isinstance(c.expect, Illegal)]


def _legal(cell: Cell) -> Legal:
    assert isinstance(cell.expect, Legal)
    return cell.expect


def _apply(cell: Cell) -> Transition:
    return transition(STATES[cell.state], cell.event, policy=POLICY, now=cell.when)


def _effect_shape(
    actual: tuple[Effect, ...], expected: tuple[ExpectedEffect, ...]
) -> list[ExpectedEffect]:
    """``actual`` in the form of ``expected``: types where a type is expected."""
    return [
        type(a) if i < len(expected) and isinstance(expected[i], type) else a
        for i, a in enumerate(actual)
    ]


# --- table coverage -------------------------------------------------------------------------


def test_table_covers_every_event_type_in_every_status() -> None:
    event_types = set(typing.get_args(Event))
    assert len(event_types) == 13
    for state_name in STATES:
        covered = {type(c.event) for c in CELLS if c.state == state_name}
        missing = sorted(t.__name__ for t in event_types - covered)
        assert not missing, f"{state_name}: no test for {missing}"


def test_table_covers_every_status() -> None:
    assert {STATES[c.state].status for c in CELLS} == set(Status)


def test_table_cell_ids_are_unique() -> None:
    ids = [c.id for c in CELLS]
    assert len(ids) == len(set(ids))


def test_table_has_a_due_step_and_an_early_step_for_every_open_status() -> None:
    for name, state in STATES.items():
        if state.status is Status.RESOLVED:
            continue
        steps = [c for c in CELLS if c.state == name and isinstance(c.event, StepDue)]
        assert {c.expect.rule == "STEP-EARLY" for c in steps} == {True, False}, name


# --- legal cells ----------------------------------------------------------------------------


@pytest.mark.parametrize("cell", LEGAL, ids=lambda c: c.id)
def test_legal_transition_sets_status_rule_effects_and_fields(cell: Cell) -> None:
    expect = _legal(cell)

    result = _apply(cell)

    assert result.state.status is expect.status
    assert result.rule == expect.rule
    assert _effect_shape(result.effects, expect.effects) == list(expect.effects)
    for name, value in expect.fields.items():
        assert getattr(result.state, name) == value, name
    assert result.summary
    assert "\n" not in result.summary


@pytest.mark.parametrize("cell", LEGAL, ids=lambda c: c.id)
def test_legal_transition_keeps_fired_at_and_the_first_acknowledgement(cell: Cell) -> None:
    before = STATES[cell.state]

    result = _apply(cell)

    assert result.state.fired_at == T0
    if before.first_acknowledged_at is not None:
        assert result.state.first_acknowledged_at == before.first_acknowledged_at
    elif result.state.acknowledged_by is not None:
        assert result.state.first_acknowledged_at == cell.when


@pytest.mark.parametrize("cell", LEGAL, ids=lambda c: c.id)
def test_legal_transition_leaves_a_consistent_state(cell: Cell) -> None:
    state = _apply(cell).state

    if state.status is Status.RESOLVED:
        assert (state.next_action_at, state.snoozed_until) == (None, None)
        assert not state.escalating
    if state.status is Status.SNOOZED:
        assert state.next_action_at == state.snoozed_until
        assert not state.escalating
    else:
        assert state.snoozed_until is None
    if state.status is Status.AWAITING_APPROVAL:
        assert state.approval_tier is not None
        assert state.next_action_at is not None
        assert state.resume_status in (Status.FIRING, Status.ACKNOWLEDGED)
    else:
        assert (state.approval_tier, state.resume_status) == (None, None)
    if state.status is Status.ACKNOWLEDGED:  # by a person, or (ACK-SRC-1) by the source
        assert state.acknowledged_by is not None or state.acknowledged_at is not None
    if state.status is Status.FIRING:
        assert state.acknowledged_by is None
    if state.next_action_at not in (None, STATES[cell.state].next_action_at):
        assert state.next_action_at > cell.when


@pytest.mark.parametrize("cell", CELLS, ids=lambda c: c.id)
def test_transition_never_mutates_its_input(cell: Cell) -> None:
    state = STATES[cell.state]
    snapshot = dataclasses.astuple(state)
    policy_snapshot = POLICY.to_snapshot()

    try:
        result = _apply(cell)
    except IllegalTransition:
        pass
    else:
        assert result.state is not state

    assert dataclasses.astuple(state) == snapshot
    assert POLICY.to_snapshot() == policy_snapshot


# --- illegal cells --------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ILLEGAL, ids=lambda c: c.id)
def test_illegal_transition_raises_with_rule_label_and_message(cell: Cell) -> None:
    with pytest.raises(IllegalTransition) as caught:
        _apply(cell)

    assert caught.value.rule == cell.expect.rule
    assert caught.value.message
    assert str(caught.value) == caught.value.message


def test_closed_message_names_the_person_who_resolved() -> None:
    with pytest.raises(IllegalTransition, match=rf"already resolved \(by <@{ALICE}>\)"):
        transition(RESOLVED, Acknowledged(BOB), policy=POLICY, now=NOW)


def test_closed_message_names_the_source_when_resolved_at_source() -> None:
    with pytest.raises(IllegalTransition, match=r"already resolved \(by the source\)"):
        transition(RESOLVED_AT_SOURCE, Acknowledged(BOB), policy=POLICY, now=NOW)


def test_acknowledge_when_acknowledged_names_who_acknowledged() -> None:
    with pytest.raises(IllegalTransition, match=f"<@{ALICE}>"):
        transition(ACKED, Acknowledged(BOB), policy=POLICY, now=NOW)


def test_step_due_exactly_on_time_is_not_early() -> None:
    assert FIRING.next_action_at is not None
    on_time = transition(FIRING, StepDue(), policy=POLICY, now=FIRING.next_action_at)
    late = transition(
        FIRING, StepDue(), policy=POLICY, now=FIRING.next_action_at + timedelta(hours=1)
    )

    assert on_time.rule == late.rule == "STEP-1"


# --- details of single moves ----------------------------------------------------------------


def test_open_alert_fires_with_post_warning_and_schedules_tier_1() -> None:
    result = open_alert(fired_at=T0 - timedelta(minutes=2), policy=POLICY, now=T0)

    assert result.state.status is Status.FIRING
    assert result.state.fired_at == T0 - timedelta(minutes=2)
    assert result.state.last_seen_at == T0
    assert result.state.count == 1
    assert (result.state.tier, result.state.cycle, result.state.escalating) == (-1, 0, True)
    assert result.state.next_action_at == T0 + timedelta(seconds=60)
    assert result.effects == (PostWarning(),)
    assert result.rule == "FIRE-1"


def test_open_alert_under_a_policy_without_tiers_has_nothing_due() -> None:
    policy = EscalationPolicy(name="quiet", tiers=())

    result = open_alert(fired_at=T0, policy=policy, now=T0)

    assert result.state.next_action_at is None


def test_claim_from_another_owner_says_who_owned_it_and_clears_assigned_by() -> None:
    result = transition(OWNED, Claimed(CAROL), policy=POLICY, now=NOW)

    assert result.state.assigned_by is None
    assert result.state.acknowledged_at == at(12, 2)
    assert result.summary == f"claimed by <@{CAROL}> (was <@{BOB}>)"


def test_claim_when_firing_says_claimed_by() -> None:
    result = transition(FIRING, Claimed(ALICE), policy=POLICY, now=NOW)

    assert result.summary == f"claimed by <@{ALICE}>"


def test_assign_summary_names_both() -> None:
    result = transition(FIRING, Assigned(ALICE, BOB), policy=POLICY, now=NOW)

    assert result.summary == f"assigned to <@{BOB}> by <@{ALICE}>"


def test_resolve_by_person_records_who_when_note_and_root_cause() -> None:
    result = transition(
        ACKED, Resolved(BOB, "rolled back", "software change"), policy=POLICY, now=NOW
    )

    state = result.state
    assert state.resolved_by == BOB
    assert state.resolved_at == NOW
    assert state.resolved_by_source is False
    assert state.resolution_note == "rolled back"
    assert state.root_cause == "software change"
    assert "software change" in result.summary


def test_resolved_at_source_marks_resolved_by_source_and_no_person() -> None:
    result = transition(ACKED, ResolvedAtSource(), policy=POLICY, now=NOW)

    state = result.state
    assert state.resolved_by_source is True
    assert state.resolved_by is None
    assert state.resolution_note is None
    assert state.root_cause is None
    assert result.summary == "resolved at the source"


def test_refire_counts_and_moves_last_seen_but_not_the_schedule() -> None:
    first = transition(FIRING, AlertRefired(), policy=POLICY, now=at(12, 2))
    second = transition(first.state, AlertRefired(), policy=POLICY, now=at(12, 3))

    assert second.state.count == 3
    assert second.state.last_seen_at == at(12, 3)
    assert second.summary == "fired again (x3)"
    assert replace(second.state, count=1, last_seen_at=FIRING.last_seen_at) == FIRING


def test_escalation_request_without_approvers_pages_the_next_tier_at_once() -> None:
    policy = replace(POLICY, approvers=())

    result = transition(FIRING, EscalationRequested(ALICE, "db down"), policy=policy, now=NOW)

    assert result.rule == "ESC-2"
    assert result.effects == (Page(1, 0, TIER2, "ESC-2"), UpdateWarning())
    assert (result.state.status, result.state.tier) == (Status.FIRING, 1)
    assert result.state.next_action_at == NOW + timedelta(seconds=600)
    assert "db down" in result.summary


def test_escalation_request_beyond_the_last_tier_is_esc_4() -> None:
    last = replace(FIRING, tier=len(POLICY.tiers) - 1)

    with pytest.raises(IllegalTransition) as caught:
        transition(last, EscalationRequested(ALICE, "more"), policy=POLICY, now=NOW)

    assert caught.value.rule == "ESC-4"


def test_next_approver_timeout_asks_only_the_first_approver_then_the_next() -> None:
    policy = replace(POLICY, on_timeout=OnTimeout.NEXT_APPROVER)
    asked = transition(FIRING, EscalationRequested(ALICE, "db"), policy=policy, now=NOW)
    assert asked.effects[0] == RequestApproval(1, 1, (MGR1,), "db", ALICE)

    timed_out = transition(asked.state, StepDue(), policy=policy, now=at(12, 35))

    assert timed_out.rule == "APPROVAL-TIMEOUT-NEXT"
    assert timed_out.effects == (RequestApproval(1, 1, (MGR2,), "db", ALICE),)
    assert timed_out.state.status is Status.AWAITING_APPROVAL
    assert (timed_out.state.approval_seq, timed_out.state.approver_index) == (1, 1)
    assert timed_out.state.next_action_at == at(12, 50)


def test_approval_timeout_with_on_timeout_approve_pages_the_tier() -> None:
    policy = replace(POLICY, on_timeout=OnTimeout.APPROVE)

    result = transition(AWAITING, StepDue(), policy=policy, now=at(12, 31))

    assert result.rule == "APPROVAL-TIMEOUT-APPROVE"
    assert result.effects == (
        Page(2, 0, TIER3, "APPROVAL-TIMEOUT-APPROVE"),
        UpdateWarning(),
        CloseApproval(1, "approved by timeout"),
    )
    assert result.state.status is Status.FIRING


# --- the first acknowledgement --------------------------------------------------------------


def _run(state: AlertState, *steps: tuple[Event, datetime]) -> Transition:
    result = Transition(state, (), "", "")
    for event, when in steps:
        result = transition(result.state, event, policy=POLICY, now=when)
    return result


def test_first_acknowledgement_time_survives_unack_and_reack() -> None:
    result = _run(
        FIRING,
        (Acknowledged(ALICE), at(12, 2)),
        (Unacknowledged(ALICE), at(12, 5)),
        (Acknowledged(BOB), at(12, 30)),
        (Unacknowledged(BOB), at(12, 31)),
        (Claimed(CAROL), at(12, 40)),
    )

    assert (result.state.acknowledged_by, result.state.owner) == (CAROL, CAROL)
    assert result.state.acknowledged_at == at(12, 40)
    assert result.state.first_acknowledged_at == at(12, 2)
    assert time_to_acknowledge(result.state) == 120.0


@pytest.mark.parametrize("event", [Claimed(ALICE), Assigned(ALICE, BOB)], ids=["claim", "assign"])
def test_claim_and_assign_count_as_the_first_acknowledgement(event: Event) -> None:
    result = _run(
        FIRING,
        (event, T0 + timedelta(seconds=45)),
        (Unacknowledged(ALICE), at(12, 5)),
        (Acknowledged(CAROL), at(12, 9)),
    )

    assert time_to_acknowledge(result.state) == 45.0


def test_first_acknowledgement_survives_a_snooze_and_a_withdrawn_approval() -> None:
    result = _run(
        FIRING,
        (Acknowledged(ALICE), at(12, 2)),
        (Snoozed(ALICE, at(12, 10)), at(12, 3)),
        (StepDue(), at(12, 10)),
        (EscalationRequested(BOB, "db"), at(12, 11)),
        (Claimed(BOB), at(12, 12)),
    )

    assert result.state.first_acknowledged_at == at(12, 2)


def test_time_to_acknowledge_is_none_when_never_acknowledged() -> None:
    result = _run(FIRING, (AlertRefired(), NOW), (ResolvedAtSource(), NOW))

    assert time_to_acknowledge(result.state) is None


def test_time_to_resolve_is_seconds_from_firing_to_resolution() -> None:
    result = _run(
        FIRING,
        (Acknowledged(ALICE), at(12, 1)),
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
        EscalationPolicy,
        Tier,
        Target,
    ],
    ids=lambda c: c.__name__,
)
def test_state_events_effects_transitions_and_policies_are_frozen_dataclasses(cls: type) -> None:
    assert dataclasses.is_dataclass(cls)
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    assert params.frozen


def test_assigning_to_a_state_field_raises() -> None:
    field_name = "status"

    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(FIRING, field_name, Status.RESOLVED)

    assert FIRING.status is Status.FIRING


# --- the first step, taken as the alert opens ------------------------------------------------
AT_ONCE = replace(POLICY, tiers=(replace(POLICY.tiers[0], after_seconds=0), *POLICY.tiers[1:]))


def test_a_first_tier_with_no_delay_is_paged_as_the_alert_opens_without_an_edit() -> None:
    opened = open_alert(fired_at=T0, policy=AT_ONCE, now=T0)
    engine = transition(opened.state, StepDue(), policy=AT_ONCE, now=T0)
    stepped = step_at_once(opened.state, policy=AT_ONCE, now=T0)
    assert stepped is not None
    assert (stepped.state, stepped.rule, stepped.summary) == (
        engine.state,
        engine.rule,
        engine.summary,
    )
    # the warning is posted after this, from the stepped state: the engine's edit is left out
    assert [type(e) for e in engine.effects if isinstance(e, UpdateWarning)] == [UpdateWarning]
    assert stepped.effects == tuple(e for e in engine.effects if not isinstance(e, UpdateWarning))
    assert any(isinstance(e, Page) for e in stepped.effects)


def test_nothing_is_stepped_as_the_alert_opens_unless_its_first_tier_is_due() -> None:
    later = open_alert(fired_at=T0, policy=POLICY, now=T0).state  # tier 1 after 60 s
    assert step_at_once(later, policy=POLICY, now=T0) is None
    assert step_at_once(replace(later, next_action_at=None), policy=POLICY, now=T0) is None
    assert step_at_once(SILENCED, policy=POLICY, now=at(13, 0)) is None
    assert step_at_once(RESOLVED, policy=POLICY, now=at(13, 0)) is None
