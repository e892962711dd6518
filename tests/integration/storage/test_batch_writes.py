"""storage.batch: many rows per statement at the driver level, on SQLite and PostgreSQL —
what is written and read back is what SQLAlchemy writes and reads, and in the rows' order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, select

from config.settings import async_url
from storage.batch import ROWS_PER_STATEMENT, Reader, insert_many, update_many
from storage.db import Database
from storage.tables import OutboxRow, table_of
from tests.support.databases import database

OUTBOX: Table = table_of(OutboxRow)
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
PARIS = timezone(timedelta(hours=1))
COUNT = 2 * ROWS_PER_STATEMENT + 37  # more than one statement's worth of rows, and a rest


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with database(request.param, tmp_path) as url:
        found = Database(async_url(url))
        await found.upgrade()
        try:
            yield found
        finally:
            await found.dispose()


def outbox_rows(count: int, *, tag: str) -> list[dict[str, Any]]:
    """Varied values: NULLs, a payload object shared by many rows, empty payloads, times in
    another zone, both booleans — and columns holding one object in every row (``NOW``)."""
    shared = {"tier": 1, "rule": "STEP-1", "notes": ["a", "b"]}
    rows = []
    for n in range(count):
        rows.append(
            {
                "idempotency_key": f"{tag}:{n}",
                "alert_id": None,
                "kind": ("page_dm", "update_warning", "thread_lines")[n % 3],
                "payload": shared if n % 3 == 0 else ({} if n % 3 == 1 else {"n": n}),
                "status": "pending",
                "created_at": NOW,
                "next_attempt_at": (NOW + timedelta(seconds=n)).astimezone(PARIS),
                "attempts": n % 4,
                "last_error": None if n % 5 else f"error {n}",
                "done_at": None if n % 2 else NOW - timedelta(minutes=n),
                "in_doubt": n % 7 == 0,
            }
        )
    return rows


async def read_back(db: Database, tag: str) -> list[dict[str, Any]]:
    async with db.read() as session:
        conn = await session.connection()
        query = select(OUTBOX).where(OUTBOX.c.idempotency_key.like(f"{tag}:%"))
        found = (await conn.execute(query.order_by(OUTBOX.c.id))).mappings().all()
    return [dict(row) for row in found]


@pytest.mark.parametrize("count", [1, COUNT])
async def test_insert_many_writes_every_row_as_given_in_the_order_given(
    db: Database, count: int
) -> None:
    rows = outbox_rows(count, tag="ins")
    async with db.write() as session:
        await insert_many(await session.connection(), OUTBOX, rows)

    found = await read_back(db, "ins")

    assert [r["idempotency_key"] for r in found] == [r["idempotency_key"] for r in rows]
    assert [r["id"] for r in found] == sorted(r["id"] for r in found)
    for got, given in zip(found, rows, strict=True):
        assert {k: got[k] for k in given} == given
        assert got["next_attempt_at"].tzinfo == UTC


async def test_update_many_sets_the_given_columns_of_the_given_rows_only(db: Database) -> None:
    rows = outbox_rows(COUNT, tag="upd")
    async with db.write() as session:
        await insert_many(await session.connection(), OUTBOX, rows)
    before = await read_back(db, "upd")
    done = NOW + timedelta(hours=1)
    changes = [
        {"id": row["id"], "status": "done", "done_at": done, "attempts": row["attempts"] + 1}
        for row in before[::2]
    ]
    assert len(changes) > ROWS_PER_STATEMENT

    async with db.write() as session:
        await update_many(await session.connection(), OUTBOX, changes)

    after = await read_back(db, "upd")
    changed = {change["id"]: change for change in changes}
    for old, new in zip(before, after, strict=True):
        expected = old | changed.get(old["id"], {})
        assert new == expected


async def test_reader_decodes_rows_as_sqlalchemy_reads_them(db: Database) -> None:
    async with db.write() as session:
        await insert_many(await session.connection(), OUTBOX, outbox_rows(50, tag="read"))
    columns = list(OUTBOX.c)
    reader = Reader(columns)
    where = OUTBOX.c.idempotency_key.like("read:%")
    async with db.read() as session:
        conn = await session.connection()
        typed = (await conn.execute(select(*columns).where(where).order_by(OUTBOX.c.id))).all()
        raw = (await conn.execute(select(*reader.columns).where(where).order_by(OUTBOX.c.id))).all()

    decoded = reader.decode(conn.dialect, raw)

    assert decoded == [tuple(row) for row in typed]
    assert all(isinstance(row[OUTBOX.c.keys().index("created_at")], datetime) for row in decoded)
    # equal timestamps are converted once; equal JSON values stay objects of their own
    payloads = [row[OUTBOX.c.keys().index("payload")] for row in decoded]
    assert payloads[0] == payloads[3]
    assert payloads[0] is not payloads[3]
