"""The outbox sender runs again at every time it was asked for (bot.delivery.outbox_sender)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from bot.delivery.outbox_sender import OutboxSender
from bot.runtime.wakeup import Wakeup

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
