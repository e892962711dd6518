"""The inbox: webhook bodies stored before the sender gets its 2xx, processed afterwards."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import Update, insert, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncResult
from sqlmodel import col, select

from escalation.model import AlertEvent
from storage.db import Database
from storage.tables import InboxDoneRow, InboxRow, table_of
from storage.types import sqlite_timestamp

PENDING, DONE, FAILED = "pending", "done", "failed"

_Parsed = tuple[object, Sequence[AlertEvent]]
"""A body's events and the rules that parsed them (compared by identity)."""


class ParsedBodies:
    """The events of bodies this process took in, parsed at the door to check them, kept
    for its own inbox worker so that a body is parsed once, not twice. What the worker reads
    from the inbox and does not find here (after a restart, a body another replica took in,
    one parsed by rules since reloaded, one not kept) it parses again: this only saves work.

    Bounded by events. The worker takes bodies oldest first, so past ``max_events`` the
    bodies it has already passed are let go (another replica's worker processed them), and
    then a new body is not kept rather than an older one let go: with a backlog larger than
    the bound, letting the oldest go would drop exactly the bodies the worker takes next,
    and every body would be parsed twice (bench/ingest_bench.py, repeats in batches of 100:
    the worker's parsing was ~17 % of the process's time while the intake outran it)."""

    def __init__(self, *, max_events: int = 20_000) -> None:
        self._max_events = max_events
        self._kept: dict[int, _Parsed] = {}
        self._events = 0
        self._passed = 0
        """The highest inbox id the worker has asked for."""

    def __len__(self) -> int:
        return len(self._kept)

    def keep(self, inbox_id: int, rules: object, events: Sequence[AlertEvent]) -> None:
        """Keep ``events``, parsed by ``rules`` (compared by identity when taken)."""
        if len(events) > self._max_events:
            return
        while self._kept and self._events + len(events) > self._max_events:
            oldest = next(iter(self._kept))  # dicts keep arrival order
            if oldest > self._passed:
                return  # the worker still comes to every body kept: this one waits for it
            self._events -= len(self._kept.pop(oldest)[1])
        self._kept[inbox_id] = (rules, events)
        self._events += len(events)

    def take(self, inbox_id: int, rules: object) -> Sequence[AlertEvent] | None:
        """The events kept for the body, if ``rules`` parsed them; let go either way."""
        self._passed = max(self._passed, inbox_id)
        found = self._kept.pop(inbox_id, None)
        if found is None:
            return None
        self._events -= len(found[1])
        return found[1] if found[0] is rules else None


async def store(
    db: Database, *, integration: str, source_format: str, body: bytes, now: datetime
) -> int:
    """Write one accepted body durably; returns its inbox id."""
    async with db.write(inbox=True) as session:
        row = InboxRow(
            integration=integration, source_format=source_format, body=body, received_at=now
        )
        session.add(row)
        await session.flush()
        assert row.id is not None
        return row.id


