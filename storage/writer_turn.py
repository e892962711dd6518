"""Turns at SQLite's single writer, shared so that taking in an alert is never starved.

Every write to a SQLite file takes a turn (``Database.write``). In arrival order alone, a
webhook's commit — what its 2xx waits for, a few milliseconds of work — queued behind every
transaction of the workers that came first (the inbox worker's batch, the engine's steps,
the outbox's claims and a storm's folds), and the intake answered at the pace of all of
them together. An *urgent* turn (the intake's group commit) goes before the others waiting;
but never two urgent turns in a row while another waits, so the workers — which write the
pages — are never starved either: each side waits for at most one turn of the other.
"""

from __future__ import annotations

import asyncio
from collections import deque


class WriterTurn:
    """A lock whose waiters are served in arrival order, urgent ones first, alternating with
    the others while both wait."""

    def __init__(self) -> None:
        self._held = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._normal: deque[asyncio.Future[None]] = deque()
        self._last_urgent = False

    @property
    def held(self) -> bool:
        return self._held

    async def acquire(self, *, urgent: bool = False) -> None:
        if not self._held and not self._urgent and not self._normal:
            self._held = True
            self._last_urgent = urgent
            return
        queue = self._urgent if urgent else self._normal
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue.append(turn)
        try:
            await turn
        except BaseException:
            if turn in queue:
                queue.remove(turn)
            elif turn.done() and not turn.cancelled():
                self.release()  # given the turn as it was cancelled: pass it on
            raise

    def release(self) -> None:
        """End the holder's turn: hand it to the next waiter (the lock stays held), or free it."""
        if not self._held:
            raise RuntimeError("release of a writer turn not held")
        prefer_urgent = not self._last_urgent or not self._normal
        order = (self._urgent, self._normal) if prefer_urgent else (self._normal, self._urgent)
        for queue in order:
            while queue:
                turn = queue.popleft()
                if not turn.done():
                    self._last_urgent = queue is self._urgent
                    turn.set_result(None)
                    return
        self._held = False

    def hold(self, *, urgent: bool = False) -> _Held:
        """``async with turn.hold(urgent=…):`` — the turn for the block."""
        return _Held(self, urgent)


class _Held:
    __slots__ = ("_turn", "_urgent")

    def __init__(self, turn: WriterTurn, urgent: bool) -> None:
        self._turn, self._urgent = turn, urgent

    async def __aenter__(self) -> None:
        await self._turn.acquire(urgent=self._urgent)

    async def __aexit__(self, *_: object) -> None:
        self._turn.release()
