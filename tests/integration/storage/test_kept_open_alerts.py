"""The inbox worker keeps the open alerts its transactions wrote and rebuilds one only when
its row was written since: a repeat in the next transaction leaves what a worker that keeps
nothing leaves; an alert written meanwhile by anyone else (the ORM, another worker or
replica) is read again; a transaction that failed keeps nothing. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot.workers.inbox_worker import InboxWorker
from storage.db import Database
from storage.intake import inbox, open_alerts
from storage.intake.batch_ingest import Body, process_batch
from storage.intake.ingest import parse
from storage.intake.open_alerts import KeptOpen
from storage.tables import AlertRow
from tests.integration.storage.test_inbox_batches import (
    NOW,
    body,
    contents,
    migrated,
    rules_for,
)
from tests.support.workers import inbox_worker


@pytest.fixture(params=["sqlite", "postgres"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def built_whole(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids of the alerts rebuilt from their whole rows, as they are."""
    rebuilt: list[int] = []
    real = open_alerts._from_columns

    def counting(row: Any) -> open_alerts.OpenAlert:
        found = real(row)
        assert found.alert_id is not None
        rebuilt.append(found.alert_id)
        return found

    monkeypatch.setattr(open_alerts, "_from_columns", counting)
    return rebuilt


async def send(db: Database, *raws: bytes) -> None:
    for raw in raws:
        await inbox.store(db, integration="test", source_format="events", body=raw, now=NOW)


FIRST = body({"fp": "a"}, {"fp": "b", "group_key": "g"}, {"fp": "c", "group_key": "g"})
AGAIN = body({"fp": "a"}, {"fp": "b", "group_key": "g"}, {"fp": "c", "group_key": "g"})


async def test_a_repeat_in_the_next_transaction_takes_the_alerts_as_the_worker_wrote_them(
    kind: str, tmp_path: Path, built_whole: list[int]
) -> None:
    """Three rounds, each its own transaction, by one worker: the second and third read no
    alert whole, and the database ends as it does where each round's worker kept nothing."""
    rules = rules_for(tmp_path)
    found = []
    for keeps in (True, False):
        (tmp_path / str(keeps)).mkdir()
        async with migrated(kind, tmp_path / str(keeps)) as db:
            worker = inbox_worker(db, rules, now=NOW)
            for raw in (FIRST, AGAIN, AGAIN):
                await send(db, raw)
                if not keeps:
                    worker = inbox_worker(db, rules, now=NOW)
                assert await worker.drain() == 1
            found.append(await contents(db))
        if keeps:
            assert built_whole == []  # new alerts, then kept: none read whole
            assert len(worker.kept) == 3
        else:
            assert len(built_whole) == 6  # each later round read the three whole
    kept, fresh = found
    assert kept == fresh
    assert [row["count"] for row in kept["alert"]] == [3, 3, 3]


async def test_an_alert_written_elsewhere_between_transactions_is_read_again(
    kind: str, tmp_path: Path, built_whole: list[int]
) -> None:
    """Another writer changes an alert through the ORM and leaves its version alone (the
    row's version is bumped all the same): the next repeat reads that alert whole and
    counts from what the other writer stored, the others still from what was kept."""
    rules = rules_for(tmp_path)
    async with migrated(kind, tmp_path) as db:
        worker = inbox_worker(db, rules, now=NOW)
        await send(db, FIRST)
        await worker.drain()
        async with db.write() as session:
            row = (
                await session.exec(select(AlertRow).where(col(AlertRow.fingerprint) == "a"))
            ).one()
            changed = row
            changed.count = 41
            version = changed.version
        await send(db, AGAIN)
        await worker.drain()
        got = {row["fingerprint"]: row for row in (await contents(db))["alert"]}
    assert built_whole == [got["a"]["id"]]
    assert (got["a"]["count"], got["b"]["count"], got["c"]["count"]) == (42, 2, 2)
    assert got["a"]["version"] == version + 2  # the other writer's bump, then the repeat's


