"""One Tocsin instance for the benchmark, run as its own OS process (multiprocessing, spawn).

It builds what the service builds for escalation — its own ``Database`` and an
``EscalationEngine`` on the system clock — and then either runs the engine (APScheduler timer
and all) until told to stop, or, as after a restart, calls ``drain()`` once.

The only instrumentation: ``bot.workers.escalation_engine.step_due`` is wrapped to note, for every
call, the ``now`` it was given (which is the ``at`` of the timeline rows it writes), the
wall-clock time it returned (its transaction is committed by then) and how many it stepped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from typing import Any

import bot.workers.escalation_engine as engine_module
from bot.runtime.clock import system_clock
from bot.runtime.heap import freeze_startup_objects
from bot.runtime.logging_setup import configure_logging
from bot.runtime.wakeup import Wakeup
from bot.workers.escalation_engine import EscalationEngine
from escalation.ports import Directory
from storage.db import Database
from storage.escalations import step_due
from storage.upkeep.checkpoints import WalCheckpointer

StepLog = list[tuple[datetime, datetime, int]]
"""(``now`` given to step_due, when it returned, how many it stepped)."""


@dataclass(frozen=True, slots=True)
class InstanceSpec:
    index: int
    url: str
    mode: str
    """``engine``: run the engine until stopped; ``drain``: one ``drain()`` at ``start_at``."""
    safety_seconds: float = 5.0


class NoRotations:
    """The policies here page users only; nobody asks for a rotation."""

    def on_call(self, rotation: str, *, at: datetime) -> str | None:
        return None


def install_probe() -> StepLog:
    log: StepLog = []
    real = step_due  # the engine's step_due, imported there from storage.escalations

    async def timed_step_due(
        db: Database,
        *,
        now: datetime,
        directory: Directory,
        limit: int = 500,
        before_commit: Callable[[], None] | None = None,
    ) -> int:
        stepped = await real(
            db, now=now, directory=directory, limit=limit, before_commit=before_commit
        )
        log.append((now, datetime.now(UTC), stepped))
        return stepped

    vars(engine_module)["step_due"] = timed_step_due  # the name the engine calls
    return log


class SkippedWakeups(logging.Handler):
    """Counts APScheduler's "Execution of job … skipped: maximum number of running instances
    reached": a timer wake-up of the engine that did not happen (see bench/README.md)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "skipped: maximum number of running instances" in record.getMessage():
            self.count += 1


def peak_rss_mb() -> float:
    """This process's peak resident set size, in MB.

    ``getrusage(RUSAGE_SELF).ru_maxrss``, except that on Linux it survives ``execve``: a
    spawned process starts with its parent's peak at the moment it was forked. So where
    ``/proc/self/status`` exists its ``VmHWM`` (the peak of this process's own memory since
    exec; the same quantity, not inherited) is used, and ``ru_maxrss`` only otherwise."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_instance(
    spec: InstanceSpec,
    ready: Queue[int],
    go: Event,
    start_at: Any,
    stop: Event,
    results: Queue[dict[str, Any]],
) -> None:
    """Process entry point."""
    try:
        result = asyncio.run(_main(spec, ready, go, start_at, stop))
    except BaseException:
        result = {"index": spec.index, "error": traceback.format_exc()}
        with contextlib.suppress(Exception):
            ready.put(spec.index)
    results.put(result)


async def _until(event: Event, poll: float) -> None:
    """Wait for a multiprocessing event without blocking the loop (or holding a thread)."""
    while not event.is_set():  # noqa: ASYNC110 - a cross-process event, not an asyncio one
        await asyncio.sleep(poll)


async def _main(
    spec: InstanceSpec, ready: Queue[int], go: Event, start_at: Any, stop: Event
) -> dict[str, Any]:
    configure_logging(fmt="console", level="WARNING")
    skipped = SkippedWakeups()
    scheduler_log = logging.getLogger("apscheduler.scheduler")
    scheduler_log.addHandler(skipped)
    scheduler_log.propagate = False  # counted, not printed
    log = install_probe()
    db = Database(spec.url)
    engine = EscalationEngine(
        db=db,
        directory=NoRotations(),
        clock=system_clock,
        wakeup=Wakeup(),
        on_stepped=Wakeup(),
        safety_seconds=spec.safety_seconds,
    )
    # as ``tocsin serve``: the SQLite log checkpointed beside the writers
    checkpointer = WalCheckpointer.started_for(db)
    freeze_startup_objects()  # as ``tocsin serve`` does once the service is built
    ready.put(spec.index)
    result: dict[str, Any] = {"index": spec.index, "mode": spec.mode}
    try:
        if spec.mode == "engine":
            await _until(go, 0.01)
            task = asyncio.create_task(engine.run())
            await _until(stop, 0.1)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        else:
            await _until(go, 0.002)
            delay = start_at.value - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            result["started"] = datetime.now(UTC)
            result["drained"] = await engine.drain()
            result["ended"] = datetime.now(UTC)
    finally:
        if checkpointer is not None:
            await checkpointer.stop()
        await db.dispose()
    result["steps"] = log
    result["skipped_wakeups"] = skipped.count
    result["rss_mb"] = peak_rss_mb()
    result["ru_maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result
