"""SQLite's write-ahead log is checkpointed beside the writers (storage.upkeep.checkpoints), not by
the writer whose commit crosses the autocheckpoint mark."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from structlog.testing import capture_logs

from storage.db import Database
from storage.intake.inbox import InboxWriter
from storage.upkeep.checkpoints import Checkpoint, WalCheckpointer, checkpoint

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'tocsin.db'}")
    await db.upgrade()
    try:
        yield db
    finally:
        await db.dispose()


async def fill_log(db: Database, rows: int) -> None:
    writer = InboxWriter(db)
    try:
        for n in range(rows):
            await writer.store(
                integration="generic", source_format="generic", body=b"x" * 2000, now=NOW
            )
            if n % 50 == 0:
                await asyncio.sleep(0)
    finally:
        await writer.close()


async def until(condition: object, what: str) -> None:
    """Wait (up to 10 s, checking every 10 ms) for ``condition()`` to hold."""
    assert callable(condition)
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"still waiting for {what}")


async def test_a_passive_checkpoint_copies_the_log_while_another_writer_is_mid_transaction(
    db: Database,
) -> None:
    await fill_log(db, 200)
    engine = db.sqlite_sync_engine()
    assert engine is not None
    try:
        with engine.connect() as writer:
            writer.exec_driver_sql("BEGIN IMMEDIATE")  # holds SQLite's write lock
            writer.exec_driver_sql("UPDATE inbox SET attempts = attempts + 1 WHERE id = 1")
            done = await asyncio.wait_for(asyncio.to_thread(checkpoint, engine), timeout=5)
            writer.exec_driver_sql("ROLLBACK")
    finally:
        engine.dispose()
    assert not done.busy
    assert done.log_pages > 50
    assert done.checkpointed_pages == done.log_pages


async def test_the_checkpointer_keeps_the_log_copied_until_it_is_stopped(db: Database) -> None:
    engine = db.sqlite_sync_engine()
    assert engine is not None
    checkpointer = WalCheckpointer(engine, interval=0.01)
    checkpointer.start()
    try:
        await fill_log(db, 200)

        def caught_up() -> bool:
            last = checkpointer.last
            return last is not None and 50 < last.log_pages == last.checkpointed_pages

        await until(caught_up, "a checkpoint that copied the whole log")
        assert checkpointer.running
    finally:
        await checkpointer.stop()
    assert not checkpointer.running


async def test_a_failing_checkpoint_is_logged_once_and_tried_again(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'gone' / 'tocsin.db'}")  # no such folder
    checkpointer = WalCheckpointer(engine, interval=0.01)
    with capture_logs() as logs:
        checkpointer.start()
        try:
            await until(lambda: checkpointer.failures >= 3, "three failed checkpoints")
            (tmp_path / "gone").mkdir()
            await until(lambda: checkpointer.failures == 0, "a checkpoint after the folder came")
        finally:
            await checkpointer.stop()
    events = [entry["event"] for entry in logs]
    assert events.count("wal_checkpoint_failed") == 1
    assert events.count("wal_checkpoint_recovered") == 1
    assert checkpointer.last == Checkpoint(busy=False, log_pages=-1, checkpointed_pages=-1)
