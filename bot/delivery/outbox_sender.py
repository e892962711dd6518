"""Delivers outbox rows to Slack: the warning message, its updates, its thread notes.

Messages are rendered at delivery time from the alert's current state, so a burst of
updates to one alert becomes one ``chat.update``. slack_sdk's retry handlers deal with
429s and connection errors; whatever still fails stays in the outbox and is tried again
later with a growing delay — never dropped.

Slack's 429s are handled here, not by slack_sdk's rate-limit retry handler (which would sleep
inside the call and hold a delivery slot): the row waits for ``Retry-After`` and so do the
other rows bound for that channel, while other channels go on.
"""

from __future__ import annotations

import asyncio
import heapq
from collections import OrderedDict
from collections.abc import Collection
from datetime import datetime, timedelta

import structlog
from slack_sdk.errors import SlackApiError

from bot.delivery.deliveries import Deliveries
from bot.delivery.lanes import SPARE, Lane, LaneGate, Pacing, lane_of
from bot.delivery.slack_health import SlackHealth, outcome_unknown
from bot.delivery.storm_control import MEMBER_ROWS, STORM_ROWS, StormControl, retry_after
from bot.runtime.clock import Clock
from bot.runtime.faults import NO_FAULTS, FaultPoints
from bot.runtime.metrics import Metrics
from bot.runtime.wakeup import Wakeup, run_until_cancelled
from bot.slack.blocks.render_pages import PAGES_PER_MESSAGE
from escalation.outbox_kinds import PAGE_KINDS, OutboxKind, read_approval_close
from storage import outbox
from storage.db import Database
from storage.noise.group_store import anchors_of
from storage.upkeep.recovery import release_outbox

