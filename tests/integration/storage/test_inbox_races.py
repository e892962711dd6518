"""Replicas' inbox transactions on the same alerts (PostgreSQL): they wait for each other in
one order and never deadlock, a body done alone counts from what the other replica wrote,
and a transaction the database rolled back for a race is done again as it was — not body by
body, which would lose the same race on the slow path."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import pytest
import structlog
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.workers import inbox_worker as worker_module
from escalation.events import Acknowledged
from escalation.model import AlertEvent, SourceStatus
from storage.db import Database
from storage.intake import inbox
from storage.intake.batch_ingest import Body, process_batch
from storage.intake.ingest import IngestOutcome, apply_event, parse, process
from storage.intake.open_alerts import lock_open
from storage.noise.group_actions import apply_to_group
from storage.tables import AlertGroupRow
from tests.integration.storage.test_inbox_batches import NOW, body, contents, migrated, rules_for
from tests.integration.storage.test_kept_open_alerts import send
from tests.integration.storage.test_storage_database import alert_row
from tests.support.workers import inbox_worker

ALERTS = 1_200
"""More fingerprints than one statement of SQLite's chunks (500): PostgreSQL's batches locked
them chunk by chunk before."""


async def store(db: Database, raw: bytes) -> inbox.InboxItem:
    """``raw`` stored and claimed: the body a replica's transaction works on."""
    stored = await inbox.store(db, integration="test", source_format="events", body=raw, now=NOW)
    [item] = [i for i in await inbox.claim(db, now=NOW, limit=100) if i.id == stored]
    return item


async def test_batches_repeating_the_same_alerts_in_other_orders_never_deadlock(
    tmp_path: Path,
) -> None:
    """Three replicas' transactions at once, each repeating the same 1,200 alerts in an order
    of its own, five rounds: none is rolled back, and every firing is counted."""
    rules = rules_for(tmp_path)
    names = [f"fp-{n:04}" for n in range(ALERTS)]
    shuffle = random.Random(14)
    async with migrated("postgres", tmp_path) as db:
        await send(db, body(*({"fp": n} for n in names)))
        await inbox_worker(db, rules, now=NOW).drain()
        for _ in range(5):
            items = []
            for _ in range(3):
                order = shuffle.sample(names, len(names))
                items.append(await store(db, body(*({"fp": n} for n in order))))
            await asyncio.gather(
                *(
                    process_batch(db, [Body(item, parse(item, rules))], rules, now=NOW)
                    for item in items
                )
            )
        alerts = (await contents(db))["alert"]
    assert len(alerts) == ALERTS
    assert {row["count"] for row in alerts} == {1 + 5 * 3}
    assert {row["version"] for row in alerts} == {1 + 5 * 3}


async def test_a_body_done_alone_waits_for_the_replica_writing_its_alert(
    tmp_path: Path,
) -> None:
    """Another replica's transaction holds the alert and fires it again; the body done alone
    (the ORM path: what a failed batch falls back to) waits for that commit and counts from
    it — it does not write over it from what it read before."""
    rules = rules_for(tmp_path)
    async with migrated("postgres", tmp_path) as db:
        await send(db, body({"fp": "shared"}))
        await inbox_worker(db, rules, now=NOW).drain()
        item = await store(db, body({"fp": "shared"}))
        async with db.write() as other:  # the other replica's transaction
            conn = await other.connection()
            await conn.execute(
                text(
                    "UPDATE alert SET count = count + 1, version = version + 1"
                    " WHERE fingerprint = 'shared'"
                )
            )
            alone = asyncio.create_task(process(db, item, rules, now=NOW))
            await until_waiting(conn)
            assert not alone.done()
        await alone
        [alert] = (await contents(db))["alert"]
    assert (alert["count"], alert["version"]) == (3, 3)


