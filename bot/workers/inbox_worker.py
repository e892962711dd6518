"""Turns stored webhook bodies into alerts, in arrival order.

Bodies are claimed ``batch_bodies`` at a time and processed many to a transaction
(``storage.intake.batch_ingest``), at most ``batch_events`` events each, so one transaction
never holds SQLite's single writer for long; the worker yields between transactions, and the
webhook intake's commits, queued on the same writer, go in between (the writer's lock is
first come, first served). A transaction that fails for any reason but the database being
away is done again body by body, so only a bad body is marked failed.

Given the live directory (who is on call), the worker pages a new alert whose first tier is
due at once in the transaction that opens it — what the escalation engine would do at its
next drain, less a transaction, a claim and a hop on the way to the person's phone. The
stored overrides are read first, as the engine reads them before every drain."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import structlog
from sqlalchemy.exc import IntegrityError

from bot.runtime.clock import Clock
from bot.runtime.faults import NO_FAULTS, FaultPoints
from bot.runtime.metrics import Metrics
from bot.runtime.wakeup import Signal, Wakeup, conflict, run_until_cancelled, unavailable
from escalation.ports import Directory
from storage.db import Database
from storage.intake import inbox
from storage.intake.batch_ingest import Body, process_batch
from storage.intake.ingest import IngestOutcome, IngestRules, parse, process
from storage.intake.open_alerts import KeptOpen
from storage.upkeep.recovery import release_inbox

log = structlog.get_logger("tocsin.inbox")

RACES = 5
"""Times a transaction PostgreSQL rolled back for a race with another one (a deadlock, a
serialization failure) is run at most."""


def _again(exc: BaseException, attempt: int) -> bool:
    """Whether a transaction that failed with ``exc`` on its ``attempt``-th run is run
    again: a unique index hit (another replica opened the fingerprint) once, a deadlock or a
    serialization failure up to :data:`RACES` times."""
    if isinstance(exc, IntegrityError):
        return attempt == 1
    return conflict(exc) and attempt < RACES


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
        batch_bodies: int = 200,
        batch_events: int = 1000,
        directory: Directory | None = None,
        refresh_overrides: Callable[[], Awaitable[None]] | None = None,
        faults: FaultPoints = NO_FAULTS,
    ) -> None:
        self._directory = directory
        self._refresh_overrides = refresh_overrides
        self._faults = faults
        self._lease = lease
        self._batch_bodies = batch_bodies
        self._batch_events = batch_events
        self._metrics = metrics
        self._db = db
        self._rules = rules
        self._clock = clock
        self._wakeup = wakeup
        self._on_processed = on_processed
        self._poll = poll_seconds
        self.parsed = inbox.ParsedBodies()
        """Bodies this process's intake parsed as they came in: not parsed again."""
        self.kept = KeptOpen()
        """Open alerts as this worker's transactions left them: not read whole again while
        their rows are as written (``storage.intake.open_alerts``)."""
        self._unfinished: set[int] = set()
        """Claimed but not processed when a drain was cut short (the database went away):
        handed back as soon as it answers again, not when their lease runs out."""

    def use_rules(self, rules: IngestRules) -> None:
        """Turn bodies into alerts by ``rules`` from the next one on (a reloaded policy)."""
        self._rules = rules

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
            items := await inbox.claim(
                self._db, now=self._clock(), limit=self._batch_bodies, lease=self._lease
            )
        ):
            self._unfinished.update(item.id for item in items)
            if self._directory is not None and self._refresh_overrides is not None:
                await self._refresh_overrides()  # the pages written below go to who is on call
            bodies: list[Body] = []
            for item in items:
                try:
                    kept = self.parsed.take(item.id, self._rules)
                    bodies.append(Body(item, parse(item, self._rules, parsed=kept)))
                except Exception:  # unreadable: alone, to be marked failed as always
                    await self._process(item)
                    self._unfinished.discard(item.id)
            for batch in self._cut(bodies):
                await self._process_batch(batch)
            total += len(items)
            self._on_processed.set()
        return total

    def _cut(self, bodies: list[Body]) -> list[list[Body]]:
        """Transactions of at most ``batch_events`` events, in arrival order (a body with
        more is a transaction of its own)."""
        batches: list[list[Body]] = []
        events = 0
        for body in bodies:
            if not batches or (batches[-1] and events + len(body.events) > self._batch_events):
                batches.append([])
                events = 0
            batches[-1].append(body)
            events += len(body.events)
        return batches

    async def _process_batch(self, batch: list[Body]) -> None:
        """The batch in as few transactions as its events' cost allows (``batch_events``,
        an event on the ORM path weighing more); body by body when one fails but for the
        database being away or a lost race (:meth:`_transaction`)."""
        while batch:
            outcomes = await self._transaction(batch)
            if outcomes is None:
                for body in batch:
                    await self._process(body.item)
                    self._unfinished.discard(body.item.id)
                return
            for body, outcome in zip(batch, outcomes, strict=False):
                self._done(body.item, outcome, alone=False)
                self._unfinished.discard(body.item.id)
            if outcomes:
                _log_batch([body.item.id for body in batch[: len(outcomes)]], outcomes)
            batch = batch[len(outcomes) :]
            await asyncio.sleep(0)  # between transactions, others take the writer

    async def _transaction(self, batch: list[Body]) -> list[IngestOutcome] | None:
        """One transaction of the batch's first bodies: their outcomes, or ``None`` when it
        failed for what the bodies hold. Done again when it lost a race — once when another
        replica opened the same fingerprint at the same moment (then it is a repeat of that
        alert), up to :data:`RACES` times when PostgreSQL rolled it back for a deadlock or a
        serialization failure (the bodies are not at fault; one by one they would take the
        slow path, and lose the same race again)."""
        for attempt in range(1, RACES + 1):
            try:
                return await process_batch(
                    self._db,
                    batch,
                    self._rules,
                    now=self._clock(),
                    budget=self._batch_events,
                    directory=self._directory,
                    before_commit=lambda: self._faults.reached("inbox_before_commit"),
                    after_commit=lambda: self._faults.reached("inbox_after_commit"),
                    kept=self.kept,
                )
            except Exception as exc:
                if unavailable(exc):
                    raise  # the database is away, not the bodies at fault: try them again
                if _again(exc, attempt):
                    log.info("inbox_batch_raced", bodies=len(batch), attempt=attempt)
                    await asyncio.sleep(0)
                    continue
                log.warning("inbox_batch_failed", bodies=len(batch), error=repr(exc)[:300])
                return None
        return None

    async def _process(self, item: inbox.InboxItem) -> None:
        for attempt in range(1, RACES + 1):
            try:
                outcome = await process(
                    self._db, item, self._rules, now=self._clock(), directory=self._directory
                )
            except Exception as exc:
                if unavailable(exc):
                    raise  # the database is away, not the body at fault: try it again
                if _again(exc, attempt):
                    await asyncio.sleep(0)
                    continue
                if isinstance(exc, IntegrityError) or conflict(exc):
                    raise  # a race lost every time: the worker's loop tries it again later
                log.exception("inbox_item_failed", inbox_id=item.id)
                await inbox.mark_failed(
                    self._db, item.id, now=self._clock(), error=f"{type(exc).__name__}: {exc}"
                )
                return
            self._done(item, outcome)
            return

    def _done(self, item: inbox.InboxItem, outcome: IngestOutcome, *, alone: bool = True) -> None:
        """A body's outcome: its metrics and its ``inbox_processed`` line — at DEBUG for a
        body of a batch, which its ``inbox_batch_processed`` line sums up at INFO (a line
        per body was ~5 % of the event loop's thread with single-alert webhooks: a flood is
        thousands of bodies a second)."""
        if self._metrics is not None:
            waited = (self._clock() - item.received_at).total_seconds()
            self._metrics.ingest_latency.observe(max(waited, 0.0))
            if outcome.dropped:
                noise = self._metrics.noise_dropped.labels(integration=item.integration)
                noise.inc(outcome.dropped)
            self._metrics.regraded.inc(len(outcome.regraded))
            self._metrics.escalation_steps.inc(len(outcome.stepped))
        (log.info if alone else log.debug)(
            "inbox_processed",
            inbox_id=item.id,
            integration=item.integration,
            opened=outcome.opened,
            updated=outcome.updated,
            resolved=outcome.resolved,
            ignored=outcome.ignored,
            dropped=outcome.dropped,
            regraded=outcome.regraded,
            paged=outcome.stepped,
        )


def _log_batch(ids: list[int], outcomes: list[IngestOutcome]) -> None:
    """One INFO line per transaction of bodies: which bodies, and what they did in all."""
    log.info(
        "inbox_batch_processed",
        bodies=len(ids),
        first_inbox_id=min(ids),
        last_inbox_id=max(ids),
        opened=sum(len(o.opened) for o in outcomes),
        updated=sum(len(o.updated) for o in outcomes),
        resolved=sum(len(o.resolved) for o in outcomes),
        ignored=sum(o.ignored for o in outcomes),
        dropped=sum(o.dropped for o in outcomes),
        regraded=sum(len(o.regraded) for o in outcomes),
        paged=sum(len(o.stepped) for o in outcomes),
    )
