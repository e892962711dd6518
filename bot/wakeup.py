"""A wake-up signal for background loops: set by producers, awaited with a timeout."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Protocol

import structlog

log = structlog.get_logger("tocsin.worker")


class Signal(Protocol):
    def set(self) -> None: ...


class Wakeup:
    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    async def wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), seconds)
        self._event.clear()


class Fanout:
    """Several wake-ups set as one."""

    def __init__(self, *wakeups: Wakeup) -> None:
        self._wakeups = wakeups

    def set(self) -> None:
        for wakeup in self._wakeups:
            wakeup.set()


async def run_until_cancelled(
    drain: Callable[[], Awaitable[int]], *, wakeup: Wakeup, poll_seconds: float, name: str
) -> None:
    """Call ``drain`` again and again; when it found nothing, wait to be woken (or for the
    safety interval). An error is logged and the loop goes on."""
    while True:
        try:
            done = await drain()
        except Exception:
            log.exception("worker_error", worker=name)
            done = 0
        if done == 0:
            await wakeup.wait(poll_seconds)
