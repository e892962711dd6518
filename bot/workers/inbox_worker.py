"""Turns stored webhook bodies into alerts, in arrival order."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog
from sqlalchemy.exc import IntegrityError

from bot.runtime.clock import Clock
from bot.runtime.metrics import Metrics
from bot.runtime.wakeup import Signal, Wakeup, run_until_cancelled, unavailable
from storage.db import Database
from storage.intake import inbox
from storage.intake.ingest import IngestRules, process
from storage.upkeep.recovery import release_inbox

log = structlog.get_logger("tocsin.inbox")


class InboxWorker:
    def __init__(
        self,
        *,
        db: Database,
        rules: IngestRules,
        clock: Clock,
        wakeup: Wakeup,
        on_processed: Signal,
        poll_seconds: float,
        metrics: Metrics | None = None,
        lease: timedelta = timedelta(seconds=60),
    ) -> None:
        self._lease = lease
        self._metrics = metrics
        self._db = db
        self._rules = rules
        self._clock = clock
        self._wakeup = wakeup
        self._on_processed = on_processed
        self._poll = poll_seconds
        self._unfinished: set[int] = set()
        """Claimed but not processed when a drain was cut short (the database went away):
        handed back as soon as it answers again, not when their lease runs out."""

    async def run(self) -> None:
        await run_until_cancelled(
            self.drain, wakeup=self._wakeup, poll_seconds=self._poll, name="inbox"
        )

    async def drain(self) -> int:
        """Process everything pending now; returns how many bodies were handled."""
        if self._unfinished:
            await release_inbox(self._db, sorted(self._unfinished))
            self._unfinished.clear()
        total = 0
        while not self._wakeup.stopping and (
            items := await inbox.claim(self._db, now=self._clock(), lease=self._lease)
        ):
            self._unfinished.update(item.id for item in items)
            for item in items:
                await self._process(item)
                self._unfinished.discard(item.id)
                total += 1
            self._on_processed.set()
        return total

    async def _process(self, item: inbox.InboxItem) -> None:
        for attempt in (1, 2):
            try:
                outcome = await process(self._db, item, self._rules, now=self._clock())
            except IntegrityError:
                # Another replica opened the same fingerprint at the same moment: once more
                # and it is a repeat of that alert.
                if attempt == 2:
                    raise
                await asyncio.sleep(0)
                continue
            except Exception as exc:
                if unavailable(exc):
                    raise  # the database is away, not the body at fault: try it again
                log.exception("inbox_item_failed", inbox_id=item.id)
                await inbox.mark_failed(
                    self._db, item.id, now=self._clock(), error=f"{type(exc).__name__}: {exc}"
                )
                return
            if self._metrics is not None:
                waited = (self._clock() - item.received_at).total_seconds()
                self._metrics.ingest_latency.observe(max(waited, 0.0))
                if outcome.dropped:
                    noise = self._metrics.noise_dropped.labels(integration=item.integration)
                    noise.inc(outcome.dropped)
                self._metrics.regraded.inc(len(outcome.regraded))
            log.info(
                "inbox_processed",
                inbox_id=item.id,
                integration=item.integration,
                opened=outcome.opened,
                updated=outcome.updated,
                resolved=outcome.resolved,
                ignored=outcome.ignored,
                dropped=outcome.dropped,
                regraded=outcome.regraded,
            )
            return
