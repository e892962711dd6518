"""A wake-up signal for background loops: set by producers, awaited with a timeout."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Protocol

import structlog
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

log = structlog.get_logger("tocsin.worker")


class Signal(Protocol):
    def set(self) -> None: ...


class Wakeup:
    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.stopping = False

    def set(self) -> None:
        self._event.set()

    def stop(self) -> None:
        """Ask the loop to finish what it holds and return (graceful shutdown)."""
        self.stopping = True
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


MAX_ERROR_BACKOFF_SECONDS = 10.0


def unavailable(exc: BaseException) -> bool:
    """The database (or the network) is away: expected in an outage, logged without a
    traceback; anything else is a bug and gets one."""
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or isinstance(exc, (OperationalError, InterfaceError))
    return isinstance(exc, (OSError, TimeoutError))


CONFLICTS = frozenset({"40P01", "40001"})
"""PostgreSQL's ``deadlock_detected`` and ``serialization_failure``: the transaction lost a
race with another (a replica, a button) and was rolled back whole; run again, it sees what
the other wrote."""


def conflict(exc: BaseException) -> bool:
    """The database rolled the transaction back for a race with another one: nothing in
    what it was given is at fault, and the same work done again succeeds."""
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in CONFLICTS


async def run_until_cancelled(
    drain: Callable[[], Awaitable[int]],
    *,
    wakeup: Wakeup,
    poll_seconds: float,
    name: str,
    again_after_work: bool = True,
) -> None:
    """Call ``drain`` again and again; when it found nothing, wait to be woken (or for the
    safety interval). An error (the database gone, say) is logged and the loop goes on,
    waiting longer after each error in a row (up to 10 s) and as usual after a success.
    Returns once ``wakeup.stop()`` was called and the current drain is over.

    ``again_after_work=False``: wait to be woken even after a drain that did something — for
    a drain that itself works until nothing is left and arms a timer for what comes next."""
    errors = 0
    while not wakeup.stopping:
        try:
            done = await drain()
        except Exception as exc:
            errors += 1
            if errors == 1 and not unavailable(exc):
                log.exception("worker_error", worker=name)
            else:
                log.warning("worker_error", worker=name, error=repr(exc)[:300], in_a_row=errors)
            await wakeup.wait(min(poll_seconds * 2 ** (errors - 1), MAX_ERROR_BACKOFF_SECONDS))
            continue
        if errors:
            log.info("worker_recovered", worker=name, after_errors=errors)
            errors = 0
        if (done == 0 or not again_after_work) and not wakeup.stopping:
            await wakeup.wait(poll_seconds)
