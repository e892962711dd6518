"""Per-conversation pacing and 429 holds (bot.delivery.lanes)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from bot.delivery.lanes import SPARE, Lane, LaneGate, Pacing, lane_of
from escalation.outbox_kinds import (
    CHANNEL_KINDS,
    ApprovalRequestPayload,
    OutboxKind,
    PageChannelPayload,
    PageWebhookPayload,
    page_dm,
    reminder,
)
from storage.outbox import Claimed
from tests.unit.escalation.test_outbox_kinds import SAMPLES

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def claimed(kind: str, payload: Mapping[str, object] | None = None) -> Claimed:
    return Claimed(1, 7, kind, dict(payload or {}), 1, T0, "#alerts")


def test_a_lane_takes_a_burst_then_one_write_per_second_keeping_a_margin_in_hand() -> None:
    gate = LaneGate(rate=1.0, burst=3)
    # the third of a burst waits 50 ms: a lane keeps LATE_WRITE in hand against lateness
    assert [gate.take("#alerts", at(0)) for _ in range(3)] == [True, True, False]
    assert gate.free_at("#alerts", at(0)) == at(0.05)
    assert gate.take("#alerts", at(0.05))
    assert gate.free_at("#alerts", at(0.05)) == at(1.05)
    assert not gate.take("#alerts", at(1))
    assert gate.take("#alerts", at(1.05))
    assert not gate.take("#alerts", at(1.5))
    assert gate.take("#alerts", at(2.05))  # then exactly one a second


def test_a_write_done_late_counts_from_its_end_and_a_quick_one_from_its_slot() -> None:
    slow, quick = LaneGate(rate=1.0, burst=1), LaneGate(rate=1.0, burst=1)
    assert slow.take("dm:U1", at(0))
    assert quick.take("dm:U1", at(0))

    slow.wrote("dm:U1", at(0.3))  # rendering and the call took 0.3 s
    quick.wrote("dm:U1", at(0.02))

    # Slack saw the slow write arrive up to 0.3 s late: the next must not reach it earlier
    # than a second after that (less the margin kept in hand)
    assert slow.free_at("dm:U1", at(0.3)) == at(1.25)
    assert quick.free_at("dm:U1", at(0.02)) == at(1)  # keeps exactly Slack's rate


def test_lanes_are_paced_independently() -> None:
    gate = LaneGate(rate=1.0, burst=1)
    assert gate.take("#alerts", at(0))
    assert not gate.take("#alerts", at(0))
    assert gate.take("#db-alerts", at(0))
    assert gate.take("dm:U0ALICE", at(0))


def test_a_429_holds_only_its_lane_until_retry_after() -> None:
    gate = LaneGate(rate=1.0, burst=3)
    gate.hold("#alerts", until=at(30), now=at(0))
    assert gate.free_at("#alerts", at(0)) == at(30)
    assert not gate.take("#alerts", at(29))
    assert gate.take("#db-alerts", at(0))
    assert gate.take("#alerts", at(30))


def test_idle_lanes_are_forgotten_but_held_ones_are_kept() -> None:
    gate = LaneGate(rate=1.0, burst=3)
    gate.take("#a", at(0))
    gate.hold("#b", until=at(100), now=at(0))
    gate.forget_idle(at(10))
    assert gate.free_at("#b", at(10)) == at(100)
    assert gate.take("#a", at(10))


def test_each_kind_of_delivery_goes_to_the_lane_of_the_conversation_it_writes_to() -> None:
    asked = ApprovalRequestPayload(seq=1, tier=1, reason="db down", by=None, approver="U0DAVE")
    assert lane_of(claimed(OutboxKind.POST_WARNING)).key == "#alerts"
    assert lane_of(claimed(OutboxKind.UPDATE_WARNING)).channel == "#alerts"
    assert lane_of(claimed(OutboxKind.THREAD_NOTE)).key == "#alerts"
    dm = page_dm(tier=0, cycle=0, rule="STEP-1", user="U0ALICE")
    assert lane_of(claimed(OutboxKind.PAGE_DM, dm)).key == "dm:U0ALICE"
    assert lane_of(claimed(OutboxKind.REMINDER, reminder(user="U0BOB", deadline=None))).key == (
        "dm:U0BOB"
    )
    assert lane_of(claimed(OutboxKind.APPROVAL_REQUEST, asked)).key == "dm:U0DAVE"
    paged = PageChannelPayload(tier=0, cycle=0, rule="STEP-1", channel="#managers")
    assert lane_of(claimed(OutboxKind.PAGE_CHANNEL, paged)).key == "#managers"
    hook = PageWebhookPayload(tier=0, cycle=0, rule="STEP-1", webhook="sms")
    webhook = lane_of(claimed(OutboxKind.PAGE_WEBHOOK, hook))
    assert (webhook.key, webhook.paced) == ("webhook:sms", False)


def test_the_kinds_of_the_channel_lane_are_those_a_hold_on_the_channel_holds() -> None:
    on_channel = {
        kind for kind in OutboxKind if lane_of(claimed(kind, SAMPLES[kind])).channel == "#alerts"
    }

    assert on_channel == set(CHANNEL_KINDS)


def test_a_row_this_version_cannot_read_gets_a_lane_of_its_own_not_paced() -> None:
    unknown = lane_of(claimed("page_carrier_pigeon", {"user": "U0ALICE"}))
    unreadable = lane_of(claimed(OutboxKind.PAGE_DM, {"user": 42}))

    assert unknown == unreadable == Lane("row:1", paced=False)


async def test_pacing_without_a_shared_database_answers_from_the_gate() -> None:
    pacing = Pacing(LaneGate(rate=1.0, burst=2))
    assert not pacing.shared
    assert [await pacing.take("dm:U1", at(0)) for _ in range(2)] == [None, at(0.05)]
    await pacing.wrote("dm:U1", at(0.5))  # the first write done late: counted from 0.45
    assert await pacing.take("dm:U1", at(0.5)) is None
    assert await pacing.take("dm:U1", at(0.5)) == at(1.5)  # not 1.05: 0.45 s not refilled
    await pacing.hold("dm:U1", until=at(20), now=at(1))
    assert await pacing.take("dm:U1", at(5)) == at(20)
    assert await pacing.take("dm:U2", at(5)) is None


def test_a_write_with_a_spare_takes_a_slot_only_while_that_many_are_left_for_pages() -> None:
    gate = LaneGate(rate=1.0, burst=3)
    assert gate.take("dm:U1", at(0))  # a page
    assert not gate.take("dm:U1", at(0), spare=2)  # a link waits while pages may follow
    assert gate.free_at("dm:U1", at(0), spare=2) == at(1)  # until the bucket is full again
    assert gate.take("dm:U1", at(0))  # the next page has its slot
    assert gate.take("dm:U1", at(3), spare=2)  # the DM quiet again: the link goes

    assert SPARE[OutboxKind.PAGE_LINK.value] == 2  # what a page's link to its warning keeps
