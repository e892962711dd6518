"""Storm control over real HTTP against the fake Slack, which answers 429 past one message
per second per channel (burst 3): a flood of alerts into one channel becomes one summary
edited in place with every alert listed in its thread, one page per person, other channels
untouched — and when it ends, one warning per alert again."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from bot.sandbox import SlackWorld
from bot.sandbox.workspace.models import Message
from bot.sandbox.workspace.ratelimit import ChannelRateLimiter
from bot.slack import ids
from escalation.review.figures import Review
from storage import outbox
from storage.outbox import Claimed
from storage.review.facts import ReviewFilter
from storage.review.scan import build_review
from storage.tables import (
    AlertEventRow,
    AlertRow,
    OutboxRow,
    SlackMessageRow,
    StormMemberRow,
    StormPageRow,
    StormRow,
)
from tests.support.databases import database
from tests.support.harness import FakeClock, Harness, running_tocsin

POLICY = """
levels:
  1: {name: critical, emoji: ":red_circle:"}
  2: {name: major, emoji: ":large_orange_circle:"}
  3: {name: minor, emoji: ":large_blue_circle:"}
integrations:
  - {name: generic, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}"}
routes:
  - {match: {team: db}, team: db, channel: "#db-alerts", policy: default}
default_route: {team: ops, channel: "#alerts", policy: default}
people:
  U0ALICE: {name: Alice}
policies:
  default:
    tiers:
      - {notify: [{user: U0ALICE}], after: 0m}
storm:
  window: 10s
  start_above: 10
  calm_at_most: 2
  calm_for: 4s
  summary_every: 3s
"""
ALERT_ID = re.compile(r"`#(\d+)`")
NAMES = ("DiskFull", "HighLatency", "ErrorRate", "QueueBacklog")


class CountingLimiter(ChannelRateLimiter):
    """The fake Slack's own limiter, counting the 429s it answers per channel."""

    def __init__(self) -> None:
        super().__init__(rate=1.0, burst=3, clock=time.monotonic)
        self.refused: dict[str, int] = {}

    def try_acquire(self, channel: str) -> int | None:
        wait = super().try_acquire(channel)
        if wait is not None:
            self.refused[channel] = self.refused.get(channel, 0) + 1
        return wait


