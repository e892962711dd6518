"""Slack's pace per conversation shared through the database (``storage.lane_pace``): the
replicas of one database together keep within one conversation's rate, and a 429 that one of
them receives holds the conversation for all of them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage import lane_pace
from storage.db import Database
from tests.support.databases import migrated

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


@pytest.fixture(params=["sqlite", "postgres"])
async def replicas(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Database, Database, Database]]:
    """Three processes' engines on one database (the first made it)."""
    async with migrated(request.param, tmp_path) as first:
        others = [Database(first.url), Database(first.url)]
        try:
            yield first, others[0], others[1]
        finally:
            for db in others:
                await db.dispose()


async def take(db: Database, lane: str, seconds: float) -> datetime | None:
    return await lane_pace.take(db, lane, now=at(seconds), rate=1.0, burst=3)


async def test_replicas_together_write_a_burst_then_one_a_second(
    replicas: tuple[Database, Database, Database],
) -> None:
    a, b, c = replicas
    assert [await take(db, "dm:U1", 0) for db in (a, b, c)] == [None, None, None]
    assert await take(a, "dm:U1", 0) == at(1)
    assert await take(b, "dm:U1", 0.5) == at(1)
    assert await take(c, "dm:U1", 1) is None
    assert await take(a, "dm:U1", 1.2) == at(2)
    assert await take(b, "#alerts", 1.2) is None  # another conversation has its own pace


async def test_concurrent_takes_from_three_replicas_never_exceed_the_burst(
    replicas: tuple[Database, Database, Database],
) -> None:
    takes = [take(replicas[n % 3], "dm:U2", 0) for n in range(15)]
    results = await asyncio.gather(*takes)
    assert results.count(None) == 3
    assert {r for r in results if r is not None} == {at(1)}


async def test_a_429_one_replica_receives_holds_the_lane_for_every_replica(
    replicas: tuple[Database, Database, Database],
) -> None:
    a, b, _ = replicas
    assert await take(a, "#alerts", 0) is None
    await lane_pace.hold(a, "#alerts", until=at(30), now=at(0))
    assert await take(b, "#alerts", 10) == at(30)
    assert await take(b, "#alerts", 30) is None
    await lane_pace.hold(b, "dm:U3", until=at(5), now=at(0))  # a lane not written to yet
    assert await take(a, "dm:U3", 1) == at(5)


async def test_a_replica_whose_clock_is_behind_does_not_refill_the_bucket(
    replicas: tuple[Database, Database, Database],
) -> None:
    a, b, _ = replicas
    for _ in range(3):
        assert await take(a, "dm:U4", 10) is None
    assert await take(b, "dm:U4", 9.5) is not None
    assert await take(b, "dm:U4", 11) is None


async def test_idle_lanes_are_forgotten_and_held_ones_kept(
    replicas: tuple[Database, Database, Database],
) -> None:
    a, _, _ = replicas
    await take(a, "#quiet", 0)
    await lane_pace.hold(a, "#held", until=at(600), now=at(0))
    assert await lane_pace.forget_idle(a, before=at(60)) == 1
    assert await take(a, "#held", 100) == at(600)
    assert await take(a, "#quiet", 100) is None


async def test_a_write_with_a_spare_leaves_the_last_slot_to_the_replicas_pages(
    replicas: tuple[Database, Database, Database],
) -> None:
    a, b, _ = replicas
    assert await take(a, "dm:U5", 0) is None
    assert await lane_pace.take(b, "dm:U5", now=at(0), rate=1.0, burst=3, spare=1) is None
    assert await lane_pace.take(b, "dm:U5", now=at(0), rate=1.0, burst=3, spare=1) == at(1)
    assert await take(a, "dm:U5", 0) is None  # a page takes the slot kept for it


async def test_a_write_done_late_is_counted_from_its_end_by_every_replica(
    replicas: tuple[Database, Database, Database],
) -> None:
    a, b, _ = replicas
    for _ in range(3):
        assert await take(a, "dm:U6", 0) is None
    await lane_pace.wrote(a, "dm:U6", counted=at(0.4))  # the last write reached Slack late
    assert await take(b, "dm:U6", 1) == at(1.4)
    assert await take(b, "dm:U6", 1.4) is None


async def test_a_margin_keeps_that_much_in_hand_besides_the_write(
    replicas: tuple[Database, Database, Database],
) -> None:
    a, _, _ = replicas

    async def taken(seconds: float) -> datetime | None:
        return await lane_pace.take(a, "dm:U7", now=at(seconds), rate=1.0, burst=3, margin=0.05)

    assert [await taken(0) for _ in range(3)] == [None, None, at(0.05)]
    assert await taken(0.05) is None