async def test_an_event_applied_outside_a_body_waits_for_the_replica_writing_its_alert(
    tmp_path: Path,
) -> None:
    """A heartbeat's ping resolves its alert through ``apply_event``, in a transaction of its
    own, not a body's: another replica's transaction holds the alert and changes it (its
    engine's step); the resolve waits for that commit and writes on from its version — it
    does not take the next outbox key from the version it read before (CI's e2e test of
    three replicas' heartbeats failed so, ``IntegrityError``)."""
    rules = rules_for(tmp_path)
    async with migrated("postgres", tmp_path) as db:
        await send(db, body({"fp": "shared"}))
        await inbox_worker(db, rules, now=NOW).drain()
        resolved = AlertEvent(
            fingerprint="shared", status=SourceStatus.RESOLVED, title="t", source="s"
        )

        async def resolve() -> IngestOutcome:
            outcome = IngestOutcome()
            async with db.write() as session:
                await apply_event(
                    session, resolved, rules, outcome, integration="test", silences=[], now=NOW
                )
            return outcome

        async with db.write() as other:  # the other replica's transaction
            conn = await other.connection()
            await conn.execute(
                text("UPDATE alert SET version = version + 1 WHERE fingerprint = 'shared'")
            )
            ping = asyncio.create_task(resolve())
            await until_waiting(conn)
            assert not ping.done()
        outcome = await ping
        [alert] = (await contents(db))["alert"]
    assert outcome.resolved == [alert["id"]]
    assert (alert["status"], alert["version"]) == ("resolved", 3)


class _Deadlock(Exception):
    sqlstate = "40P01"


async def test_a_batch_rolled_back_for_a_deadlock_is_done_again_as_a_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database rolls the first try back for a deadlock: the same bodies go again in one
    transaction (a line says so), none is done alone and none is marked failed."""
    rules = rules_for(tmp_path)
    real = process_batch
    tries: list[int] = []
    alone: list[int] = []

    async def deadlocking(db: Database, bodies: Any, *args: Any, **kwargs: Any) -> Any:
        tries.append(len(bodies))
        if len(tries) == 1:
            raise DBAPIError("SELECT …", None, _Deadlock("deadlock detected"))
        return await real(db, bodies, *args, **kwargs)

    async def counting(db: Database, item: inbox.InboxItem, *args: Any, **kwargs: Any) -> Any:
        alone.append(item.id)
        return await process(db, item, *args, **kwargs)

    monkeypatch.setattr(worker_module, "process_batch", deadlocking)
    monkeypatch.setattr(worker_module, "process", counting)
    async with migrated("sqlite", tmp_path) as db:
        await send(db, *(body({"fp": f"a{n}"}) for n in range(3)))
        with structlog.testing.capture_logs() as logs:
            assert await inbox_worker(db, rules, now=NOW).drain() == 3
        got = await contents(db)
    assert tries == [3, 3]
    assert alone == []
    assert [row["status"] for row in got["inbox"]] == ["done"] * 3
    assert [line["event"] for line in logs if line["event"].startswith("inbox_batch")] == [
        "inbox_batch_raced",
        "inbox_batch_processed",
    ]


async def test_a_group_action_and_a_replica_s_batch_lock_the_members_in_one_order(
    tmp_path: Path,
) -> None:
    """A group of three alerts from two integrations (ids 1 and 3 from ``a``, 2 from ``b``).
    A replica's batch holds alert 3 when a person acknowledges the group, then needs alert 2:
    the acknowledgement took the members in the batch's order (``a``'s, then ``b``'s), so it
    waits for alert 3 without holding alert 2 — both finish, neither is rolled back."""
    async with migrated("postgres", tmp_path) as db:
        async with db.write() as session:
            rows = [alert_row("m1", "a"), alert_row("m2", "b"), alert_row("m3", "a")]
            for row in rows:
                session.add(row)
                await session.flush()
            first = rows[0].id
            assert first is not None
            group = AlertGroupRow(
                key="g", anchor_id=first, lead_id=first, opened_at=NOW, closes_at=NOW
            )
            session.add(group)
            await session.flush()
            for row in rows:
                row.group_id = group.id
        assert [row.id for row in rows] == [1, 2, 3]
        async with db.write() as batch:
            conn = await batch.connection()
            await lock_open(conn, [("a", "m3")])
            acknowledging = asyncio.create_task(
                apply_to_group(
                    db,
                    alert_id=1,
                    event=Acknowledged("U0BOB"),
                    kind="acknowledged",
                    actor="U0BOB",
                    request_key="ack-1",
                    now=NOW,
                )
            )
            await until_waiting(conn)
            await lock_open(conn, [("b", "m2")])  # held by the acknowledgement before: deadlock
        result = await acknowledging
        assert result is not None
        got = (await contents(db))["alert"]
    assert [row["status"] for row in got] == ["acknowledged"] * 3


async def until_waiting(conn: AsyncConnection) -> None:
    """Until another session of this database waits for a row lock (``conn``'s own query;
    inside a transaction the activity view is a snapshot, cleared each time)."""
    for _ in range(500):
        await conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        waiting = await conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND pid != pg_backend_pid()"
            )
        )
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("nobody waited for the lock within 5 s")
