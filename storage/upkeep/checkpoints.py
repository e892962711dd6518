"""SQLite's write-ahead log, checkpointed beside the writers instead of by them.

By default the writer whose commit takes the log past ``wal_autocheckpoint`` pages copies the
log into the database file before its commit returns; every other writer waits for it behind
the single writer's turn. With the mark at 10,000 pages (storage.db) that copy took 48 to 82 ms
on the benchmark machine, each time stalling every webhook then arriving
(bench/ingest_bench.py's paced phase: requests answered in ~1 ms, then ~40 at once after the
copy). Here a thread of its own runs a ``PASSIVE`` checkpoint every ``interval`` seconds: it
copies what no reader still needs, takes no writer's lock, and leaves little for the
autocheckpoint (kept as the backstop) to find.
"""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import structlog
from sqlalchemy.engine import Engine

from storage.db import Database

log = structlog.get_logger("tocsin.storage")

DEFAULT_INTERVAL_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What ``PRAGMA wal_checkpoint(PASSIVE)`` answered: whether it was blocked, the pages in
    the log, and how many of them are now in the database file."""

    busy: bool
    log_pages: int
    checkpointed_pages: int


def checkpoint(engine: Engine) -> Checkpoint:
    """One passive checkpoint on ``engine``'s SQLite file (call it off the event loop)."""
    with engine.connect() as conn:
        busy, pages, done = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
    return Checkpoint(busy=bool(busy), log_pages=int(pages), checkpointed_pages=int(done))


class WalCheckpointer:
    """Checkpoints an SQLite database's log every ``interval`` seconds in a thread of its own,
    until :meth:`stop`. For a synchronous engine on the file (``Database.sqlite_sync_engine``),
    which it disposes of when it stops."""

    def __init__(self, engine: Engine, *, interval: float = DEFAULT_INTERVAL_SECONDS) -> None:
        self._engine = engine
        self._interval = interval
        self._stopping = asyncio.Event()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tocsin-checkpoint")
        self._task: asyncio.Task[None] | None = None
        self.last: Checkpoint | None = None
        """The last checkpoint's answer."""
        self.failures = 0
        """Checkpoints failed in a row (logged at the first; 0 again after a success)."""

    @classmethod
    def started_for(cls, db: Database) -> WalCheckpointer | None:
        """A running checkpointer for ``db``'s SQLite file, or ``None`` where there is none to
        keep (PostgreSQL, an in-memory database)."""
        engine = db.sqlite_sync_engine()
        if engine is None:
            return None
        checkpointer = cls(engine)
        checkpointer.start()
        return checkpointer

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval)
            if self._stopping.is_set():
                return
            try:
                self.last = await loop.run_in_executor(self._thread, checkpoint, self._engine)
            except Exception as exc:  # the file gone, the disk full: the backstop remains
                self.failures += 1
                if self.failures == 1:
                    log.warning("wal_checkpoint_failed", error=repr(exc)[:300])
                continue
            if self.failures:
                log.info("wal_checkpoint_recovered", after_failures=self.failures)
                self.failures = 0

    async def stop(self) -> None:
        """Finish the checkpoint under way, if any, then let go of the thread and the file."""
        self._stopping.set()
        if self._task is not None:
            await self._task
        self._thread.shutdown(wait=True)
        self._engine.dispose()