@pytest.fixture(params=["sqlite"])
async def tocsin(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    world = SlackWorld()
    world.limiter = CountingLimiter()
    async with running(request.param, tmp_path, world=world) as harness:
        yield harness


@contextlib.asynccontextmanager
async def running(
    kind: str,
    tmp_path: Path,
    *,
    world: SlackWorld,
    clock: Callable[[], datetime] | None = None,
    policy: str = POLICY,
) -> AsyncIterator[Harness]:
    """Tocsin on a fresh ``kind`` database with ``policy``, against ``world``."""
    path = tmp_path / "policy.yaml"
    path.write_text(policy)
    async with (
        database(kind, tmp_path) as url,
        running_tocsin(database_url=url, config_path=path, world=world, clock=clock) as harness,
    ):
        yield harness


def alert(n: int, *, team: str = "ops") -> dict[str, Any]:
    level = 1 if n % 1000 == 7 else 2 if n % 50 == 3 else 3
    name = NAMES[n % len(NAMES)]
    return {
        "title": f"{name} on host-{n}",
        "level": level,
        "fingerprint": f"storm-{team}-{n}",
        "labels": {"team": team, "alertname": name, "host": f"host-{n}"},
    }


def text_of(message: Message) -> str:
    return message.text + json.dumps(message.blocks)


async def flood(tocsin: Harness, *, total: int, seconds: float, per_body: int) -> None:
    """Post ``total`` alerts to #alerts evenly over ``seconds`` (the load's own schedule)."""
    bodies = total // per_body
    start = time.monotonic()
    for b in range(bodies):
        await asyncio.sleep(max(0.0, start + b * seconds / bodies - time.monotonic()))
        batch = [alert(b * per_body + i) for i in range(per_body)]
        response = await tocsin.webhook("generic", {"alerts": batch})
        assert response.status_code == 202, response.text


async def count(tocsin: Harness, query: Any) -> int:
    async with tocsin.service.db.read() as session:
        return int((await session.exec(query)).one())


async def test_a_flood_in_one_channel_becomes_one_summary_listing_every_alert_in_its_thread(
    tocsin: Harness,
) -> None:
    total = 5000
    load = asyncio.create_task(flood(tocsin, total=total, seconds=30, per_body=25))

    # meanwhile another channel's alert gets its own warning promptly: once it is stored,
    # its delivery does not queue behind the storm channel's
    await tocsin.world.wait_for(lambda: bool(tocsin.channel_messages("#alerts")), timeout=30)
    response = await tocsin.webhook("generic", alert(1, team="db"))
    assert response.status_code == 202
    [db_warning] = await tocsin.wait_for_messages(1, channel="#db-alerts", seconds=60)
    assert "host-1" in text_of(db_warning)
    assert not load.done(), "the flood must still be going on for this to prove anything"
    of_db = (
        select(OutboxRow)
        .join(AlertRow, col(AlertRow.id) == col(OutboxRow.alert_id))
        .where(AlertRow.channel == "#db-alerts", OutboxRow.kind == "post_warning")
    )

    async def delivered() -> bool:
        async with tocsin.service.db.read() as session:
            return (await session.exec(of_db)).one().status == "done"

    await tocsin.until(delivered, what="the warning marked delivered")
    async with tocsin.service.db.read() as session:
        post = (await session.exec(of_db)).one()
    assert post.done_at is not None
    waited = (post.done_at - post.created_at).total_seconds()
    assert waited < 3, f"#db-alerts' warning waited {waited:.1f}s behind the storm"

    await load
    storm_done = select(func.count()).select_from(StormRow).where(col(StormRow.finished))
    await tocsin.until(lambda: _at_least(tocsin, storm_done, 1), what="storm over", seconds=90)

    db = tocsin.service.db
    async with db.read() as session:
        [storm] = (await session.exec(select(StormRow))).all()
        members = set((await session.exec(select(StormMemberRow.alert_id))).all())
        own = set((await session.exec(select(SlackMessageRow.alert_id))).all())
        flood_ids = set(
            (await session.exec(select(AlertRow.id).where(AlertRow.channel == "#alerts"))).all()
        )
        pending = (await session.exec(select(OutboxRow).where(OutboxRow.status == "pending"))).all()
    assert storm.status == "ended"
    assert len(flood_ids) == total

    # no alert lost: each has its own warning or is a storm member listed in the thread
    summary = next(m for m in tocsin.channel_messages("#alerts") if m.ts == storm.summary_ts)
    listed = [int(i) for m in tocsin.thread(summary) for i in ALERT_ID.findall(text_of(m))]
    assert len(listed) == len(set(listed)), "an alert was listed twice"
    assert set(listed) == members
    assert members | (own & flood_ids) == flood_ids
    assert not members & own
    assert len(own & flood_ids) <= 10, "a storm starts past 10 alerts in a window"

    # the summary says the storm ended, with its totals
    assert "ended" in summary.text
    assert f"{len(members):,}" in text_of(summary)
    assert summary.edited >= 3  # edited in place as the storm grew, not re-posted

    # every 429 was handled: nothing left in the outbox
    assert pending == []
    # Slack writes to the storm channel: at most Slack's rate after the first burst
    channel = tocsin.world.find_channel("#alerts")
    assert channel is not None
    writes = tocsin.world.write_log.writes(channel.id)
    for window in (1.0, 5.0, 10.0):
        assert tocsin.world.write_log.max_per_window(channel.id, window=window) <= window + 3
    assert len(writes) < total / 30, f"{len(writes)} writes for {total} alerts"
    limiter = tocsin.world.limiter
    assert isinstance(limiter, CountingLimiter)
    refused = limiter.refused.get(channel.id, 0)
    assert refused <= len(writes) // 10, f"{refused} 429s: deliveries should pace themselves"

    # one page for the whole storm, not one per alert (plus pages of alerts posted on their own)
    # (and a new message for a level-1 alert joining after it went out: that one must ring)
    storm_pages = [m for m in tocsin.dms("U0ALICE") if "Storm in" in m.text]
    async with db.read() as session:
        critical = (
            await session.exec(
                select(func.count()).select_from(StormMemberRow).where(StormMemberRow.level == 1)
            )
        ).one()
    assert 1 <= len(storm_pages) <= 1 + critical
    assert f"{len(members):,} alerts" in storm_pages[-1].text
    assert len(tocsin.dms("U0ALICE")) <= len(storm_pages) + len(own)

    # after the storm: one warning per alert again
    before = len(tocsin.channel_messages("#alerts"))
    response = await tocsin.webhook("generic", {"title": "After the storm", "fingerprint": "after"})
    assert response.status_code == 202
    messages = await tocsin.wait_for_messages(before + 1, channel="#alerts", seconds=10)
    assert "After the storm" in text_of(messages[-1])


async def test_a_storm_s_rows_are_also_taken_apart_by_age_and_all_folded(
    tocsin: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sender's claims rank every due row (a sort): a flood's backlog of warnings and of
    the pages waiting for them would be sorted again by each claim, tens of milliseconds a
    time. The storm's own rows are also taken apart, by age, after each claim, and folded:
    the flood ends up folded (nothing left pending) with many taken that way."""
    taken = 0
    claim_storm_rows = outbox.claim_storm_rows

    async def counted(*args: Any, **kwargs: Any) -> list[Claimed]:
        nonlocal taken
        rows = await claim_storm_rows(*args, **kwargs)
        taken += len(rows)
        return rows

    monkeypatch.setattr(outbox, "claim_storm_rows", counted)
    await flood(tocsin, total=3000, seconds=3, per_body=100)
    members = select(func.count()).select_from(StormMemberRow)
    left = select(func.count()).select_from(OutboxRow).where(OutboxRow.status == "pending")

    async def folded() -> bool:
        return await count(tocsin, members) >= 2900 and await count(tocsin, left) == 0

    await tocsin.until(folded, what="the flood folded into its storm", seconds=60)
    assert taken >= 1000, taken


async def _at_least(tocsin: Harness, query: Any, n: int) -> bool:
    return await count(tocsin, query) >= n


class HeldChannel(ChannelRateLimiter):
    """The fake Slack's limiter, answering 429 (Retry-After 30 s) to every write to the
    channels in ``held`` — as Slack does to a channel that has been flooded."""

    def __init__(self) -> None:
        super().__init__(rate=1.0, burst=3, clock=time.monotonic)
        self.held: set[str] = set()
        self.refused = 0

    def try_acquire(self, channel: str) -> int | None:
        if channel in self.held:
            self.refused += 1
            return 30
        return super().try_acquire(channel)


@pytest.fixture(params=["sqlite", "postgres"])
async def held(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    world = SlackWorld()
    world.limiter = HeldChannel()
    async with running(request.param, tmp_path, world=world, clock=FakeClock()) as harness:
        yield harness


async def test_a_429_on_one_channel_holds_only_that_channel_and_its_rows_wait_for_retry_after(
    held: Harness,
) -> None:
    limiter = held.world.limiter
    assert isinstance(limiter, HeldChannel)
    limiter.held.add(held.world.channel_id_for("#alerts"))
    clock = held.service.clock
    assert isinstance(clock, FakeClock)

    assert (await held.webhook("generic", alert(1))).status_code == 202
    await held.world.wait_for(lambda: limiter.refused >= 1, timeout=10)
    assert (await held.webhook("generic", alert(2))).status_code == 202
    assert (await held.webhook("generic", alert(3, team="db"))).status_code == 202

    # the other channel is posted at once, though #alerts is held for 30 s
    [db_warning] = await held.wait_for_messages(1, channel="#db-alerts", seconds=10)
    assert "host-3" in text_of(db_warning)

    async def held_rows() -> list[OutboxRow]:  # the warnings (the pages go to DMs, not held)
        async with held.service.db.read() as session:
            return list(
                (
                    await session.exec(
                        select(OutboxRow)
                        .join(AlertRow, col(AlertRow.id) == col(OutboxRow.alert_id))
                        .where(AlertRow.channel == "#alerts", OutboxRow.kind == "post_warning")
                        .order_by(col(OutboxRow.id))
                    )
                ).all()
            )

    async def put_back() -> bool:  # alert 2's row may be claimed with alert 3's, then put back
        return not any(row.in_doubt and row.last_error is None for row in await held_rows())

    await held.until(put_back, what="the held channel's rows put back")
    waiting = await held_rows()
    assert [row.status for row in waiting] == ["pending", "pending"]
    # the refused row waits for Retry-After; the second is not tried before it either (it
    # is left unclaimed while the lane waits, or claimed and put back until then)
    assert (waiting[0].next_attempt_at - clock()).total_seconds() > 20
    assert [row.attempts for row in waiting] == [0, 0]
    assert waiting[0].last_error == "slack: ratelimited"
    assert limiter.refused == 1, "no retry before Retry-After, no sleeping retry in a call"

    # once Slack lets writes through again and Retry-After has passed, both are posted
    limiter.held.clear()
    clock.advance(seconds=31)
    held.service.outbox_wakeup.set()
    messages = await held.wait_for_messages(2, channel="#alerts", seconds=10)
    shown = " ".join(text_of(m) for m in messages)
    assert "on host-1" in shown
    assert "on host-2" in shown


def storm_pages(tocsin: Harness) -> list[Message]:
    """Alice's storm pages (each a new message), oldest first."""
    return [m for m in tocsin.dms("U0ALICE") if "Storm in" in m.text]


async def minor_storm_paged(tocsin: Harness) -> None:
    """Twenty level-3 alerts in one body: a storm in #alerts, and Alice's first storm page."""
    minor = [{**alert(n), "level": 3} for n in range(1, 21)]
    assert (await tocsin.webhook("generic", {"alerts": minor})).status_code == 202
    await tocsin.world.wait_for(lambda: len(storm_pages(tocsin)) == 1, timeout=20)


async def test_a_level_1_alert_joining_a_storm_pages_with_a_new_message_that_notifies(
    tocsin: Harness,
) -> None:
    await minor_storm_paged(tocsin)
    critical = {**alert(500), "level": 1, "title": "Payments down"}
    assert (await tocsin.webhook("generic", critical)).status_code == 202
    # an edit of the earlier storm page would notify no one: a new message does
    await tocsin.world.wait_for(lambda: len(storm_pages(tocsin)) == 2, timeout=10)
    assert "1 at level 1" in text_of(storm_pages(tocsin)[-1])
    assert "Payments down" in text_of(storm_pages(tocsin)[-1])  # it names the alert that rang

    # and it is listed in the storm summary's thread (a level-1 alert at once, ahead of others)
    summary = next(m for m in tocsin.channel_messages("#alerts") if "storm" in m.text.lower())
    await tocsin.world.wait_for(
        lambda: any("Payments down" in text_of(m) for m in tocsin.thread(summary)), timeout=10
    )


class StoppedClock:
    """Time that stands still."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["sqlite", "postgres"])
async def stopped(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    world = SlackWorld()
    async with running(request.param, tmp_path, world=world, clock=StoppedClock()) as harness:
        yield harness


async def test_storms_are_written_when_due_not_after_every_drain_and_a_ring_at_once(
    stopped: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clock stands still: a storm's next summary or listing never falls due, so once
    it is drawn, drains write nothing for it (each tick reads every open storm); a level-1
    alert joining it still rings at once, without waiting for the storm's next time."""
    sender = stopped.service.outbox_sender
    storms = sender.storms
    assert storms is not None
    ticks = 0
    tick = storms.tick

    async def counted() -> datetime | None:
        nonlocal ticks
        ticks += 1
        return await tick()

    monkeypatch.setattr(storms, "tick", counted)
    opened = select(func.count()).select_from(AlertRow)

    async def paged(body: dict[str, Any], alerts: int, pages: int) -> None:
        """Post ``body``; once its alerts are open (tier 1 paged as they open), wait for
        Alice's storm pages to number ``pages``, the clock standing still."""
        assert (await stopped.webhook("generic", body)).status_code == 202
        await stopped.until(lambda: _at_least(stopped, opened, alerts), what="alerts opened")
        await stopped.world.wait_for(lambda: len(storm_pages(stopped)) == pages, timeout=10)

    await paged({"alerts": [{**alert(n), "level": 3} for n in range(1, 21)]}, 20, 1)
    quiet = 0  # drains in a row that wrote nothing, once the storm's first writing is done
    for _ in range(50):
        before = ticks
        await sender.drain()
        quiet = quiet + 1 if ticks == before else 0
        if quiet == 3:
            break
    assert quiet == 3, "every drain wrote the storm"

    await paged({**alert(500), "level": 1, "title": "Payments down"}, 21, 2)
    assert "Payments down" in text_of(storm_pages(stopped)[-1])


async def test_a_ring_slack_refused_with_429_is_posted_again_not_taken_for_the_last_page(
    tocsin: Harness,
) -> None:
    await minor_storm_paged(tocsin)
    dm = tocsin.world.open_dm("U0ALICE").id
    tocsin.world.fail_next("chat.postMessage", status=429, retry_after=1, channel=dm)
    critical = {**alert(500), "level": 1, "title": "Payments down"}
    assert (await tocsin.webhook("generic", critical)).status_code == 202

    # after Retry-After the ring is a new message: the earlier page (same storm, same tier)
    # is not mistaken for a message the refused attempt might have posted, and stays as it was
    await tocsin.world.wait_for(lambda: len(storm_pages(tocsin)) == 2, timeout=10)
    assert tocsin.world.faults.waiting == 0  # the 429 was answered
    first, ring = storm_pages(tocsin)
    assert "Payments down" in text_of(ring)
    assert "Payments down" not in text_of(first)


@pytest.fixture
async def two_tiers(tmp_path: Path) -> AsyncIterator[Harness]:
    policy = POLICY.replace(
        "U0ALICE: {name: Alice}", "U0ALICE: {name: Alice}\n  U0BOB: {name: Bob}"
    ).replace(
        "      - {notify: [{user: U0ALICE}], after: 0m}",
        "      - {notify: [{user: U0ALICE}], after: 0m}\n"
        "      - {notify: [{user: U0BOB}], after: 3s}",
    )
    async with running("sqlite", tmp_path, world=SlackWorld(), policy=policy) as harness:
        yield harness


async def test_a_page_of_an_alert_from_before_a_storm_goes_with_the_persons_storm_page(
    two_tiers: Harness,
) -> None:
    tocsin = two_tiers
    before = {**alert(900), "level": 1, "title": "Checkout down"}
    assert (await tocsin.webhook("generic", before)).status_code == 202
    await tocsin.wait_for_messages(1, channel="#alerts", seconds=10)  # its own warning
    minor = [{**alert(n), "level": 3} for n in range(1, 21)]
    assert (await tocsin.webhook("generic", {"alerts": minor})).status_code == 202

    # 3 s on, Bob is paged at tier 2 for it and for the storm's alerts: one storm page names
    # them all, rather than a DM of its own taking his next slot
    def named() -> bool:
        return any("Checkout down" in text_of(m) for m in tocsin.dms("U0BOB"))

    await tocsin.world.wait_for(named, timeout=20)
    pages = tocsin.dms("U0BOB")
    assert all("Storm in" in m.text for m in pages), [m.text for m in pages]


async def test_a_small_storm_is_summarised_listed_and_ends_after_calm(
    held: Harness,
) -> None:
    clock = held.service.clock
    assert isinstance(clock, FakeClock)
    body = {"alerts": [alert(n) for n in range(40)]}
    assert (await held.webhook("generic", body)).status_code == 202

    async def listed_all() -> bool:
        query = (
            select(func.count())
            .select_from(StormMemberRow)
            .where(col(StormMemberRow.listed_ts).is_not(None))
        )
        return await count(held, query) == 40

    await held.until(listed_all, what="40 alerts listed", seconds=20)
    [summary] = held.channel_messages("#alerts")
    assert "Alert storm in #alerts (in progress): 40 alerts, 1 at level 1" in summary.text
    [lines] = held.thread(summary)
    assert sorted(int(i) for i in ALERT_ID.findall(text_of(lines))) == list(range(1, 41))

    # one button acknowledges every firing alert of the storm (their escalation stops)
    response = await held.driver.press_button(
        channel="#alerts", ts=summary.ts, action_id=ids.STORM_ACKNOWLEDGE, user="U0BOB"
    )
    assert response.status_code == 200
    firing = select(func.count()).select_from(AlertRow).where(AlertRow.status == "firing")
    acked = (
        select(func.count())
        .select_from(AlertEventRow)
        .where(AlertEventRow.kind == "acknowledged", AlertEventRow.actor == "U0BOB")
    )
    await held.world.wait_for(lambda: bool(held.world.ephemerals), timeout=10)
    assert await count(held, firing) == 0
    assert await count(held, acked) == 40
    [note] = held.world.ephemerals
    assert "You acknowledged 40 firing alert(s)" in note.text
    await held.world.wait_for(
        lambda: "acknowledged 40" in text_of(held.channel_messages("#alerts")[0]), timeout=10
    )

    clock.advance(seconds=15)  # window (10 s) + calm_for (4 s) + 1 s
    held.service.outbox_wakeup.set()
    await held.world.wait_for(
        lambda: "ended" in held.channel_messages("#alerts")[0].text, timeout=10
    )
    ended = held.channel_messages("#alerts")[0]
    assert "40 in all" in text_of(ended)

    # a storm alert resolved later still shows on the ended storm's summary
    resolved = {**alert(5), "status": "resolved"}
    assert (await held.webhook("generic", resolved)).status_code == 202
    clock.advance(seconds=6)  # past summary_every
    held.service.outbox_wakeup.set()
    await held.world.wait_for(
        lambda: "resolved 1" in text_of(held.channel_messages("#alerts")[0]), timeout=10
    )

    assert (await held.webhook("generic", alert(100))).status_code == 202
    messages = await held.wait_for_messages(2, channel="#alerts", seconds=10)
    assert "host-100" in text_of(messages[-1])


async def test_a_summary_and_a_page_slack_took_without_answering_are_found_not_posted_twice(
    tocsin: Harness,
) -> None:
    # Slack posts the storm's summary and its page to Alice, but answers both with a 503
    dm = tocsin.world.open_dm("U0ALICE").id
    for channel in ("#alerts", dm):
        tocsin.world.fail_next("chat.postMessage", status=503, channel=channel, apply=True)
    body = {"alerts": [alert(n) for n in range(40)]}
    assert (await tocsin.webhook("generic", body)).status_code == 202

    async def recorded() -> bool:
        async with tocsin.service.db.read() as session:
            storm = (await session.exec(select(StormRow))).one_or_none()
            page = (await session.exec(select(StormPageRow))).one_or_none()
        return bool(storm and storm.summary_ts and page and page.ts)

    await tocsin.until(recorded, what="the summary and the page recorded", seconds=30)
    async with tocsin.service.db.read() as session:
        storm = (await session.exec(select(StormRow))).one()
        page = (await session.exec(select(StormPageRow))).one()
    [summary] = tocsin.channel_messages("#alerts")
    [paged] = tocsin.world.channel_messages(dm)
    assert (storm.summary_ts, page.ts) == (summary.ts, paged.ts)
    assert "Alert storm in #alerts" in summary.text

    # the review counts the one page Alice received, not one per alert the storm rolled up
    since, until = datetime.now(UTC) - timedelta(days=1), datetime.now(UTC) + timedelta(days=1)
    review = await build_review(
        tocsin.service.db, ReviewFilter(since=since, until=until), Review(since=since, until=until)
    )
    assert page.pages == 40
    assert review.groups["person"]["U0ALICE"].summary()["pages"] == 1
