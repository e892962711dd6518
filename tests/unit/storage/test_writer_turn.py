"""Turns at SQLite's single writer (storage.writer_turn): the intake's commit goes before the
workers waiting, but never twice in a row while one of them waits."""

from __future__ import annotations

import asyncio

import pytest

from storage.writer_turn import WriterTurn


async def _served(turn: WriterTurn, waiters: list[tuple[str, bool]]) -> list[str]:
    """Hold the turn, queue ``waiters`` (name, urgent) in that order, then release: the order
    in which they were served."""
    order: list[str] = []

    async def wait(name: str, urgent: bool) -> None:
        async with turn.hold(urgent=urgent):
            order.append(name)
            await asyncio.sleep(0)  # hold it across a yield, as a transaction does

    await turn.acquire()
    tasks = []
    for name, urgent in waiters:
        tasks.append(asyncio.create_task(wait(name, urgent)))
        await asyncio.sleep(0)  # queued in this order
    turn.release()
    await asyncio.gather(*tasks)
    assert not turn.held
    return order


async def test_an_urgent_turn_goes_before_the_others_waiting() -> None:
    order = await _served(WriterTurn(), [("worker", False), ("engine", False), ("intake", True)])
    assert order == ["intake", "worker", "engine"]


async def test_urgent_turns_alternate_with_the_others_while_both_wait() -> None:
    waiters = [("w1", False), ("w2", False), ("i1", True), ("i2", True), ("i3", True)]
    order = await _served(WriterTurn(), waiters)
    assert order == ["i1", "w1", "i2", "w2", "i3"]


async def test_turns_of_one_kind_are_served_in_arrival_order() -> None:
    assert await _served(WriterTurn(), [("a", False), ("b", False), ("c", False)]) == [
        "a",
        "b",
        "c",
    ]
    assert await _served(WriterTurn(), [("a", True), ("b", True)]) == ["a", "b"]


async def test_a_waiter_cancelled_in_the_queue_is_skipped() -> None:
    turn = WriterTurn()
    await turn.acquire()
    gone = asyncio.create_task(turn.acquire(urgent=True))
    await asyncio.sleep(0)
    gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    turn.release()
    assert not turn.held  # nobody was left waiting
    await asyncio.wait_for(turn.acquire(), 1)
    assert turn.held


async def test_a_waiter_cancelled_as_it_is_given_the_turn_passes_it_on() -> None:
    turn = WriterTurn()
    await turn.acquire()
    first = asyncio.create_task(turn.acquire())
    second = asyncio.create_task(turn.acquire())
    await asyncio.sleep(0)
    turn.release()  # the turn is handed to ``first``…
    first.cancel()  # …which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.wait_for(second, 1)  # the turn was passed on, not lost
    assert turn.held
    turn.release()
    assert not turn.held


def test_releasing_a_turn_not_held_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="not held"):
        WriterTurn().release()
