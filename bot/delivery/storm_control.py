"""Storm control: when more alerts reach a channel than Slack can post one by one, roll them
into one summary message, list each of them in its thread, and page each person once.

Called by the outbox sender. ``absorb`` takes a batch of claimed outbox rows, counts the new
warnings per channel (:mod:`escalation.noise.storm` decides when a storm starts and ends), and
folds into the channel's storm, in one transaction, the warnings of a storming channel
(their alerts become the storm's members) and the later rows of members (updates and
thread notes are shown by the summary's counts; pages become one page per person per
storm). It returns the rows still to deliver one by one. ``tick`` writes what the storms
show in Slack: the summary (edited at most once per ``summary_every``), the thread's lines
(``thread_batch`` alerts per message), and the storm pages — each write through the lane
gate, so a storm channel never gets more than Slack allows.

Each alert's own record is untouched: its escalation runs its tiers and its timeline keeps
every step; only what reaches Slack is rolled up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.delivery.lanes import LaneGate, Pacing
from bot.delivery.posting import Poster, delivery_metadata
from bot.runtime.clock import Clock
from bot.slack.blocks.render_storm import storm_page, summary_blocks, summary_text, thread_message
from config.sections.storm import StormConfig
from escalation.model import LevelSpec
from escalation.noise.storm import Change, StormRules, Traffic, calm_at, observe, resumed
from escalation.outbox_kinds import OutboxKind
from storage.db import Database
from storage.noise import storm_display, storms
from storage.noise.storms import RINGING_LEVEL, STORM_PAGED
from storage.outbox import Claimed

log = structlog.get_logger("tocsin.storm")

RETRY_FAILED = timedelta(seconds=5)
DRAW_LEASE = timedelta(seconds=30)
"""How long a replica may take to draw a storm page before another may (a crash mid-draw)."""
RECHECK_CLAIMED = timedelta(seconds=1)
"""When another replica is drawing a page, look again this soon (it may fail or be held)."""
FOLDED_KINDS = frozenset(
    {
        OutboxKind.UPDATE_WARNING,
        OutboxKind.THREAD_NOTE,
        OutboxKind.THREAD_LINES,
        OutboxKind.GROUP_LIST,
        OutboxKind.PAGE_DM,
        OutboxKind.PAGE_CHANNEL,
    }
)
"""Rows of a storm's member alerts that the storm stands for (others are delivered)."""
STORM_ROWS = frozenset({OutboxKind.POST_WARNING, *STORM_PAGED})
"""What the sender takes of any alert of a storm's channel apart from its claims
(``claim_storm_rows``): new warnings (they join the storm) and pages (the storm's page to
each person names them)."""
MEMBER_ROWS = FOLDED_KINDS - STORM_PAGED
"""… and of the storm's members: what the summary's counts and list stand for."""


@dataclass(frozen=True, slots=True)
class StormDisplay:
    summary_every: timedelta
    thread_batch: int
    top_items: int


def storm_rules(config: StormConfig) -> tuple[StormRules, StormDisplay]:
    """The policy file's ``storm`` section in the domain's terms."""
    rules = StormRules(
        window=timedelta(seconds=config.window),
        start_above=config.start_above,
        calm_at_most=config.calm_at_most,
        calm_for=timedelta(seconds=config.calm_for),
        enabled=config.enabled,
    )
    display = StormDisplay(
        summary_every=timedelta(seconds=config.summary_every),
        thread_batch=config.thread_batch,
        top_items=config.top_items,
    )
    return rules, display


class RateLimited(Exception):
    def __init__(self, lane: str, seconds: float) -> None:
        super().__init__(f"{lane} rate limited for {seconds}s")
        self.lane = lane
        self.seconds = seconds


