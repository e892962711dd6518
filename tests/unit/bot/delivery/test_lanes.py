"""Per-conversation pacing and 429 holds (bot.delivery.lanes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.delivery.lanes import LaneGate, lane_of
from storage.outbox import Claimed

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def claimed(kind: str, payload: dict[str, object] | None = None) -> Claimed:
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
    assert lane_of(claimed("post_warning")).key == "#alerts"
    assert lane_of(claimed("update_warning")).channel == "#alerts"
    assert lane_of(claimed("thread_note")).key == "#alerts"
    assert lane_of(claimed("page_dm", {"user": "U0ALICE"})).key == "dm:U0ALICE"
    assert lane_of(claimed("reminder", {"user": "U0BOB"})).key == "dm:U0BOB"
    assert lane_of(claimed("approval_request", {"approver": "U0DAVE"})).key == "dm:U0DAVE"
    assert lane_of(claimed("page_channel", {"channel": "#managers"})).key == "#managers"
    webhook = lane_of(claimed("page_webhook", {"webhook": "sms"}))
    assert (webhook.key, webhook.paced) == ("webhook:sms", False)
