"""One replica at a time draws a storm page's message (``storm_display.claim_page``), and an
edit drawn while a fold asked for a new message does not undo that ask (the page must ring)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.db import Database
from storage.noise import storm_display
from storage.tables import StormPageRow, StormRow
from tests.support.databases import migrated

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with migrated(request.param, tmp_path) as db:
        yield db


async def new_page(db: Database, *, ts: str | None = None) -> int:
    async with db.write() as session:
        storm = StormRow(channel="#alerts", started_at=NOW)
        session.add(storm)
        await session.flush()
        assert storm.id is not None
        page = StormPageRow(
            storm_id=storm.id, target="U0ALICE", pages=3, version=2, drawn_version=1, ts=ts
        )
        if ts is not None:
            page.channel_id = "D0ALICE"
        session.add(page)
        await session.flush()
        assert page.id is not None
        return page.id


async def test_of_three_replicas_claiming_a_page_at_once_one_draws_it(
    db: Database,
) -> None:
    page_id = await new_page(db)
    others = [Database(db.url), Database(db.url)]
    try:
        claims = await asyncio.gather(
            *(storm_display.claim_page(d, page_id, now=NOW, lease=LEASE) for d in (db, *others))
        )
    finally:
        for other in others:
            await other.dispose()
    won = [c for c in claims if c is not None]
    assert len(won) == 1
    assert won[0].target == "U0ALICE"
    assert won[0].channel == "#alerts"


async def test_a_claimed_page_is_free_again_when_released_or_its_lease_ends(
    db: Database,
) -> None:
    page_id = await new_page(db)
    assert await storm_display.claim_page(db, page_id, now=NOW, lease=LEASE) is not None
    assert await storm_display.claim_page(db, page_id, now=NOW, lease=LEASE) is None
    assert await storm_display.claim_page(db, page_id, now=NOW + LEASE, lease=LEASE) is not None
    await storm_display.release_page(db, page_id)
    assert await storm_display.claim_page(db, page_id, now=NOW, lease=LEASE) is not None


async def test_a_page_drawn_meanwhile_is_not_claimed(db: Database) -> None:
    page_id = await new_page(db)
    await storm_display.mark_page_drawn(
        db, page_id, version=2, now=NOW, channel_id="D0ALICE", ts="1.0"
    )
    assert await storm_display.claim_page(db, page_id, now=NOW, lease=LEASE) is None


async def test_an_edit_drawn_while_a_fold_asked_for_a_new_message_leaves_the_ask(
    db: Database,
) -> None:
    page_id = await new_page(db, ts="1.0")
    claimed = await storm_display.claim_page(db, page_id, now=NOW, lease=LEASE)
    assert claimed is not None
    assert claimed.ts == "1.0"
    async with db.write() as session:  # a level-1 page folded meanwhile: it must ring
        row = await session.get(StormPageRow, page_id)
        assert row is not None
        row.channel_id = row.ts = None
        row.version = 3
        session.add(row)
    await storm_display.mark_page_drawn(
        db, page_id, version=2, now=NOW, channel_id="D0ALICE", ts="1.0", edited="1.0"
    )
    [due] = await storm_display.pages_due(db)
    assert due.ts is None  # the next draw posts a new message
    assert due.version == 3
    assert await storm_display.claim_page(db, page_id, now=NOW, lease=LEASE) is not None


async def test_an_edit_with_no_fold_meanwhile_keeps_its_message(db: Database) -> None:
    page_id = await new_page(db, ts="1.0")
    assert await storm_display.claim_page(db, page_id, now=NOW, lease=LEASE) is not None
    await storm_display.mark_page_drawn(
        db, page_id, version=2, now=NOW, channel_id="D0ALICE", ts="1.0", edited="1.0"
    )
    async with db.read() as session:
        row = await session.get(StormPageRow, page_id)
    assert row is not None
    assert (row.ts, row.drawn_version, row.drawing_until) == ("1.0", 2, None)
