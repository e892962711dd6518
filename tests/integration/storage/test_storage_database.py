"""Storage on real databases: migrations, UTC timestamps, dedup by the database, the inbox
and outbox claims — the same tests on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, select

from config.settings import async_url
from escalation.model import AlertEvent, SourceStatus
from escalation.outbox_kinds import OutboxKind
from escalation.policy import NO_POLICY
from escalation.sources._validate import MAX_FINGERPRINT_CHARS
from escalation.state import open_alert
from storage import outbox
from storage.alerts import new_row
from storage.db import Database
from storage.intake import inbox
from storage.tables import AlertRow, OutboxRow
from tests.support.databases import database

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with database(request.param, tmp_path) as url:
        db = Database(async_url(url))
        await db.upgrade()
        try:
            yield db
        finally:
            await db.dispose()


def alert_row(fingerprint: str, integration: str = "generic") -> AlertRow:
    event = AlertEvent(fingerprint=fingerprint, status=SourceStatus.FIRING, title="t", source="s")
    tr = open_alert(fired_at=NOW, policy=NO_POLICY, now=NOW)
    return new_row(
        event,
        tr.state,
        integration=integration,
        level=2,
        grade_reason="test",
        team="ops",
        channel="#alerts",
        policy=NO_POLICY,
    )


async def test_migrations_reach_head_and_are_idempotent(db: Database) -> None:
    assert await db.migrations_current()
    await db.upgrade()
    assert await db.migrations_current()


async def test_the_migrations_create_every_index_the_models_declare(db: Database) -> None:
    declared = {
        (table.name, index.name)
        for table in SQLModel.metadata.sorted_tables
        for index in table.indexes
        if table.name != "inbox" or not db.is_sqlite  # on SQLite the inbox is a file apart
    }

    def indexes(sync: Any) -> set[tuple[str, str | None]]:
        found = inspect(sync)
        return {
            (name, i["name"]) for name in found.get_table_names() for i in found.get_indexes(name)
        }

    async with db.engine.connect() as conn:
        migrated = await conn.run_sync(indexes)
    assert declared - migrated == set()


async def test_postgresql_checks_no_reference_to_alerts_row_by_row_where_rows_come_by_thousands(
    db: Database,
) -> None:
    """A repeat firing's update stays on its page (no index touched); its timeline line
    (migration 0019), a new alert's outbox rows and a storm's members (0021) run no per-row
    lookup of their alert. SQLite keeps its foreign keys."""
    checked = ("alert_event", "outbox", "storm_member")

    def references(sync: Any) -> dict[str, list[str]]:
        found = inspect(sync)
        return {
            table: [key["referred_table"] for key in found.get_foreign_keys(table)]
            for table in checked
        }

    async with db.engine.connect() as conn:
        keys = await conn.run_sync(references)
        if db.is_sqlite:
            assert all("alert" in referred for referred in keys.values())
            return
        options = (
            await conn.execute(text("SELECT reloptions FROM pg_class WHERE relname = 'alert'"))
        ).scalar_one()
    assert keys == {"alert_event": [], "outbox": [], "storm_member": ["storm"]}
    assert options == ["fillfactor=70"]


async def test_pooled_postgresql_connections_the_server_closed_are_replaced_when_taken(
    db: Database,
) -> None:
    """The pool's check at checkout (one round trip, ``storage.db._ping``) finds connections
    the server ended (a restart, a proxy's timeout) and connects anew: the caller never sees
    the dead connection."""
    if db.is_sqlite:
        pytest.skip("PostgreSQL's pool: SQLite opens a file")

    async def backend() -> int:
        async with db.read() as session:
            conn = await session.connection()
            return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())

    pooled = await backend()
    closer = Database(db.url)
    try:
        async with closer.read() as session:
            conn = await session.connection()
            ended = await conn.execute(
                text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pooled}
            )
            assert ended.scalar_one() is True
    finally:
        await closer.dispose()
    assert await backend() != pooled  # the same call succeeds, on a new connection


async def test_replicas_starting_together_on_an_empty_postgresql_database_all_migrate(
    tmp_path: Path,
) -> None:
    async with database("postgres", tmp_path) as url:
        replicas = [Database(async_url(url)) for _ in range(3)]
        try:
            # without a lock they deadlock on each other's DDL (or fail on a duplicate table)
            await asyncio.wait_for(asyncio.gather(*(db.upgrade() for db in replicas)), 120)
            assert all([await db.migrations_current() for db in replicas])
        finally:
            for db in replicas:
                await db.dispose()


async def test_timestamps_come_back_timezone_aware_utc(db: Database) -> None:
    async with db.write() as session:
        row = alert_row("fp-utc")
        row.fired_at = datetime(2026, 3, 29, 3, 30, tzinfo=UTC) + timedelta(hours=0)
        session.add(row)
    async with db.read() as session:
        [found] = (await session.exec(select(AlertRow))).all()
    assert found.fired_at == datetime(2026, 3, 29, 3, 30, tzinfo=UTC)
    assert found.fired_at.utcoffset() == timedelta(0)


async def test_two_open_alerts_with_one_fingerprint_are_refused_by_the_database(
    db: Database,
) -> None:
    async with db.write() as session:
        session.add(alert_row("fp-dup"))
    with pytest.raises(IntegrityError):
        async with db.write() as session:
            session.add(alert_row("fp-dup"))
    async with db.write() as session:
        [first] = (await session.exec(select(AlertRow))).all()
        first.status = "resolved"
        session.add(first)
    async with db.write() as session:
        session.add(alert_row("fp-dup"))  # a resolved one does not block a new one
    async with db.read() as session:
        assert len((await session.exec(select(AlertRow))).all()) == 2


async def test_one_fingerprint_may_be_open_once_per_integration(db: Database) -> None:
    async with db.write() as session:
        session.add(alert_row("fp-shared", integration="grafana"))
        session.add(alert_row("fp-shared", integration="datadog"))
    with pytest.raises(IntegrityError):
        async with db.write() as session:
            session.add(alert_row("fp-shared", integration="datadog"))
    async with db.read() as session:
        found = (await session.exec(select(AlertRow))).all()
    assert sorted(row.integration for row in found) == ["datadog", "grafana"]


async def test_the_longest_fingerprint_a_parser_accepts_is_stored(db: Database) -> None:
    longest = "f" * MAX_FINGERPRINT_CHARS
    async with db.write() as session:
        session.add(alert_row(longest))
    async with db.read() as session:
        [found] = (await session.exec(select(AlertRow))).all()
    assert found.fingerprint == longest


async def test_inbox_claims_in_arrival_order_and_a_lapsed_lease_is_claimed_again(
    db: Database,
) -> None:
    ids = [
        await inbox.store(
            db,
            integration="generic",
            source_format="generic",
            body=json.dumps({"title": f"t{n}"}).encode(),
            now=NOW,
        )
        for n in range(3)
    ]
    first = await inbox.claim(db, now=NOW, limit=2)
    assert [i.id for i in first] == ids[:2]
    second = await inbox.claim(db, now=NOW)
    assert [i.id for i in second] == ids[2:]
    assert await inbox.claim(db, now=NOW + timedelta(seconds=30)) == []
    again = await inbox.claim(db, now=NOW + timedelta(seconds=61))
    assert [i.id for i in again] == ids


async def test_outbox_claims_only_the_oldest_pending_row_of_each_alert(db: Database) -> None:
    async with db.write() as session:
        a, b = alert_row("fp-a"), alert_row("fp-b")
        session.add(a)
        session.add(b)
        await session.flush()
        assert a.id is not None
        assert b.id is not None
        for n, alert_id in enumerate([a.id, a.id, b.id]):
            await outbox.enqueue(
                session, key=f"k{n}", kind=OutboxKind.UPDATE_WARNING, alert_id=alert_id, now=NOW
            )
    claimed = await outbox.claim_due(db, now=NOW)
    assert [(c.alert_id, c.attempts) for c in claimed] == [(a.id, 1), (b.id, 1)]
    assert await outbox.claim_due(db, now=NOW) == []
    await outbox.mark_done(db, [claimed[0].id], now=NOW)
    [next_of_a] = await outbox.claim_due(db, now=NOW)
    assert next_of_a.alert_id == a.id
    assert next_of_a.id > claimed[0].id


async def test_concurrent_outbox_claims_never_hand_out_a_row_twice(db: Database) -> None:
    async with db.write() as session:
        rows = [alert_row(f"fp-{n}") for n in range(40)]
        for row in rows:
            session.add(row)
        await session.flush()
        for row in rows:
            assert row.id is not None
            await outbox.enqueue(
                session,
                key=f"post-{row.id}",
                kind=OutboxKind.POST_WARNING,
                alert_id=row.id,
                now=NOW,
            )
    results = await asyncio.gather(*(outbox.claim_due(db, now=NOW, limit=7) for _ in range(8)))
    handed_out = [c.id for batch in results for c in batch]
    assert len(handed_out) == len(set(handed_out)) == 40


async def test_rescheduled_outbox_row_waits_and_keeps_its_error(db: Database) -> None:
    async with db.write() as session:
        row = alert_row("fp-r")
        session.add(row)
        await session.flush()
        await outbox.enqueue(
            session, key="r", kind=OutboxKind.POST_WARNING, alert_id=row.id, now=NOW
        )
    [item] = await outbox.claim_due(db, now=NOW)
    await outbox.reschedule(db, item.id, at=NOW + timedelta(seconds=30), error="slack: ratelimited")
    assert await outbox.claim_due(db, now=NOW + timedelta(seconds=29)) == []
    [again] = await outbox.claim_due(db, now=NOW + timedelta(seconds=30))
    assert again.attempts == 2
    async with db.read() as session:
        stored = await session.get(OutboxRow, item.id)
    assert stored is not None
    assert stored.last_error == "slack: ratelimited"
    assert stored.status == "pending"


async def test_the_inbox_writer_stores_rows_as_the_orm_does_and_numbers_them_in_order(
    db: Database,
) -> None:
    """The writer's own fast paths (raw executemany on SQLite, unnest on PostgreSQL) must
    store exactly what the ORM would: same timestamp form, same ids sequence, same bodies."""
    first = await inbox.store(
        db, integration="generic", source_format="generic", body=b"{}", now=NOW
    )
    writer = inbox.InboxWriter(db)
    moments = [NOW + timedelta(microseconds=n * 250_001) for n in range(20)]
    try:
        ids = await asyncio.gather(
            *(
                writer.store(
                    integration="am", source_format="alertmanager", body=b"%d" % n, now=moment
                )
                for n, moment in enumerate(moments)
            )
        )
    finally:
        await writer.close()
    assert ids == list(range(first + 1, first + 21))
    claimed = await inbox.claim(db, now=NOW + timedelta(minutes=1), limit=100)
    assert [(c.id, c.body, c.received_at) for c in claimed] == [
        (first, b"{}", NOW),
        *((i, b"%d" % n, m) for n, (i, m) in enumerate(zip(ids, moments, strict=True))),
    ]
    if db.is_sqlite:  # stored in the same text form, so ORDER BY and range queries agree
        async with db.read() as session:
            query = text("SELECT received_at FROM inbox ORDER BY id")
            conn = await session.connection()
            stored = (await conn.execute(query)).all()
        assert {len(row[0]) for row in stored} == {len("2026-11-21 12:00:00.000000")}