async def test_two_workers_taking_turns_each_see_the_other_s_writes(
    kind: str, tmp_path: Path, built_whole: list[int]
) -> None:
    """Two workers (replicas, on PostgreSQL) share the alerts: each round by the other
    worker makes this one's kept alerts stale, and it reads them again; nothing is lost."""
    rules = rules_for(tmp_path)
    async with migrated(kind, tmp_path) as db:
        one, two = inbox_worker(db, rules, now=NOW), inbox_worker(db, rules, now=NOW)
        turns: list[InboxWorker] = [one, two, one, one, two]
        for worker in turns:
            await send(db, AGAIN)
            assert await worker.drain() == 1
        got = (await contents(db))["alert"]
    assert [row["count"] for row in got] == [5, 5, 5]
    # one: opens; two: reads whole; one: stale, reads whole; one: kept; two: stale again
    assert len(built_whole) == 3 * 3


async def test_a_transaction_that_fails_keeps_nothing_of_what_it_planned(
    kind: str, tmp_path: Path, built_whole: list[int]
) -> None:
    """The transaction of a repeat is rolled back after its rows were written: the alerts it
    took are not kept (their planned version was never stored), and the next repeat reads
    them whole and counts from what the database holds."""
    rules = rules_for(tmp_path)
    kept = KeptOpen()

    async def round_of(raw: bytes, *, fail: bool = False) -> None:
        await send(db, raw)
        items = await inbox.claim(db, now=NOW)
        bodies = [Body(item, parse(item, rules)) for item in items]

        def failing() -> None:
            if fail:
                raise RuntimeError("the database went away before the commit")

        await process_batch(db, bodies, rules, now=NOW, kept=kept, before_commit=failing)

    async with migrated(kind, tmp_path) as db:
        await round_of(FIRST)
        assert len(kept) == 3
        with pytest.raises(RuntimeError):
            await round_of(AGAIN, fail=True)
        assert len(kept) == 0
        await round_of(AGAIN)
        got = (await contents(db))["alert"]
    assert [row["count"] for row in got] == [2, 2, 2]
    assert len(built_whole) == 3
    assert len(kept) == 3


async def test_every_orm_write_of_a_stored_alert_changes_its_version(
    kind: str, tmp_path: Path
) -> None:
    """A flush that changes a stored alert and not its version bumps it once; one that bumps
    it itself is left as it is; an alert inserted and changed in one transaction keeps the
    version it was inserted with (no one saw it before)."""
    rules = rules_for(tmp_path)

    async def version_after(change: Callable[[AlertRow], None]) -> int:
        async with db.write() as session:
            row = (
                await session.exec(select(AlertRow).where(col(AlertRow.fingerprint) == "a"))
            ).one()
            change(row)
        async with db.read() as session:
            row = (
                await session.exec(select(AlertRow).where(col(AlertRow.fingerprint) == "a"))
            ).one()
            return int(row.version)

    async with migrated(kind, tmp_path) as db:
        await send(db, body({"fp": "a"}))
        await inbox_worker(db, rules, now=NOW).drain()
        start = await version_after(lambda row: None)

        def level(row: AlertRow) -> None:
            row.level = 1

        def itself(row: AlertRow) -> None:
            row.count, row.version = 7, row.version + 1

        def unchanged(row: AlertRow) -> None:
            row.level = row.level

        assert await version_after(level) == start + 1
        assert await version_after(itself) == start + 2
        assert await version_after(unchanged) == start + 2
        async with db.write() as session:
            row = (
                await session.exec(select(AlertRow).where(col(AlertRow.fingerprint) == "a"))
            ).one()
            fresh = AlertRow(**row.model_dump(exclude={"id"}))
            fresh.fingerprint, fresh.status = "inserted", "resolved"
            session.add(fresh)
            await session.flush()
            fresh.count = 9
        got = {row["fingerprint"]: row for row in (await contents(db))["alert"]}
    assert got["inserted"]["version"] == got["a"]["version"]
    assert got["inserted"]["count"] == 9
