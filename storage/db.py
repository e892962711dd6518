"""The database: async engine, sessions, the SQLite single writer, migrations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import structlog
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.util import await_only
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import inbox_file
from storage.writer_turn import WriterTurn

log = structlog.get_logger("tocsin.storage")

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


POSTGRES_SETTINGS = {"plan_cache_mode": "force_custom_plan"}
"""Session settings for every PostgreSQL connection of the pool.

asyncpg prepares each statement and, after five runs, PostgreSQL may switch to a *generic*
plan, made without the parameters' values. For ``status = $1`` that plan assumes a third of
the alerts match, so "is any silenced alert due?" — asked at every escalation wake-up — became
a scan of every alert (59 ms at 100,000 open alerts instead of 0.01 ms) once the statement had
run five times. A plan made for the values (what a driver without prepared statements gets)
costs ~0.1 ms of planning and keeps every such query on its index. PostgreSQL 12 or later."""


def _ping(dbapi_connection: Any, _record: object, _proxy: object) -> None:
    """Every PostgreSQL connection taken from the pool is checked first (a restarted server,
    a connection a proxy closed): ``SELECT 1`` over the simple query protocol (no arguments:
    nothing prepared), one round trip. A connection that fails it is replaced (the pool's
    documented "pessimistic" check: ``DisconnectionError`` makes it connect anew, up to
    three times).

    SQLAlchemy's own ``pool_pre_ping`` for asyncpg wraps its statement in ``BEGIN`` …
    ``ROLLBACK`` — three round trips at every checkout, ~8 % of a replica's CPU under
    single-alert webhooks (py-spy, ``bench.ingest_bench --phase single``) — so that
    pgbouncer's transaction mode keeps a prepared statement on one server connection; the
    simple protocol prepares nothing, and needs no transaction around it there."""
    try:
        await_only(dbapi_connection.driver_connection.execute("SELECT 1"))
    except Exception as exc:  # whatever it is, this connection cannot be trusted
        raise DisconnectionError(f"pre-ping failed: {type(exc).__name__}") from exc


class Database:
    """One engine per process. On SQLite every write goes through one asyncio lock (the
    single writer); on PostgreSQL writers run concurrently and rely on row locks."""

    def __init__(self, url: str, *, echo: bool = False, attach_inbox: bool = True) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.inbox_file: Path | None = None
        """On a SQLite file, the inbox's own file (``storage.inbox_file``), attached to every
        connection; ``attach_inbox=False`` (commands that only read the record) leaves it be."""
        file = sqlite_path(url)
        if file is not None and attach_inbox:
            self.inbox_file = inbox_file.inbox_path(Path(file).expanduser())
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            _ensure_parent(url)
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs.update(
                pool_size=10,
                max_overflow=10,
                connect_args={"server_settings": POSTGRES_SETTINGS},
            )
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            self._listen(self.engine.sync_engine)
        else:
            event.listen(self.engine.sync_engine, "checkout", _ping)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        self._write_lock = WriterTurn()
        self._inbox_turn = WriterTurn()  # taken only where the inbox is apart (``_turn``)
        self._inbox_apart: bool | None = None if self.inbox_file is not None else False

    def _listen(self, engine: Engine) -> None:
        event.listen(engine, "connect", _sqlite_pragmas)
        if self.inbox_file is not None:
            path = self.inbox_file
            event.listen(engine, "connect", lambda conn, _: inbox_file.attach(conn, path))

    async def inbox_apart(self) -> bool:
        """Whether the inbox is in a file of its own (a SQLite file whose inbox was moved out
        by :meth:`upgrade`): then a transaction writes the inbox or the rest, never both, and
        the two have a writer's turn each (``write(inbox=…)``)."""
        if self._inbox_apart is None:
            async with self.engine.connect() as conn:
                apart = not await conn.run_sync(inbox_file.main_has_inbox)
            if apart:
                async with self._write_lock.hold(), self.engine.begin() as conn:
                    forgotten = await conn.run_sync(inbox_file.forget_unknown_done)
                if forgotten:
                    log.warning(
                        "inbox_file_behind",
                        file=str(self.inbox_file),
                        done_entries_forgotten=forgotten,
                    )
            self._inbox_apart = apart
        return self._inbox_apart

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            yield session

    @asynccontextmanager
    async def write(
        self, *, urgent: bool = False, inbox: bool = False
    ) -> AsyncIterator[AsyncSession]:
        """A transaction that commits on success and rolls back on error. On SQLite it takes
        the single writer's turn (``urgent``: before the others waiting, see
        :mod:`storage.writer_turn`); ``inbox``: a transaction that writes the inbox table
        and nothing else, which takes the inbox file's turn where it has a file of its own."""
        if self.is_sqlite:
            async with (
                (await self._turn(inbox)).hold(urgent=urgent),
                self._sessions() as session,
                session.begin(),
            ):
                yield session
        else:
            async with self._sessions() as session, session.begin():
                yield session

    @asynccontextmanager
    async def sqlite_writer(
        self, *, urgent: bool = False, inbox: bool = False
    ) -> AsyncIterator[None]:
        """Hold the single writer's turn without a session: for work done whole on a
        :meth:`sqlite_sync_engine` connection in a worker thread (``inbox`` as for
        :meth:`write`)."""
        async with (await self._turn(inbox)).hold(urgent=urgent):
            yield

    async def _turn(self, inbox: bool) -> WriterTurn:
        if inbox and await self.inbox_apart():
            return self._inbox_turn
        return self._write_lock

    def sqlite_sync_engine(self) -> Engine | None:
        """A synchronous engine on the same SQLite file (same pragmas), or ``None`` for
        PostgreSQL or an in-memory database (another connection would see another database).

        A transaction run whole in one worker thread costs one hand-off between threads;
        through the async engine every statement, the commit and the pool's reset are one
        each (~1.4 ms of CPU for a one-row insert, bench/ingest_bench.py's paced phase)."""
        path = sqlite_path(self.url)
        if path is None:
            return None
        engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})
        self._listen(engine)
        return engine

    async def upgrade(self) -> None:
        """Apply Alembic migrations up to head; then, on a SQLite file, move the inbox into
        its own file (``storage.inbox_file.move_out``; nothing to do once it is there)."""
        async with self._write_lock.hold(), self.engine.begin() as conn:
            await conn.run_sync(_upgrade)
        if self.inbox_file is not None:
            async with self._write_lock.hold(), self._inbox_turn.hold():
                async with self.engine.connect() as conn:
                    await conn.run_sync(inbox_file.move_out)
                self._inbox_apart = None  # looked up again at the next write

    async def migrations_current(self) -> bool:
        async with self.engine.connect() as conn:
            return await conn.run_sync(_at_head)

    async def dispose(self) -> None:
        await self.engine.dispose()


