"""Escalation timers. The database holds each alert's ``next_action_at``; APScheduler wakes
the engine at the earliest one and on a short safety interval. The engine claims the due
alerts and steps them (storage.escalations), so nothing lives only in scheduler memory: a
restart or a second replica never loses or doubles a step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, timedelta
from typing import Any

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.runtime.clock import Clock
from bot.runtime.faults import NO_FAULTS, FaultPoints
from bot.runtime.metrics import Metrics
from bot.runtime.wakeup import Wakeup, run_until_cancelled
from bot.workers.handoffs import Handoffs
from bot.workers.heartbeats import Heartbeats
from escalation.ports import Directory
from storage.db import Database
from storage.escalations import next_wake_at, step_due
from storage.noise import silences

log = structlog.get_logger("tocsin.escalation")
NEXT_DUE_JOB = "tocsin-next-due"


class EscalationEngine:
    def __init__(
        self,
        *,
        db: Database,
        directory: Directory,
        clock: Clock,
        wakeup: Wakeup,
        on_stepped: Wakeup,
        safety_seconds: float = 5.0,
        batch: int = 500,
        handoffs: Handoffs | None = None,
        metrics: Metrics | None = None,
        faults: FaultPoints = NO_FAULTS,
        refresh_overrides: Callable[[], Awaitable[None]] | None = None,
        heartbeats: Heartbeats | None = None,
    ) -> None:
        self._faults = faults
        self._refresh_overrides = refresh_overrides
        self._heartbeats = heartbeats
        self._metrics = metrics
        self._db = db
        self._directory = directory
        self._clock = clock
        self._wakeup = wakeup
        self._on_stepped = on_stepped
        self._safety = safety_seconds
        self._batch = batch
        self._scheduler: Any = None
        self._handoffs = handoffs

    def start_scheduler(self) -> None:
        """Start APScheduler in the running loop: a safety tick, plus the next-due job."""
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(
            self._wake,
            "interval",
            seconds=self._safety,
            id="tocsin-safety-tick",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        if self._handoffs is not None:
            scheduler.add_job(
                self._handoffs.check,
                "interval",
                minutes=1,
                id="tocsin-handoffs",
                coalesce=True,
                max_instances=1,
                misfire_grace_time=None,
            )
        scheduler.start()
        self._scheduler = scheduler

    async def _wake(self) -> None:
        """APScheduler runs coroutine jobs on the event loop (a plain function would run in a
        worker thread, where setting an asyncio.Event is not safe)."""
        self._wakeup.set()

    def stop_scheduler(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None

    async def run(self) -> None:
        self.start_scheduler()
        try:
            # drain() steps until nothing is due and arms the timer for the next due time;
            # a drain at once after it would find nothing (~half of all drains, before)
            await run_until_cancelled(
                self.drain,
                wakeup=self._wakeup,
                poll_seconds=self._safety,
                name="escalation",
                again_after_work=False,
            )
        finally:
            self.stop_scheduler()

    async def drain(self) -> int:
        """Step everything due now (in batches); then arm the timer for the next due time.
        The overrides made from Slack are read first: the pages written here go to whoever is
        on call with them (bot.policy.stored_overrides)."""
        if self._refresh_overrides is not None:
            await self._refresh_overrides()
        total = await silences.run_due(self._db, now=self._clock())
        if self._heartbeats is not None:
            total += await self._heartbeats.check()  # it wakes the delivery itself
        if total:
            self._on_stepped.set()
        while True:
            now = self._clock()
            stepped = await step_due(
                self._db,
                now=now,
                directory=self._directory,
                limit=self._batch,
                before_commit=lambda: self._faults.reached("escalation_before_commit"),
            )
            total += stepped
            if stepped:
                self._faults.reached("escalation_after_commit")
                self._on_stepped.set()
                if self._metrics is not None:
                    self._metrics.escalation_steps.inc(stepped)
                log.info("escalations_stepped", count=stepped)
            if stepped < self._batch or self._wakeup.stopping:
                break
        await self._arm()
        return total

    async def _arm(self) -> None:
        if self._scheduler is None:
            return
        due = await next_wake_at(self._db)
        if self._heartbeats is not None:
            beat = await self._heartbeats.next_due()
            due = beat if due is None or (beat is not None and beat < due) else due
        if due is None:
            job = self._scheduler.get_job(NEXT_DUE_JOB)
            if job is not None:
                job.remove()
            return
        now = self._clock()
        run_at = max(due, now + timedelta(milliseconds=1))
        self._scheduler.add_job(
            self._wake,
            "date",
            run_date=run_at,
            id=NEXT_DUE_JOB,
            replace_existing=True,
            misfire_grace_time=None,
        )
