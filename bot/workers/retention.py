"""Retention on a timer: processed webhook bodies older than ``TOCSIN_INBOX_RETENTION_DAYS``
are deleted in batches, at start and then every hour. The record (alerts, timelines,
resolutions, follow-ups) is never pruned."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog

from bot.runtime.clock import Clock
from storage.db import Database
from storage.upkeep.retention import prune_inbox

log = structlog.get_logger("tocsin.retention")


class InboxRetention:
    def __init__(
        self, *, db: Database, clock: Clock, days: int, every_seconds: float = 3600.0
    ) -> None:
        self._db = db
        self._clock = clock
        self._days = days
        self._every = every_seconds

    async def prune(self) -> int:
        """One pass; returns how many bodies were deleted."""
        cutoff = self._clock() - timedelta(days=self._days)
        deleted = await prune_inbox(self._db, older_than=cutoff)
        log.info("inbox_pruned", deleted=deleted, processed_before=cutoff.isoformat())
        return deleted

    async def run(self) -> None:
        if self._days <= 0:
            log.info("inbox_retention_off")
            return
        while True:
            try:
                await self.prune()
            except Exception:
                log.exception("inbox_prune_failed")
            await asyncio.sleep(self._every)
