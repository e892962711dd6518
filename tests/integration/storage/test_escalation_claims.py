"""Due escalations are stepped exactly once, even with three engines racing on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from config.settings import async_url
from escalation.model import AlertEvent, SourceStatus
from escalation.noise.label_matchers import parse_matchers
from escalation.policy import EscalationPolicy, Target, TargetKind, Tier
from escalation.state import open_alert
from escalation.timeline import STEP_RULES
from storage.alerts import new_row
from storage.db import Database
from storage.escalations import next_wake_at, step_due
from storage.noise import silences
from storage.tables import AlertEventRow, OutboxRow
from tests.support.databases import database

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
POLICY = EscalationPolicy(
    name="race",
    tiers=(
        Tier(targets=(Target(TargetKind.USER, "U0ALICE"),), after_seconds=0),
        Tier(targets=(Target(TargetKind.USER, "U0BOB"),), after_seconds=600),
    ),
)


class NoRotations:
    def on_call(self, rotation: str, *, at: datetime) -> str | None:
        return None


async def seed(db: Database, count: int) -> None:
    async with db.write() as session:
        for n in range(count):
            event = AlertEvent(
                fingerprint=f"fp-{n}", status=SourceStatus.FIRING, title=f"t{n}", source="s"
            )
            opened = open_alert(fired_at=NOW, policy=POLICY, now=NOW)
            session.add(
                new_row(
                    event,
                    opened.state,
                    integration="generic",
                    level=2,
                    grade_reason="test",
                    team="ops",
                    channel="#alerts",
                    policy=POLICY,
                )
            )


@pytest.fixture(params=["sqlite", "postgres"])
async def url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with database(request.param, tmp_path) as found:
        yield async_url(found)


async def step_counts(db: Database) -> Counter[int]:
    async with db.read() as session:
        rows = (
            await session.exec(select(AlertEventRow).where(col(AlertEventRow.rule).in_(STEP_RULES)))
        ).all()
    return Counter(row.alert_id for row in rows)


async def test_one_engine_steps_each_due_alert_once_and_arms_the_next_tier(url: str) -> None:
    db = Database(url)
    await db.upgrade()
    try:
        await seed(db, 50)
        assert await step_due(db, now=NOW, directory=NoRotations(), limit=20) == 20
        assert await step_due(db, now=NOW, directory=NoRotations()) == 30
        assert await step_due(db, now=NOW, directory=NoRotations()) == 0
        assert set((await step_counts(db)).values()) == {1}
        assert await next_wake_at(db) == NOW + timedelta(seconds=600)
        async with db.read() as session:
            pages = (await session.exec(select(OutboxRow).where(OutboxRow.kind == "page_dm"))).all()
        assert len(pages) == 50
    finally:
        await db.dispose()


async def test_three_engines_racing_on_postgres_page_each_step_exactly_once(
    url: str,
) -> None:
    if url.startswith("sqlite"):
        pytest.skip("several replicas need PostgreSQL; SQLite runs one writer")
    engines = [Database(url) for _ in range(3)]
    await engines[0].upgrade()
    try:
        await seed(engines[0], 600)

        async def run(db: Database) -> int:
            total = 0
            while stepped := await step_due(db, now=NOW, directory=NoRotations(), limit=25):
                total += stepped
            return total

        totals = await asyncio.gather(*(run(db) for db in engines))
        assert sum(totals) == 600
        assert all(t > 0 for t in totals), f"every engine should get a share: {totals}"
        counts = await step_counts(engines[0])
        assert len(counts) == 600
        assert set(counts.values()) == {1}
        async with engines[0].read() as session:
            pages = (await session.exec(select(OutboxRow).where(OutboxRow.kind == "page_dm"))).all()
        assert len(pages) == 600
    finally:
        for db in engines:
            await db.dispose()


async def test_the_engine_wakes_at_the_next_step_or_the_next_silence_start(url: str) -> None:
    db = Database(url)
    await db.upgrade()
    try:
        assert await next_wake_at(db) is None
        await seed(db, 3)
        assert await next_wake_at(db) == NOW
        assert await step_due(db, now=NOW, directory=NoRotations()) == 3
        assert await next_wake_at(db) == NOW + timedelta(seconds=600)

        start, end = NOW + timedelta(seconds=300), NOW + timedelta(seconds=900)
        await silences.create_silence(
            db,
            matchers=parse_matchers("fingerprint=~fp-.*"),
            starts_at=start,
            ends_at=end,
            team=None,
            created_by="U0ALICE",
            comment="maintenance",
            now=NOW,
        )
        assert await next_wake_at(db) == start
        assert await silences.run_due(db, now=start - timedelta(seconds=1)) == 0
        assert await silences.run_due(db, now=start) == 1 + 3  # started, muted all three
        assert await next_wake_at(db) == end  # the silenced alerts are released then
        assert await silences.run_due(db, now=end - timedelta(seconds=1)) == 0
        assert await silences.run_due(db, now=end) == 3
        assert await next_wake_at(db) == end  # released: due again at once
    finally:
        await db.dispose()


async def test_the_wake_up_check_for_silenced_alerts_stays_on_its_index_when_reused(
    url: str,
) -> None:
    """asyncpg prepares statements; after five runs PostgreSQL may plan one generically,
    without its values. "Is a silenced alert due?" then scanned every alert at each engine
    wake-up (storage.db.POSTGRES_SETTINGS)."""
    if url.startswith("sqlite"):
        pytest.skip("prepared statements and generic plans are PostgreSQL's")
    db = Database(url)
    await db.upgrade()
    try:
        await seed(db, 2000)
        async with db.engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.exec_driver_sql("ANALYZE alert")
        scans = "SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 'alert'"
        async with db.read() as session:
            conn = await session.connection()
            before = (await conn.exec_driver_sql(scans)).scalar_one()
            for _ in range(8):  # the same prepared statement, on the same connection
                assert (await conn.execute(silences._anything_due(NOW))).scalar() is False
            assert (await conn.exec_driver_sql(scans)).scalar_one() == before
    finally:
        await db.dispose()
