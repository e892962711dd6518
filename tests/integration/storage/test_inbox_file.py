"""On a SQLite file the inbox is a file of its own (storage/inbox_file.py): an existing
database's inbox is moved there without losing a body, even when the move is cut short; a
body whose alerts were written but which was not yet marked done in the inbox is not
processed twice; the list that makes this so stays short."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.policy.policy_file import load_policy
from bot.policy.rules import build_rules
from config.settings import async_url
from storage import inbox_file
from storage.db import Database
from storage.intake import inbox
from storage.intake.batch_ingest import Body, process_batch
from storage.intake.ingest import IngestRules, parse
from storage.upkeep.recovery import release_claims
from tests.support.databases import database
from tests.support.policies import example_policy
from tests.support.workers import inbox_worker

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def ingest_rules(tmp_path: Path) -> IngestRules:
    policy = load_policy(example_policy(tmp_path), env={"TOCSIN_WEBHOOK_TOKEN": "t" * 32})
    return build_rules(policy).ingest


def raw(fingerprint: str) -> bytes:
    return f'{{"title": "Disk full", "fingerprint": "{fingerprint}", "level": 2}}'.encode()


async def rows(db: Database, query: str) -> list[tuple[object, ...]]:
    async with db.read() as session:
        conn = await session.connection()
        return [tuple(row) for row in (await conn.execute(text(query))).all()]


async def put(db: Database, *fingerprints: str) -> list[int]:
    """Store a generic body per fingerprint, as the intake would; their inbox ids."""
    return [
        await inbox.store(db, integration="generic", source_format="generic", body=raw(fp), now=NOW)
        for fp in fingerprints
    ]


async def test_an_existing_inbox_is_moved_to_its_own_file_with_its_pending_bodies(
    tmp_path: Path,
) -> None:
    async with database("sqlite", tmp_path) as url:
        before = Database(async_url(url), attach_inbox=False)  # as Tocsin was before
        await before.upgrade()
        await put(before, "a", "b")
        await before.dispose()

        db = Database(async_url(url))
        await db.upgrade()
        try:
            assert db.inbox_file == tmp_path / "tocsin-inbox.db"
            assert await db.inbox_apart()
            main = await rows(db, "SELECT name FROM main.sqlite_master WHERE name = 'inbox'")
            assert main == []
            assert await inbox_worker(db, ingest_rules(tmp_path), now=NOW).drain() == 2
            assert await rows(db, "SELECT id, status FROM inbox ORDER BY id") == [
                (1, "done"),
                (2, "done"),
            ]
            assert len(await rows(db, "SELECT id FROM alert")) == 2
            # new bodies are numbered after the moved ones
            assert await put(db, "c") == [3]
        finally:
            await db.dispose()


async def test_a_move_cut_short_after_the_copy_is_finished_by_the_next_start(
    tmp_path: Path,
) -> None:
    """The copy into the inbox file committed, the drop of the old table did not: the next
    start copies again (the rows already there are kept, not doubled) and drops it."""
    async with database("sqlite", tmp_path) as url:
        before = Database(async_url(url), attach_inbox=False)
        await before.upgrade()
        await put(before, "a")
        await before.dispose()
        db = Database(async_url(url))
        try:
            async with db.engine.begin() as conn:  # the first of the move's two commits
                await conn.execute(
                    text(f"INSERT INTO {inbox_file.SCHEMA}.inbox SELECT * FROM main.inbox")  # noqa: S608
                )
            assert not await db.inbox_apart()  # the old table is still the one named inbox
            await db.upgrade()
            assert await db.inbox_apart()
            assert await rows(db, "SELECT id, status FROM inbox") == [(1, "pending")]
        finally:
            await db.dispose()


async def test_a_body_written_but_not_marked_done_is_marked_at_its_next_claim(
    tmp_path: Path,
) -> None:
    """The process stops between the commit of a batch's alerts and their bodies' done-mark
    in the inbox file: at the next start the bodies are claimable again, and are marked done
    without being processed twice."""
    rules = ingest_rules(tmp_path)

    class Stopped(Exception):
        pass

    def stop() -> None:
        raise Stopped

    async with database("sqlite", tmp_path) as url:
        db = Database(async_url(url))
        await db.upgrade()
        try:
            await put(db, "a", "b")
            items = await inbox.claim(db, now=NOW)
            bodies = [Body(item, parse(item, rules)) for item in items]
            with pytest.raises(Stopped):
                await process_batch(db, bodies, rules, now=NOW, after_commit=stop)
            assert await rows(db, "SELECT status FROM inbox") == [("pending",), ("pending",)]
            assert await release_claims(db, now=NOW) == (2, 0)  # as at the next start

            assert await inbox.claim(db, now=NOW) == []
            assert await rows(db, "SELECT status FROM inbox") == [("done",), ("done",)]
            alerts = await rows(db, "SELECT fingerprint, count FROM alert ORDER BY id")
            assert alerts == [("a", 1), ("b", 1)]
        finally:
            await db.dispose()


async def test_the_list_of_bodies_done_keeps_only_those_not_yet_marked_in_the_inbox(
    tmp_path: Path,
) -> None:
    async with database("sqlite", tmp_path) as url:
        db = Database(async_url(url))
        await db.upgrade()
        try:
            for round_ in range(3):
                await put(db, f"{round_}-0", f"{round_}-1")
                assert await inbox_worker(db, ingest_rules(tmp_path), now=NOW).drain() == 2
            # each batch forgets the bodies before it that are marked done in the inbox
            assert await rows(db, "SELECT inbox_id FROM inbox_done ORDER BY 1") == [(5,), (6,)]
        finally:
            await db.dispose()


async def test_an_in_memory_database_keeps_the_inbox_with_the_rest() -> None:
    db = Database("sqlite+aiosqlite://")
    try:
        await db.upgrade()
        assert db.inbox_file is None
        assert not await db.inbox_apart()
    finally:
        await db.dispose()


async def test_a_lost_inbox_file_does_not_make_new_bodies_look_done(tmp_path: Path) -> None:
    """The inbox file is gone (deleted, or only the database file was copied): its new bodies
    are numbered from 1 again, and ``inbox_done`` still lists the last ones processed. Those
    entries are forgotten at the next start, so the new bodies are processed, not marked."""
    rules = ingest_rules(tmp_path)
    async with database("sqlite", tmp_path) as url:
        db = Database(async_url(url))
        await db.upgrade()
        await put(db, "a", "b")
        assert await inbox_worker(db, rules, now=NOW).drain() == 2
        assert await rows(db, "SELECT inbox_id FROM inbox_done") == [(1,), (2,)]
        await db.dispose()
        for suffix in ("", "-wal", "-shm"):
            (tmp_path / f"tocsin-inbox.db{suffix}").unlink(missing_ok=True)

        db = Database(async_url(url))
        await db.upgrade()
        try:
            assert await put(db, "c") == [1]
            assert await inbox_worker(db, rules, now=NOW).drain() == 1
            fingerprints = await rows(db, "SELECT fingerprint FROM alert ORDER BY id")
            assert fingerprints == [("a",), ("b",), ("c",)]
        finally:
            await db.dispose()
