"""Hypothesis runs synchronous test functions: run them in a worker thread while the service
keeps serving on the test's event loop, and let them call coroutines on that loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class OnLoop:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def __call__(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=60)


async def in_thread(run: Callable[[OnLoop], None]) -> None:
    """Run ``run(on_loop)`` in a thread; ``on_loop(coro)`` runs ``coro`` on this loop."""
    await asyncio.to_thread(run, OnLoop(asyncio.get_running_loop()))