MIGRATION_LOCK = 0x70C5_1A
"""The PostgreSQL advisory lock migrations are applied under: replicas (or init containers)
starting together on an empty database apply them one after the other, and the later ones
find the schema at head, instead of racing to create the same tables."""


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # held until the transaction ends (the migrations run in it): xact-scoped
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


def _at_head(connection: Connection) -> bool:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    current = MigrationContext.configure(connection).get_current_revision()
    return current == head


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # 64 MiB of page cache instead of SQLite's 2 MiB: stepping overdue alerts touches alert
    # rows in due order, not id order, and with 100k open alerts the default cache thrashed
    # (bench/escalation_bench.py catch-up: 1.8k → 2.8k steps/s on a loaded machine).
    cursor.execute("PRAGMA cache_size=-65536")
    # Checkpoint the write-ahead log every 10,000 pages (40 MiB) instead of every 1,000. The
    # writer whose commit crosses the mark runs the checkpoint (copies the log into the
    # database file, two fsyncs). A batch of 500 escalation steps taken in due order dirties
    # ~1,500 pages (alert rows; index pages hit at random), so each of its commits ran a
    # checkpoint of its own; now one serves ~6 commits and copies a page they all dirtied
    # once (bench/step_profile.py, a catch-up of 20,000 among 120,000 open alerts: commits
    # ~72 → ~43 µs per step, the step ~250 → ~210 µs).
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.close()


def sqlite_path(url: str) -> str | None:
    """The file a SQLite URL names, as written; ``None`` for PostgreSQL, an in-memory
    database or a ``file:`` URI."""
    if not url.startswith("sqlite"):
        return None
    _, _, path = url.partition(":///")
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return path


def _ensure_parent(url: str) -> None:
    path = sqlite_path(url)
    if path is not None:
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