log = structlog.get_logger("tocsin.outbox")
MAX_BACKOFF_SECONDS = 600
BEFORE_STORM_PAGES = (OutboxKind.PAGE_DM, OutboxKind.PAGE_CHANNEL, OutboxKind.POST_WARNING)
"""Claimed again just before storm pages are drawn: pages due by now, and the new warnings a
page waits for until they are picked up (a storm's new member's page is folded with them)."""
SLOT_AHEAD = timedelta(milliseconds=100)
"""How far ahead of their time those are claimed: a page put back until its DM's slot frees
is due at that moment, and a storm page drawn a few milliseconds after it must name it."""
TICK_AT_LEAST = timedelta(seconds=0.5)
"""While rows keep coming, storms are written at least this often between batches."""


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
        gate: LaneGate | Pacing | None = None,
        storms: StormControl | None = None,
        batch: int = 500,
        storm_batch: int = 2000,
        health: SlackHealth | None = None,
        faults: FaultPoints = NO_FAULTS,
        lease: timedelta = timedelta(seconds=60),
    ) -> None:
        self.health = health or SlackHealth(metrics=metrics)
        self._faults = faults
        self._lease = lease
        self._unfinished: set[int] = set()
        """Claimed rows whose attempt was cut short (the database went away): handed back as
        soon as it answers again, not when their lease runs out."""
        self._metrics = metrics
        self._db = db
        self._deliveries = deliveries
        self._clock = clock
        self._wakeup = wakeup
        self._poll = poll_seconds
        self._limit = asyncio.Semaphore(concurrency)
        self._gate = gate if isinstance(gate, Pacing) else Pacing(gate or LaneGate())
        self._storms = storms
        self._batch = batch
        self._storm_batch = storm_batch
        self._timer: asyncio.TimerHandle | None = None
        self._wakes: list[float] = []
        """Event-loop times the sender was asked to run at (a heap); the timer is set for the
        first."""
        self._next_tick: datetime | None = None
        self._waiting: set[str] = set()
        """Channels whose lane had to wait (paced, or held after a 429) in this drain: its
        later claims leave their rows out — they were put back until the lane frees, and
        the rest would only be claimed to be put back too."""

    @property
    def storms(self) -> StormControl | None:
        return self._storms

    async def run(self) -> None:
        await run_until_cancelled(
            self.drain, wakeup=self._wakeup, poll_seconds=self._poll, name="outbox"
        )

    async def drain(self) -> int:
        """Deliver everything due now; returns how many rows were claimed.

        Rows are delivered per lane (the Slack conversation they write to): lanes run side
        by side, each lane's rows one after the other, paced by the lane gate; a 429 holds
        only its lane. Storm control first folds what a storm stands for.
        """
        only: tuple[OutboxKind, ...] | None = None
        if self.health.degraded and not await self._probe():
            # Slack is down: its rows wait in the outbox, untouched, until a probe passes;
            # pages to outbound webhooks (a phone, a pager) go on
            only = (OutboxKind.PAGE_WEBHOOK,)
        if self._unfinished:
            await release_outbox(self._db, sorted(self._unfinished), now=self._clock())
            self._unfinished.clear()
        total = 0
        self._waiting.clear()
        while not self._wakeup.stopping:
            claimed = await self._claim(only, skip=self._waiting)
            if claimed:
                total += await self._deliver_claimed(claimed, folding=only is None)
            folded = 0 if only is not None else await self._fold_storm_rows()
            total += folded
            if not claimed and not folded:
                break
            if only is None and self._storms_due():
                await self._tick_storms()  # between batches only when due: rows come first
        if only is not None:
            return total
        if self._storms is not None and (self._storms.write_now or self._storms_due()):
            # when due, not after every drain: a storm's new members come a few at a time,
            # and its writing is timed (the summary every interval, a thread line per batch)
            await self._tick_storms()
        await self._gate.forget_idle(self._clock())
        return total

    async def _claim(
        self,
        kinds: tuple[OutboxKind, ...] | None,
        *,
        ahead: timedelta = timedelta(0),
        skip: Collection[str] = (),
    ) -> list[outbox.Claimed]:
        """Lease the rows due now (or within ``ahead``), but the channel rows of ``skip``."""
        return await outbox.claim_due(
            self._db,
            now=self._clock() + ahead,
            limit=self._batch,
            last=self._storms.storming() if self._storms else (),
            lease=self._lease,
            kinds=kinds,
            skip=frozenset(skip),
        )

    async def _fold_storm_rows(self) -> int:
        """After each claim, the next rows of the storms (new warnings and pages of their
        channels' alerts, the members' edits and thread lines), taken without ranking —
        the storm folds them, so a flood's backlog does not stay behind for every claim to
        sort (``claim_storm_rows``). Returns how many were taken."""
        share = self._storm_share()
        if share is None:
            return 0
        rows = await outbox.claim_storm_rows(
            self._db, share, now=self._clock(), limit=self._storm_batch, lease=self._lease
        )
        return await self._deliver_claimed(rows, folding=True) if rows else 0

    def _storm_share(self) -> outbox.StormShare | None:
        storming = self._storms.storming() if self._storms else frozenset()
        if not storming:
            return None
        return outbox.StormShare(storming, STORM_ROWS, MEMBER_ROWS)

    async def _deliver_claimed(self, claimed: list[outbox.Claimed], *, folding: bool) -> int:
        """Fold what storms stand for (``folding``), then deliver the rest lane by lane."""
        self._unfinished.update(item.id for item in claimed)
        self._faults.reached("outbox_after_claim")
        rest = list(claimed)
        if self._storms is not None and folding:
            rest = await self._storms.absorb(claimed, now=self._clock())
        rest = await self._one_redraw_per_warning(rest)
        by_lane: OrderedDict[str, tuple[Lane, list[outbox.Claimed]]] = OrderedDict()
        for item in rest:
            lane = lane_of(item)
            by_lane.setdefault(lane.key, (lane, []))[1].append(item)
        await asyncio.gather(*(self._run_lane(lane, items) for lane, items in by_lane.values()))
        self._unfinished.difference_update(item.id for item in claimed)
        return len(claimed)

    async def _one_redraw_per_warning(self, items: list[outbox.Claimed]) -> list[outbox.Claimed]:
        """Of the warning edits claimed together, one per Slack message: members of a group
        share its warning, and an edit is drawn from the current state, so a group's first
        edit stands for the others (done now, never sent). A thousand members joining cost
        one edit per claim, not a thousand edits at the channel's pace."""
        edits = [i for i in items if i.kind == OutboxKind.UPDATE_WARNING and i.alert_id]
        if len(edits) < 2:
            return items
        anchors = await anchors_of(self._db, [i.alert_id or 0 for i in edits])
        kept: set[int] = set()
        covered: list[int] = []
        for item in edits:
            shown_on = anchors.get(item.alert_id or 0, item.alert_id)
            if shown_on in kept:
                covered.append(item.id)
            else:
                kept.add(shown_on or 0)
        if not covered:
            return items
        await outbox.mark_done(self._db, covered, now=self._clock())
        self._unfinished.difference_update(covered)
        gone = set(covered)
        return [i for i in items if i.id not in gone]

    def _storms_due(self) -> bool:
        """The time the storms' last writing asked to be written again has come."""
        return self._next_tick is None or self._clock() >= self._next_tick

    async def _tick_storms(self) -> None:
        if self._storms is None:
            return
        # pages that fell due since the last claim (one waiting for its DM's next slot, due
        # when the slot frees, which may be a moment from now) are folded first, so the storm
        # page drawn now names them instead of taking that slot and leaving them for a message
        # a second later
        if self._storms.storming() and (
            pages := await self._claim(BEFORE_STORM_PAGES, ahead=SLOT_AHEAD)
        ):
            await self._deliver_claimed(pages, folding=True)
        try:
            when = await self._storms.tick()
        except Exception:
            log.exception("storm_tick_failed")
            when = self._clock() + timedelta(seconds=1)
        now = self._clock()
        self._next_tick = min(when, now + TICK_AT_LEAST) if when else now + TICK_AT_LEAST
        if when is not None:
            self._wake_at(when)

    def _wake_at(self, when: datetime) -> None:
        """Run again at ``when`` (a lane frees, a summary is due), not only at the next poll.
        Every time asked for is kept: a wake-up set for an earlier time does not stand for a
        later one (a page put back until its DM's slot frees must not wait for the poll)."""
        loop = asyncio.get_running_loop()
        at = loop.time() + max((when - self._clock()).total_seconds(), 0.0) + 0.01
        heapq.heappush(self._wakes, at)
        self._arm(loop)

    def _arm(self, loop: asyncio.AbstractEventLoop) -> None:
        """Set the timer for the earliest time asked for (dropping those passed)."""
        now = loop.time()
        while self._wakes and self._wakes[0] <= now:
            heapq.heappop(self._wakes)
        first = self._wakes[0] if self._wakes else None
        timer = self._timer
        if timer is not None and not timer.cancelled() and now < timer.when():
            if first is not None and timer.when() <= first:
                return  # set already, for that time or earlier
            timer.cancel()
        self._timer = loop.call_at(first, self._woken, loop) if first is not None else None

    def _woken(self, loop: asyncio.AbstractEventLoop) -> None:
        self._wakeup.set()
        self._timer = None
        self._arm(loop)  # the next time asked for, if any

    async def _run_lane(self, lane: Lane, items: list[outbox.Claimed]) -> None:
        """Deliver a lane's rows in order, each write paced by the lane's gate. Pages for
        the same person due together go out as one DM naming each alert."""
        async with self._limit:
            queue = list(items)
            while queue:
                now = self._clock()
                spare = SPARE.get(queue[0].kind, 0)
                if (
                    lane.paced
                    and (at := await self._gate.take(lane.key, now, spare=spare)) is not None
                ):
                    await self._put_back(queue, at=at)
                    self._wake_at(at)
                    if lane.channel is not None:
                        self._waiting.add(lane.channel)
                    return
                batch = [queue[0]]
                if queue[0].kind == OutboxKind.PAGE_DM:
                    batch = [i for i in queue if i.kind == OutboxKind.PAGE_DM][:PAGES_PER_MESSAGE]
                taken = {item.id for item in batch}
                queue = [item for item in queue if item.id not in taken]
                held = await self._deliver(batch)
                if lane.paced:
                    await self._gate.wrote(lane.key, self._clock())
                if held is not None:
                    until = self._clock() + timedelta(seconds=held)
                    await self._gate.hold(lane.key, until=until, now=self._clock())
                    await self._put_back(queue, at=until)
                    if lane.channel is not None:
                        await outbox.hold_channel(self._db, lane.channel, until=until)
                        self._waiting.add(lane.channel)
                    self._wake_at(until)
                    return

    async def _put_back(self, items: list[outbox.Claimed], *, at: datetime) -> None:
        await outbox.defer(
            self._db,
            [i.id for i in items],
            at=at,
            in_doubt=[i.id for i in items if i.in_doubt],
        )

    async def _deliver(self, batch: list[outbox.Claimed]) -> float | None:
        """Deliver one row, or several pages to one person in one message. Returns Slack's
        Retry-After when it answered 429 (the rows are rescheduled to then), else None
        (delivered, or rescheduled after an error)."""
        try:
            if len(batch) == 1:
                await self._send(batch[0])
                done = [batch[0].id]
            else:
                done = await self._deliveries.deliver_pages(batch)
        except SlackApiError as exc:
            status = exc.response.status_code
            error = str(exc.response.get("error", "")) or f"HTTP {status}"
            if status == 429:
                seconds = retry_after(exc)
                for item in batch:
                    await self._retry_later(item, f"slack: {error}", seconds, attempt=False)
                    self._count(item, "rate_limited")
                return seconds
            failed = self._clock()  # the batch's rows come due again together
            for item in batch:
                await self._retry_later(
                    item, f"slack: {error}", None, in_doubt=outcome_unknown(exc), now=failed
                )
                self._count(item, "failed")
            return None
        except Exception as exc:
            failed = self._clock()
            for item in batch:
                await self._retry_later(
                    item, f"{type(exc).__name__}: {exc}", None, in_doubt=True, now=failed
                )
                self._count(item, "failed")
            return None
        await outbox.mark_done(self._db, done, now=self._clock())
        for item in batch:
            if item.id in done:
                self._count(item, "delivered")
        return None

    def _count(self, item: outbox.Claimed, outcome: str) -> None:
        metrics = self._metrics
        if metrics is None:
            return
        metrics.deliveries.labels(kind=item.kind, outcome=outcome).inc()
        if outcome != "delivered":
            return
        waited = max((self._clock() - item.created_at).total_seconds(), 0.0)
        metrics.delivery_latency.labels(kind=item.kind).observe(waited)
        if item.kind in PAGE_KINDS:
            metrics.pages.labels(kind=item.kind.removeprefix("page_")).inc()
        elif item.kind == OutboxKind.APPROVAL_REQUEST:
            metrics.approvals.labels(event="asked").inc()
        elif item.kind == OutboxKind.APPROVAL_CLOSE:
            decided = read_approval_close(item.payload)["outcome"].split(" ", 1)[0]
            metrics.approvals.labels(event=decided or "closed").inc()

    async def _retry_later(
        self,
        item: outbox.Claimed,
        error: str,
        delay: float | None,
        *,
        attempt: bool = True,
        in_doubt: bool = False,
        now: datetime | None = None,
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
        at = (now or self._clock()) + timedelta(seconds=seconds)
        await outbox.reschedule(
            self._db, item.id, at=at, error=error, attempt=attempt, in_doubt=in_doubt
        )

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

    async def _send(self, item: outbox.Claimed) -> None:
        await self._deliveries.deliver(item)
