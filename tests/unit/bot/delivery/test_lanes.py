"""Per-conversation pacing and 429 holds (bot.delivery.lanes)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from bot.delivery.lanes import Lane, LaneGate, Pacing, lane_of
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


def test_a_lane_takes_a_burst_then_one_write_per_second() -> None:
    gate = LaneGate(rate=1.0, burst=3)
    assert [gate.take("#alerts", at(0)) for _ in range(4)] == [True, True, True, False]
    assert gate.free_at("#alerts", at(0)) == at(1)
    assert not gate.take("#alerts", at(0.9))
    assert gate.take("#alerts", at(1))
    assert not gate.take("#alerts", at(1.5))


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
    assert [await pacing.take("dm:U1", at(0)) for _ in range(3)] == [None, None, at(1)]
    await pacing.hold("dm:U1", until=at(20), now=at(1))
    assert await pacing.take("dm:U1", at(5)) == at(20)
    assert await pacing.take("dm:U2", at(5)) is None


def test_a_write_with_a_spare_takes_a_slot_only_while_another_is_left_for_a_page() -> None:
    gate = LaneGate(rate=1.0, burst=3)
    assert gate.take("dm:U1", at(0))  # a page
    assert gate.take("dm:U1", at(0), spare=1)  # a link: one slot left after it
    assert not gate.take("dm:U1", at(0), spare=1)  # the last slot is the next page's
    assert gate.free_at("dm:U1", at(0), spare=1) == at(1)
    assert gate.take("dm:U1", at(0))  # a page still has it
