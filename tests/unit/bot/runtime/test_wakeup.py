"""bot.runtime.wakeup.run_until_cancelled: when a background loop drains again,
and when it waits."""

from __future__ import annotations

import asyncio

from bot.runtime.wakeup import Wakeup, run_until_cancelled


async def settle() -> None:
    """Let every ready task run (no clock involved: the loop waits for an hour at most)."""
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_drain_that_did_work_runs_again_at_once_until_it_finds_nothing() -> None:
    wakeup = Wakeup()
    results = iter([3, 1, 0])
    calls = 0

    async def drain() -> int:
        nonlocal calls
        calls += 1
        return next(results, 0)

    task = asyncio.create_task(
        run_until_cancelled(drain, wakeup=wakeup, poll_seconds=3600, name="test")
    )
    await settle()
    assert calls == 3  # 3 done, 1 done, nothing: then it waits
    wakeup.stop()
    await task


async def test_a_drain_that_arms_its_own_timer_waits_to_be_woken_even_after_work() -> None:
    wakeup = Wakeup()
    calls = 0

    async def drain() -> int:
        nonlocal calls
        calls += 1
        return 5

    task = asyncio.create_task(
        run_until_cancelled(
            drain, wakeup=wakeup, poll_seconds=3600, name="test", again_after_work=False
        )
    )
    await settle()
    assert calls == 1
    wakeup.set()  # the timer fired, or a producer has work
    await settle()
    assert calls == 2
    wakeup.stop()
    await task
    assert calls == 2
