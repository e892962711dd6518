"""The outbox sender runs again at every time it was asked for, and claims no more of a waiting
channel's rows than it must put back (bot.delivery.outbox_sender)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from bot.delivery.lanes import LaneGate
from bot.delivery.outbox_sender import OutboxSender
from bot.runtime.wakeup import Wakeup
from escalation.outbox_kinds import OutboxKind
from storage import outbox as outbox_module
from storage.outbox import Claimed

T0 = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def sender(wakeup: Wakeup) -> OutboxSender:
    nothing = cast(Any, None)  # the wake-ups touch neither the database nor Slack
    return OutboxSender(
        db=nothing, deliveries=nothing, clock=lambda: T0, wakeup=wakeup, poll_seconds=60
    )


async def test_a_later_wake_up_is_not_lost_behind_an_earlier_one() -> None:
    # a page put back until its DM's slot frees (later) after a channel row (sooner) must
    # be tried when its slot frees, not at the next poll a minute on
    loop = asyncio.get_running_loop()
    wakeup = Wakeup()
    outbox = sender(wakeup)
    start = loop.time()

    outbox._wake_at(T0 + timedelta(seconds=0.02))
    outbox._wake_at(T0 + timedelta(seconds=0.15))
    await wakeup.wait(5)
    first = loop.time() - start
    await wakeup.wait(5)
    second = loop.time() - start

    assert 0.02 <= first < 0.15
    assert 0.15 <= second < 1.0  # woken by its own time, not the 5 s timeout
    assert outbox._timer is None  # nothing more asked for


async def test_an_earlier_wake_up_asked_for_after_a_later_one_comes_first() -> None:
    loop = asyncio.get_running_loop()
    wakeup = Wakeup()
    outbox = sender(wakeup)
    start = loop.time()

    outbox._wake_at(T0 + timedelta(seconds=0.3))
    outbox._wake_at(T0 + timedelta(seconds=0.02))
    await wakeup.wait(5)

    assert loop.time() - start < 0.3
    assert outbox._timer is not None  # the later one still set


async def test_a_drain_claims_a_waiting_channels_rows_once_not_again_and_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Slack takes a message a second per channel: rows of a channel whose lane must wait are
    # put back until it frees; claiming the rest of its backlog would only put it back too
    backlog = [row(n, "#alerts") for n in range(1, 2001)] + [row(3001, "#db-alerts")]
    skipped: list[frozenset[str]] = []
    put_back: list[int] = []

    async def claim_due(_db: object, *, limit: int, skip: Collection[str], **_: object) -> Any:
        skipped.append(frozenset(skip))
        due = [r for r in backlog if r.channel not in skip and r.id not in put_back]
        return due[:limit]

    async def defer(_db: object, ids: list[int], **_: object) -> None:
        put_back.extend(ids)

    monkeypatch.setattr(outbox_module, "claim_due", claim_due)
    monkeypatch.setattr(outbox_module, "defer", defer)
    gate = LaneGate(burst=1)
    assert gate.take("#alerts", T0)  # each channel just wrote: its lane waits a second
    assert gate.take("#db-alerts", T0)
    nothing = cast(Any, None)
    sender = OutboxSender(
        db=nothing,
        deliveries=nothing,
        clock=lambda: T0,
        wakeup=Wakeup(),
        poll_seconds=60,
        gate=gate,
    )

    claimed = await sender.drain()

    assert claimed == 501  # one claim of 500 rows of #alerts, put back; then #db-alerts' row
    assert skipped == [frozenset(), {"#alerts"}, {"#alerts", "#db-alerts"}]
    assert len(put_back) == 501


def row(n: int, channel: str) -> Claimed:
    return Claimed(n, n, OutboxKind.POST_WARNING.value, {}, 1, T0, channel)