class StormControl:
    def __init__(
        self,
        *,
        db: Database,
        client: AsyncWebClient,
        rules: StormRules,
        display: StormDisplay,
        levels: Mapping[int, LevelSpec],
        gate: LaneGate | Pacing,
        clock: Clock,
        poster: Poster | None = None,
    ) -> None:
        self._db = db
        self._client = client
        self._poster = poster or Poster(client)
        self._rules = rules
        self._display = display
        self._levels = levels
        self._gate = gate if isinstance(gate, Pacing) else Pacing(gate)
        self._clock = clock
        self._traffic: dict[str, Traffic] = {}
        self._open: dict[str, int] = {}
        self._counted: dict[int, datetime] = {}
        """Outbox ids of warnings counted as arrivals within the last window."""
        self._synced = False
        self._write_now = False
        self.started = self.ended = 0

    # --- folding ------------------------------------------------------------------------

    def storming(self) -> frozenset[str]:
        """Channels in a storm now (their rows are claimed after other channels')."""
        return frozenset(self._open)

    @property
    def write_now(self) -> bool:
        """Folding left something to write at once (a storm began or ended, a page to
        draw, a level-1 alert to list): :meth:`tick` should not wait for its next time."""
        return self._write_now

    async def absorb(self, claimed: Sequence[Claimed], *, now: datetime) -> list[Claimed]:
        """Fold what storms stand for; return the rows to deliver one by one."""
        if not self._synced:
            await self.sync(now=now)
        posts: dict[str, list[Claimed]] = {}
        for item in claimed:
            if item.kind == OutboxKind.POST_WARNING and item.channel is not None:
                posts.setdefault(item.channel, []).append(item)
        horizon = now - self._rules.window
        self._counted = {k: at for k, at in self._counted.items() if at > horizon}
        for channel, items in posts.items():
            # a warning put back (its channel was busy) and claimed again is not a new alert
            new = [i for i in items if i.id not in self._counted]
            self._counted.update((i.id, now) for i in new)
            await self._observe(channel, [i.created_at for i in new], now=now)
        joining = [
            (item, self._open[channel])
            for channel, items in posts.items()
            if channel in self._open
            for item in items
        ]
        later = [c for c in claimed if c.kind in FOLDED_KINDS and c.alert_id is not None]
        member_of = await storms.storms_of(self._db, (c.alert_id or 0 for c in later))
        folded = [(c, member_of[c.alert_id or 0]) for c in later if c.alert_id in member_of]
        # a page of an alert from before the storm (its warning was posted on its own), due
        # while its channel storms: with the storm's page to that person, so one message
        # names both rather than two a second apart in the person's DM
        folded += [
            (c, self._open[c.channel])
            for c in later
            if c.kind in STORM_PAGED
            and c.alert_id not in member_of
            and c.channel is not None
            and c.channel in self._open
        ]
        if not joining and not folded:
            return list(claimed)
        if await storms.fold(self._db, joining=joining, folded=folded, now=now):
            self._write_now = True
        gone = {c.id for c, _ in joining} | {c.id for c, _ in folded}
        return [c for c in claimed if c.id not in gone]

    async def _observe(self, channel: str, arrivals: list[datetime], *, now: datetime) -> None:
        seen = observe(self._traffic.get(channel, Traffic()), arrivals, now=now, rules=self._rules)
        self._traffic[channel] = seen.traffic
        if seen.change is Change.STARTED:
            ref = await storms.open_storm(self._db, channel, now=now)
            self._open[channel] = ref.id
            self._write_now = True
            self.started += 1
            log.warning("storm_started", channel=channel, storm_id=ref.id, window=len(arrivals))
        elif seen.change is Change.ENDED and channel in self._open:
            storm_id = self._open.pop(channel)
            await storms.end_storm(self._db, storm_id, now=now)
            self._write_now = True
            self.ended += 1
            log.warning("storm_ended", channel=channel, storm_id=storm_id)

    async def sync(self, *, now: datetime) -> None:
        """Agree with storage on which storms are open (after a restart, or when another
        replica opened or ended one), and let calm channels' storms end."""
        self._synced = True
        stored = {ref.channel: ref for ref in await storms.open_storms(self._db)}
        for channel, ref in stored.items():
            traffic = self._traffic.get(channel)
            if traffic is None or not traffic.in_storm:
                self._traffic[channel] = resumed(since=ref.started_at, now=now)
            self._open[channel] = ref.id
        for channel in [c for c in self._open if c not in stored]:
            del self._open[channel]  # ended elsewhere
            self._traffic[channel] = Traffic()
        for channel in list(self._traffic):
            await self._observe(channel, [], now=now)
            traffic = self._traffic[channel]
            if not traffic.in_storm and not traffic.arrivals:
                del self._traffic[channel]

    # --- writing ------------------------------------------------------------------------

    async def tick(self) -> datetime | None:
        """Write what is due in Slack; returns when there will be more to do (None: nothing
        pending). A 429 holds only its own lane."""
        now = self._clock()
        self._write_now = False
        await self.sync(now=now)
        wanted: list[datetime] = []
        for work in await storm_display.work(self._db):
            try:
                when = await self._advance(work, now)
            except RateLimited as limited:
                when = await self._held(limited, now)
            except Exception:  # one storm's (or page's) failure must not stop the others
                log.exception("storm_write_failed", storm_id=work.id)
                when = now + RETRY_FAILED
            if when is not None:
                wanted.append(when)
        for page in await storm_display.pages_due(self._db):
            try:
                when = await self._page(page, now)
            except RateLimited as limited:
                when = await self._held(limited, now)
            except Exception:  # one storm's (or page's) failure must not stop the others
                log.exception("storm_write_failed", storm_id=page.storm_id)
                when = now + RETRY_FAILED
            if when is not None:
                wanted.append(when)
        wanted += [t for t in (calm_at(x, self._rules) for x in self._traffic.values()) if t]
        return min(wanted) if wanted else None

    async def _held(self, limited: RateLimited, now: datetime) -> datetime:
        until = now + timedelta(seconds=limited.seconds)
        await self._gate.hold(limited.lane, until=until, now=now)
        log.info("storm_write_rate_limited", lane=limited.lane, retry_after_s=limited.seconds)
        return until

    async def _advance(self, work: storm_display.StormWork, now: datetime) -> datetime | None:
        every = self._display.summary_every
        lane = work.channel
        ended = work.status == storms.ENDED
        stale = work.version > work.drawn_version
        summary_due = stale and (work.drawn_at is None or work.drawn_at + every <= now)
        if ended and work.unlisted == 0 and stale:
            summary_due = True  # the final word, as soon as the thread is complete
        urgent = work.top_unlisted is not None and work.top_unlisted <= RINGING_LEVEL
        thread_due = work.unlisted > 0 and (
            ended
            or urgent  # a level-1 alert is listed at once, not at the next interval
            or work.unlisted >= self._display.thread_batch
            or (work.oldest_unlisted_at is not None and work.oldest_unlisted_at + every <= now)
        )
        if work.summary_ts is None or summary_due or thread_due:
            if (free := await self._gate.take(lane, now)) is not None:
                return free
            if work.summary_ts is None or work.summary_channel_id is None:
                await self._draw_summary(work, now, post=True)
            elif summary_due:
                await self._draw_summary(work, now, post=False)
            else:
                await self._list(work)
            return now
        if ended and not stale and work.unlisted == 0:
            await storm_display.mark_drawn(
                self._db, work.id, version=work.version, now=now, finished=True
            )
            return None
        later = []
        if stale and work.drawn_at is not None:
            later.append(work.drawn_at + every)
        if work.oldest_unlisted_at is not None:
            later.append(work.oldest_unlisted_at + every)
        return min(later) if later else None

    async def _draw_summary(
        self, work: storm_display.StormWork, now: datetime, *, post: bool
    ) -> None:
        summary = await storm_display.summary(self._db, work.id, top=self._display.top_items)
        ended = work.status == storms.ENDED
        text = summary_text(work.channel, summary, levels=self._levels, ended=ended)
        blocks = summary_blocks(
            work.channel,
            summary,
            levels=self._levels,
            started_at=work.started_at,
            ended_at=work.ended_at if ended else None,
            storm_id=work.id,
        )
        if post:
            channel_id, ts = await self._post_once(
                work.channel,
                key=f"storm:{work.id}:summary",
                row=("summary", work.id),
                attempted_at=work.posting_at,
                now=now,
                channel=work.channel,
                text=text,
                blocks=blocks,
            )
        else:
            assert work.summary_channel_id is not None
            assert work.summary_ts is not None
            channel_id, ts = work.summary_channel_id, work.summary_ts
            await self._call(
                work.channel,
                self._client.chat_update(channel=channel_id, ts=ts, text=text, blocks=blocks),
            )
        await storm_display.mark_drawn(
            self._db, work.id, version=work.version, now=now, channel_id=channel_id, ts=ts
        )
        log.info("storm_summary_drawn", storm_id=work.id, alerts=summary.alerts, posted=post)

    async def _list(self, work: storm_display.StormWork) -> None:
        assert work.summary_channel_id is not None
        assert work.summary_ts is not None
        items = await storm_display.unlisted(self._db, work.id, limit=self._display.thread_batch)
        listed = await storm_display.listed_count(self._db, work.id)
        text, blocks, used = thread_message(items, self._levels, first=listed + 1)
        response = await self._call(
            work.channel,
            self._client.chat_postMessage(
                channel=work.summary_channel_id,
                thread_ts=work.summary_ts,
                text=text,
                blocks=blocks,
                unfurl_links=False,
                unfurl_media=False,
            ),
        )
        # the lines are in Slack: record it (a crash right here would list these again)
        await storm_display.mark_listed(
            self._db, [i.alert_id for i in items[:used]], ts=str(response["ts"])
        )

    async def _page(self, seen: storm_display.PageWork, now: datetime) -> datetime | None:
        if seen.ts is not None and seen.drawn_at is not None:
            due = seen.drawn_at + self._display.summary_every
            if due > now:
                return due
        page = await storm_display.claim_page(self._db, seen.id, now=now, lease=DRAW_LEASE)
        if page is None:  # drawn meanwhile, or another replica is drawing it
            return now + RECHECK_CLAIMED
        try:
            return await self._draw_page(page, now)
        except Exception:
            await storm_display.release_page(self._db, page.id)
            raise

    async def _draw_page(self, page: storm_display.PageWork, now: datetime) -> datetime | None:
        is_user = page.target[:1] in ("U", "W")
        lane = f"dm:{page.target}" if is_user else page.target
        if page.ts is not None and page.drawn_at is not None:
            due = page.drawn_at + self._display.summary_every
            if due > now:
                await storm_display.release_page(self._db, page.id)
                return due
        if (free := await self._gate.take(lane, now)) is not None:
            await storm_display.release_page(self._db, page.id)
            return free
        summary = await storm_display.summary(self._db, page.storm_id, top=self._display.top_items)
        ended = await storm_display.is_ended(self._db, page.storm_id)
        paged_for = await storm_display.items_of(self._db, page.fresh)
        text, blocks = storm_page(
            page.channel,
            summary,
            pages=page.pages,
            tier=page.tier,
            rule=page.rule,
            levels=self._levels,
            ended=ended,
            storm_id=page.storm_id,
            paged_for=paged_for,
        )
        named: tuple[int, ...] = ()
        if page.ts is None or page.channel_id is None:
            named = page.fresh  # a new message names them; the next names those after
            if is_user:
                opened = await self._client.conversations_open(users=page.target)
                channel_id = str(opened["channel"]["id"])
            else:
                channel_id = page.target
            channel_id, ts = await self._post_once(
                lane,
                key=f"storm:{page.storm_id}:page:{page.id}:{page.tier}",
                row=("page", page.id),
                attempted_at=page.posting_at,
                now=now,
                channel=channel_id,
                text=text,
                blocks=blocks,
            )
            log.info("storm_page_sent", storm_id=page.storm_id, target=page.target)
        else:
            channel_id, ts = page.channel_id, page.ts
            await self._call(
                lane, self._client.chat_update(channel=channel_id, ts=ts, text=text, blocks=blocks)
            )
        await storm_display.mark_page_drawn(
            self._db,
            page.id,
            version=page.version,
            now=now,
            channel_id=channel_id,
            ts=ts,
            named=named,
            edited=page.ts,
        )
        return None

    async def _post_once(
        self,
        lane: str,
        *,
        key: str,
        row: tuple[storm_display.PostingOf, int],
        attempted_at: datetime | None,
        now: datetime,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]],
    ) -> tuple[str, str]:
        """Post a storm's message at most once: the attempt is noted on ``row`` (whose
        message — the storm's summary or a page's — and its id) before the call, and when an
        earlier attempt was noted (it may have posted: the process died, the answer was lost)
        the channel is searched for the message carrying ``key`` first. Returns the message's
        channel id and ts."""
        # the key names this attempt's message, not the row's earlier ones: a storm page
        # posts a new message for each ring, and a retry must not take the last ring for its own
        key = f"{key}:{round((attempted_at or now).timestamp() * 1000)}"
        if attempted_at is None:
            await storm_display.mark_posting(self._db, of=row[0], row_id=row[1], now=now)
        else:
            found = await self._poster.find_key(key, channel=channel, since=attempted_at)
            if found is not None:  # an earlier attempt posted it: show the current state
                log.info("storm_message_already_posted", key=key, ts=found.ts)
                await self._call(
                    lane,
                    self._client.chat_update(
                        channel=found.channel_id, ts=found.ts, text=text, blocks=blocks
                    ),
                )
                return found.channel_id, found.ts
        try:
            response = await self._call(
                lane,
                self._client.chat_postMessage(
                    channel=channel,
                    text=text,
                    blocks=blocks,
                    unfurl_links=False,
                    metadata=delivery_metadata(key),
                ),
            )
        except RateLimited:
            # Slack refused it: nothing was posted, so the next try posts without searching
            # (and without taking an earlier message for this one)
            await storm_display.clear_posting(self._db, of=row[0], row_id=row[1])
            raise
        return str(response["channel"]), str(response["ts"])

    async def _call(self, lane: str, call: Awaitable[AsyncSlackResponse]) -> AsyncSlackResponse:
        """A write to ``lane``, whose slot was taken (its pace counts from the write's end)."""
        try:
            return await call
        except SlackApiError as exc:
            if exc.response.status_code == 429:
                raise RateLimited(lane, retry_after(exc)) from exc
            raise
        finally:
            await self._gate.wrote(lane, self._clock())


def retry_after(exc: SlackApiError) -> float:
    """Slack's ``Retry-After`` in seconds (1 when missing or unreadable)."""
    value = exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after")
    try:
        return max(float(str(value)), 1.0)
    except (TypeError, ValueError):
        return 1.0
