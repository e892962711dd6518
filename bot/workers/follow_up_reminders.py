"""Follow-up reminders on a timer. Each open follow-up holds its ``next_remind_at`` in the
database; APScheduler wakes this loop at the earliest one (and on a safety interval), and
the due ones are claimed and their reminder DMs queued in the outbox — so a restart or a
second replica never loses or doubles a reminder.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.runtime.clock import Clock
from bot.runtime.wakeup import Wakeup, run_until_cancelled
from storage.db import Database
from storage.record.follow_ups import next_reminder_at, remind_due

log = structlog.get_logger("tocsin.follow_ups")
NEXT_DUE_JOB = "tocsin-follow-up-next-due"


class FollowUpReminders:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        every_seconds: int,
        on_queued: Wakeup,
        safety_seconds: float = 60.0,
    ) -> None:
        self._db = db
        self._clock = clock
        self._every = every_seconds
        self._on_queued = on_queued
        self._safety = safety_seconds
        self._wakeup = Wakeup()
        self._scheduler: Any = None

    async def run(self) -> None:
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(
            self._wake,
            "interval",
            seconds=self._safety,
            id="tocsin-follow-up-safety",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        scheduler.start()
        self._scheduler = scheduler
        try:
            await run_until_cancelled(
                self.drain, wakeup=self._wakeup, poll_seconds=self._safety, name="follow_ups"
            )
        finally:
            scheduler.shutdown(wait=False)
            self._scheduler = None

    async def _wake(self) -> None:
        self._wakeup.set()

    async def drain(self) -> int:
        """Queue every reminder due now; then arm the timer for the next one."""
        total = 0
        while queued := await remind_due(self._db, now=self._clock(), every_seconds=self._every):
            total += queued
        if total:
            log.info("follow_up_reminders_queued", count=total)
            self._on_queued.set()
        await self._arm()
        return total

    async def _arm(self) -> None:
        if self._scheduler is None:
            return
        due = await next_reminder_at(self._db)
        if due is None:
            if self._scheduler.get_job(NEXT_DUE_JOB) is not None:
                self._scheduler.remove_job(NEXT_DUE_JOB)
            return
        self._scheduler.add_job(
            self._wake,
            "date",
            run_date=max(due, self._clock() + timedelta(milliseconds=1)),
            id=NEXT_DUE_JOB,
            replace_existing=True,
            misfire_grace_time=None,
        )