_INSERT = insert(InboxRow)
_SQLITE_TOP = "SELECT coalesce(max(id), 0) FROM inbox"
_NEXT_IDS_SQLITE = text(_SQLITE_TOP)
_SQLITE_INSERT = (
    "INSERT INTO inbox (id, integration, source_format, body, received_at, status, attempts) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)


async def _new_sqlite_ids(conn: AsyncConnection, count: int) -> list[int]:
    """Ids for ``count`` new rows, taken before the insert so it needs no ``RETURNING``
    (SQLAlchemy's ordered ``RETURNING`` for many rows costs ~0.3 ms a row on SQLite): after
    the largest id, as SQLite itself numbers rows. The write transaction makes this safe
    (another writer that committed in between makes the insert fail, it never reuses an id).
    On PostgreSQL ids come from the table's own sequence (:class:`_PostgresAppender`)."""
    top = int((await conn.execute(_NEXT_IDS_SQLITE)).scalar_one())
    return list(range(top + 1, top + 1 + count))


class InboxUnavailable(Exception):
    """The inbox could not be written (the database is away): the sender should retry."""


_PG_INSERT = (
    # one statement: each row's id from the table's sequence, returned in the rows' order
    "WITH rows AS (SELECT nextval(pg_get_serial_sequence('inbox', 'id')) AS id, u.* "
    "FROM unnest($1::text[], $2::text[], $3::bytea[], $4::timestamptz[], $5::text[], "
    "$6::int[]) WITH ORDINALITY AS u(integration, source_format, body, received_at, status, "
    "attempts, n)), "
    "stored AS (INSERT INTO inbox (id, integration, source_format, body, received_at, status, "
    "attempts) SELECT id, integration, source_format, body, received_at, status, attempts "
    "FROM rows) "
    "SELECT id FROM rows ORDER BY n"
)


class _PostgresAppender:
    """A PostgreSQL connection of the inbox writer's own, in autocommit: a batch is one
    statement (every row through ``unnest``, each id from the table's sequence, the ids
    returned in the rows' order; the row referenced twice is computed once), committed
    before it returns. Through the async engine a batch would also cost a pool checkout with
    its check, BEGIN, COMMIT and the pool's reset (~1.3 ms of CPU for a lone webhook when it
    was measured). A failed write drops the connection; the next one reconnects.
    """

    def __init__(self, db: Database) -> None:
        args, kwargs = db.engine.dialect.create_connect_args(db.engine.url)
        self._args: list[Any] = list(args)
        self._kwargs: dict[str, Any] = {**kwargs, "timeout": 10}
        self._conn: asyncpg.Connection | None = None

    async def write(self, values: list[dict[str, Any]]) -> list[int]:
        try:
            if self._conn is None or self._conn.is_closed():
                self._conn = await asyncpg.connect(*self._args, **self._kwargs)
            found = await self._conn.fetch(
                _PG_INSERT, *([row[key] for row in values] for key in _COLUMNS)
            )
            ids = [int(r[0]) for r in found]
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
            await self.close()
            raise InboxUnavailable(type(exc).__name__) from exc
        return ids

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            conn.terminate()


_COLUMNS = ("integration", "source_format", "body", "received_at", "status", "attempts")


class InboxWriter:
    """Group commit: bodies stored by concurrent requests share one transaction.

    Each :meth:`store` returns only once the transaction holding its row has committed, so
    the 2xx still follows durability; but a burst of requests costs one commit (one fsync,
    one trip through SQLite's single writer) instead of one each. A lone request is written
    at once (a batch of one): nothing waits for company.

    On a SQLite file a batch is written whole in one worker thread on a synchronous
    connection of its own (taking the single writer's turn like every other write): one
    hand-off between threads instead of one per statement.
    """

    def __init__(
        self, db: Database, *, max_batch: int = 500, parsed: ParsedBodies | None = None
    ) -> None:
        self._db = db
        self._max_batch = max_batch
        self._parsed = parsed
        self._queue: list[tuple[dict[str, Any], asyncio.Future[int], _Parsed | None]] = []
        self._task: asyncio.Task[None] | None = None
        self._sync = db.sqlite_sync_engine()
        self._postgres = None if db.is_sqlite else _PostgresAppender(db)
        self._thread = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="tocsin-inbox")
            if self._sync is not None
            else None
        )

    async def store(
        self,
        *,
        integration: str,
        source_format: str,
        body: bytes,
        now: datetime,
        parsed: _Parsed | None = None,
    ) -> int:
        """Write one accepted body durably; returns its inbox id. ``parsed``: (the rules,
        the events they found in it), kept for the inbox worker (:class:`ParsedBodies`) as
        the row commits — before the worker can claim it."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        values = {
            "integration": integration,
            "source_format": source_format,
            "body": body,
            "received_at": now,
            "status": PENDING,
            "attempts": 0,
        }
        self._queue.append((values, future, parsed))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush())
        return await asyncio.shield(future)

    async def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
            values = [v for v, _, _ in batch]
            try:
                ids = await self._write(values)
            except Exception as exc:
                for _, future, _ in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future, parsed), inbox_id in zip(batch, ids, strict=True):
                if parsed is not None and self._parsed is not None:
                    self._parsed.keep(inbox_id, *parsed)
                if not future.done():
                    future.set_result(inbox_id)

    async def _write(self, values: list[dict[str, Any]]) -> list[int]:
        if self._sync is not None and self._thread is not None:
            # a webhook's 2xx waits for it; the inbox's own writer where it has a file of its own
            async with self._db.sqlite_writer(urgent=True, inbox=True):
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(self._thread, self._write_sqlite, values)
        if self._postgres is not None:
            return await self._postgres.write(values)
        async with self._db.write(urgent=True, inbox=True) as session:  # in-memory SQLite
            conn = await session.connection()
            ids = await _new_sqlite_ids(conn, len(values))
            await conn.execute(_INSERT, _with_ids(values, ids))
        return ids

    def _write_sqlite(self, values: list[dict[str, Any]]) -> list[int]:
        """In the writer thread: ids after the largest, the rows, the commit. The rows go
        through the driver's own ``executemany`` (C, without the GIL while SQLite works), with
        ``received_at`` in the text form SQLAlchemy writes for :class:`UTCDateTime` on SQLite
        (naive UTC, ``YYYY-MM-DD HH:MM:SS.ffffff``), so the event loop keeps serving."""
        assert self._sync is not None
        with self._sync.begin() as conn:
            driver = conn.connection.driver_connection
            assert driver is not None  # an open pooled connection always has its sqlite3 one
            cursor = driver.cursor()
            top = int(cursor.execute(_SQLITE_TOP).fetchone()[0])
            ids = list(range(top + 1, top + 1 + len(values)))
            cursor.executemany(
                _SQLITE_INSERT,
                [
                    (
                        inbox_id,
                        row["integration"],
                        row["source_format"],
                        row["body"],
                        sqlite_timestamp(row["received_at"]),
                        row["status"],
                        row["attempts"],
                    )
                    for inbox_id, row in zip(ids, values, strict=True)
                ],
            )
        return ids

    async def close(self) -> None:
        """Wait for what is queued to be written, then let go of the writer thread."""
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task
        if self._thread is not None:
            self._thread.shutdown(wait=True)
        if self._sync is not None:
            self._sync.dispose()
        if self._postgres is not None:
            await self._postgres.close()


def _with_ids(values: list[dict[str, Any]], ids: list[int]) -> list[dict[str, Any]]:
    return [{**row, "id": i} for row, i in zip(values, ids, strict=True)]


@dataclass(frozen=True, slots=True)
class InboxItem:
    id: int
    integration: str
    source_format: str
    body: bytes
    received_at: datetime


CLAIM_BYTES = 8 * 1024 * 1024
"""The most body bytes one claim hands out (at least one body): a claim of many bodies at
their size cap would otherwise hold them all in memory at once, with their events."""


async def claim(
    db: Database,
    *,
    now: datetime,
    limit: int = 50,
    lease: timedelta = timedelta(seconds=60),
    max_bytes: int = CLAIM_BYTES,
) -> list[InboxItem]:
    """Take pending bodies in arrival order, at most ``limit`` of them and ``max_bytes`` of
    bodies (but at least one); a crashed worker's claim expires with its lease.

    ``processed_at`` holds the lease end while a row is pending. Two core statements (the
    rows, read as they come, then one ``UPDATE`` of those taken), not an ORM object and an
    ``UPDATE`` per row.

    Where the inbox has a file of its own, a body already listed in ``inbox_done`` (its
    alerts were written, the process stopped before it was marked done) is marked done
    here and not handed out again."""
    table = _TABLE
    query = (
        select(table.c.id, table.c.integration, table.c.source_format, table.c.body)
        .add_columns(table.c.received_at)
        .where(
            table.c.status == PENDING,
            table.c.processed_at.is_(None) | (table.c.processed_at <= now),
        )
        .order_by(table.c.id)
        .limit(limit)
    )
    if not db.is_sqlite:
        query = query.with_for_update(skip_locked=True)
    apart = await db.inbox_apart()
    async with db.write(inbox=True) as session:
        conn = await session.connection()
        items = await _taken(await conn.stream(query), max_bytes)
        if items and apart:
            done = await _already_done(conn, [item.id for item in items])
            if done:
                await conn.execute(_mark_done(done, now=now))
                items = [item for item in items if item.id not in done]
        if items:
            await conn.execute(
                update(table)
                .where(table.c.id.in_([item.id for item in items]))
                .values(processed_at=now + lease, attempts=table.c.attempts + 1)
            )
    return items


async def _taken(
    rows: AsyncResult[int, str, str, bytes, datetime], max_bytes: int
) -> list[InboxItem]:
    items: list[InboxItem] = []
    size = 0
    try:
        async for part in rows.partitions(50):
            for row in part:
                item = InboxItem(*row)
                if items and size + len(item.body) > max_bytes:
                    return items
                items.append(item)
                size += len(item.body)
    finally:
        await rows.close()
    return items


_DONE_TABLE = table_of(InboxDoneRow)


async def _already_done(conn: AsyncConnection, ids: list[int]) -> set[int]:
    query = select(_DONE_TABLE.c.inbox_id).where(_DONE_TABLE.c.inbox_id.in_(ids))
    return {int(row[0]) for row in (await conn.execute(query)).all()}


def _mark_done(ids: Collection[int], *, now: datetime) -> Update:
    return (
        update(_TABLE)
        .where(_TABLE.c.id.in_(ids), _TABLE.c.status == PENDING)
        .values(status=DONE, processed_at=now, error=None)
    )


async def record_done(
    conn: AsyncConnection, ids: Sequence[int], *, now: datetime, apart: bool
) -> None:
    """In the transaction that wrote the bodies' alerts: mark them done — or, where the inbox
    is a file of its own (``apart``), list them in ``inbox_done`` (this transaction's file),
    to be marked done by :func:`finish_done` once it commits."""
    if not ids:
        return
    if apart:
        await conn.execute(_FORGET_DONE, {"floor": min(ids), "pending": PENDING})
        await conn.execute(insert(_DONE_TABLE), [{"inbox_id": i} for i in ids])
    else:
        await conn.execute(_mark_done(ids, now=now))


_FORGET_DONE = text(
    "DELETE FROM inbox_done WHERE inbox_id < :floor AND inbox_id NOT IN "
    "(SELECT id FROM inbox WHERE status = :pending AND id < :floor)"
)
"""The list kept short: bodies before these that are marked done in the inbox need no entry
(one still pending — its done-mark did not happen — keeps its own)."""


async def finish_done(db: Database, ids: Sequence[int], *, now: datetime) -> None:
    """After :func:`record_done` committed, where the inbox is apart: mark the bodies done in
    the inbox (the second commit; a body the process stopped before is marked by its next
    claim)."""
    if ids:
        async with db.write(inbox=True) as session:
            await (await session.connection()).execute(_mark_done(ids, now=now))


_TABLE = table_of(InboxRow)


async def mark_failed(db: Database, inbox_id: int, *, now: datetime, error: str) -> None:
    async with db.write(inbox=True) as session:
        await session.exec(
            update(InboxRow)
            .where(col(InboxRow.id) == inbox_id)
            .values(status=FAILED, processed_at=now, error=error[:2000])
        )
