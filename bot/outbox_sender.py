"""Delivers outbox rows to Slack: the warning message, its updates, its thread notes.

Messages are rendered at delivery time from the alert's current state, so a burst of
updates to one alert becomes one ``chat.update``. slack_sdk's retry handlers deal with
429s and connection errors; whatever still fails stays in the outbox and is tried again
later with a growing delay — never dropped.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from datetime import timedelta

import structlog
from slack_sdk.errors import SlackApiError

from bot.clock import Clock
from bot.deliveries import Deliveries
from bot.faults import NO_FAULTS, FaultPoints
from bot.metrics import Metrics
from bot.slack_health import SlackHealth, outcome_unknown
from bot.wakeup import Wakeup, run_until_cancelled
from storage import outbox
from storage.db import Database
from storage.recovery import release_outbox

log = structlog.get_logger("tocsin.outbox")
MAX_BACKOFF_SECONDS = 600


class OutboxSender:
    def __init__(
        self,
        *,
        db: Database,
        deliveries: Deliveries,
        clock: Clock,
        wakeup: Wakeup,
        poll_seconds: float,
        concurrency: int = 8,
        metrics: Metrics | None = None,
        health: SlackHealth | None = None,
        faults: FaultPoints = NO_FAULTS,
        lease: timedelta = timedelta(seconds=60),
    ) -> None:
        self._lease = lease
        self.health = health or SlackHealth(metrics=metrics)
        self._faults = faults
        self._metrics = metrics
        self._db = db
        self._deliveries = deliveries
        self._clock = clock
        self._wakeup = wakeup
        self._poll = poll_seconds
        self._limit = asyncio.Semaphore(concurrency)
        self._unfinished: set[int] = set()
        """Claimed rows whose attempt was cut short (the database went away): handed back as
        soon as it answers again, not when their lease runs out."""

    async def run(self) -> None:
        await run_until_cancelled(
            self.drain, wakeup=self._wakeup, poll_seconds=self._poll, name="outbox"
        )

    async def drain(self) -> int:
        """Deliver everything due now; returns how many rows were attempted."""
        if self.health.degraded and not await self._probe():
            return 0  # Slack is down: rows wait in the outbox, untouched, until a probe passes
        if self._unfinished:
            await release_outbox(self._db, sorted(self._unfinished), now=self._clock())
            self._unfinished.clear()
        total = 0
        while not self._wakeup.stopping and (
            claimed := await outbox.claim_due(self._db, now=self._clock(), lease=self._lease)
        ):
            self._unfinished.update(item.id for item in claimed)
            self._faults.reached("outbox_after_claim")
            by_alert: OrderedDict[int | None, list[outbox.Claimed]] = OrderedDict()
            for item in claimed:
                by_alert.setdefault(item.alert_id, []).append(item)
            await asyncio.gather(*(self._deliver_in_order(items) for items in by_alert.values()))
            self._unfinished.difference_update(item.id for item in claimed)
            total += len(claimed)
        return total

    async def _deliver_in_order(self, items: list[outbox.Claimed]) -> None:
        async with self._limit:
            for item in items:
                if not await self._deliver(item):
                    return  # later rows of this alert wait for this one

    async def _deliver(self, item: outbox.Claimed) -> bool:
        try:
            await self._send(item)
        except SlackApiError as exc:
            status = exc.response.status_code
            error = str(exc.response.get("error", "")) or f"HTTP {status}"
            retry_after = exc.response.headers.get("Retry-After") if status == 429 else None
            delay = int(retry_after) if retry_after and str(retry_after).isdigit() else None
            await self._retry_later(item, f"slack: {error}", delay, outcome_unknown(exc))
            self._count(item, "failed")
            return False
        except Exception as exc:
            await self._retry_later(item, f"{type(exc).__name__}: {exc}", None, True)
            self._count(item, "failed")
            return False
        await outbox.mark_done(self._db, [item.id], now=self._clock())
        self._count(item, "delivered")
        return True

    def _count(self, item: outbox.Claimed, outcome: str) -> None:
        metrics = self._metrics
        if metrics is None:
            return
        metrics.deliveries.labels(kind=item.kind, outcome=outcome).inc()
        if outcome != "delivered":
            return
        waited = max((self._clock() - item.created_at).total_seconds(), 0.0)
        metrics.delivery_latency.labels(kind=item.kind).observe(waited)
        if item.kind.startswith("page_"):
            metrics.pages.labels(kind=item.kind.removeprefix("page_")).inc()
        elif item.kind == "approval_request":
            metrics.approvals.labels(event="asked").inc()
        elif item.kind == "approval_close":
            decided = str(item.payload.get("outcome", "")).split(" ", 1)[0]
            metrics.approvals.labels(event=decided or "closed").inc()

    async def _probe(self) -> bool:
        """While Slack is degraded: one cheap call every few seconds; True once it passes."""
        now = self._clock()
        if not self.health.probe_due(now):
            return False
        since = self.health.degraded_since
        try:
            await self._deliveries.probe()  # the client reports the outcome to the health
        except Exception:
            self.health.not_yet(now)
            log.warning("slack_still_degraded", error=self.health.last_error)
            return False
        log.info("slack_recovered", degraded_since=str(since))
        return True

    async def _retry_later(
        self, item: outbox.Claimed, error: str, delay: int | None, in_doubt: bool
    ) -> None:
        seconds = delay if delay is not None else min(2**item.attempts, MAX_BACKOFF_SECONDS)
        log.warning(
            "outbox_delivery_failed",
            outbox_id=item.id,
            alert_id=item.alert_id,
            kind=item.kind,
            attempts=item.attempts,
            error=error,
            retry_in_s=seconds,
            in_doubt=in_doubt,
        )
        at = self._clock() + timedelta(seconds=seconds)
        await outbox.reschedule(self._db, item.id, at=at, error=error, in_doubt=in_doubt)

    async def _send(self, item: outbox.Claimed) -> None:
        await self._deliveries.deliver(item)
