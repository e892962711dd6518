"""The record's storage on real databases: "last time" and the 30-day count by fingerprint
or recurrence key, inbox retention, follow-up reminders claimed once — SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from config.settings import async_url
from escalation.model import AlertEvent, SourceStatus, Status
from escalation.policy import NO_POLICY
from escalation.state import open_alert
from storage.alerts import last_resolution, new_row, recent_firings
from storage.db import Database
from storage.intake import inbox
from storage.record.follow_ups import NewFollowUp, add_follow_up, complete, remind_due
from storage.tables import AlertEventRow, AlertRow, InboxRow, OutboxRow
from storage.upkeep.retention import prune_inbox
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


async def add_alert(
    db: Database,
    *,
    fingerprint: str,
    key: str | None,
    fired_at: datetime,
    resolved_by: str | None = None,
    note: str | None = None,
) -> int:
    event = AlertEvent(fingerprint=fingerprint, status=SourceStatus.FIRING, title="t", source="s")
    tr = open_alert(fired_at=fired_at, policy=NO_POLICY, now=fired_at)
    row = new_row(
        event,
        tr.state,
        integration="generic",
        level=2,
        grade_reason="test",
        team="ops",
        channel="#alerts",
        policy=NO_POLICY,
    )
    row.recurrence_key = key
    if resolved_by is not None:
        row.status = Status.RESOLVED.value
        row.resolved_at = fired_at + timedelta(hours=1)
        row.resolved_by = resolved_by
        row.resolution_note = note
        row.root_cause = "capacity"
    async with db.write() as session:
        session.add(row)
        await session.flush()
        assert row.id is not None
        return row.id


async def current(db: Database, alert_id: int) -> AlertRow:
    async with db.read() as session:
        row = await session.get(AlertRow, alert_id)
    assert row is not None
    return row


async def test_last_time_finds_the_latest_earlier_resolution_by_fingerprint_or_key(
    db: Database,
) -> None:
    days = timedelta(days=1)
    await add_alert(db, fingerprint="f1", key="k", fired_at=NOW - 40 * days, resolved_by="U0OLD")
    by_key = await add_alert(
        db, fingerprint="f2", key="k", fired_at=NOW - 5 * days, resolved_by="U0KEY", note="grew"
    )
    await add_alert(db, fingerprint="f1", key="k", fired_at=NOW - 10 * days, resolved_by="U0FP")
    await add_alert(db, fingerprint="zz", key="other", fired_at=NOW - 1 * days, resolved_by="U0NO")
    me = await add_alert(db, fingerprint="f1", key="k", fired_at=NOW)
    later = await add_alert(db, fingerprint="f1", key="k", fired_at=NOW + days, resolved_by="U0L")
    assert later > me

    async with db.read() as session:
        row = await current(db, me)
        last = await last_resolution(session, row)
        count = await recent_firings(session, row, days=30)
    assert last is not None
    assert (last.resolved_by, last.note, last.alert_id) == ("U0KEY", "grew", by_key)
    assert count == 3  # f1@-10d, f2@-5d, this one; not the one 40 days back, nor later ones


async def test_without_a_recurrence_key_only_the_fingerprint_matches(db: Database) -> None:
    await add_alert(
        db, fingerprint="f", key=None, fired_at=NOW - timedelta(days=2), resolved_by="U0A"
    )
    await add_alert(
        db, fingerprint="g", key=None, fired_at=NOW - timedelta(days=1), resolved_by="U0B"
    )
    me = await add_alert(db, fingerprint="f", key=None, fired_at=NOW)
    async with db.read() as session:
        row = await current(db, me)
        last = await last_resolution(session, row)
        count = await recent_firings(session, row, days=30)
    assert last is not None
    assert last.resolved_by == "U0A"
    assert count == 2


async def test_a_first_firing_has_no_last_time_and_counts_itself(db: Database) -> None:
    me = await add_alert(db, fingerprint="new", key="new-k", fired_at=NOW)
    async with db.read() as session:
        row = await current(db, me)
        assert await last_resolution(session, row) is None
        assert await recent_firings(session, row, days=30) == 1


async def test_retention_deletes_only_processed_bodies_older_than_the_cutoff(db: Database) -> None:
    ids = {}
    for name, received in (("old", 40), ("recent", 2), ("pending", 40), ("failed", 40)):
        ids[name] = await inbox.store(
            db,
            integration="generic",
            source_format="generic",
            body=b'{"title": "x"}',
            now=NOW - timedelta(days=received),
        )
    extra = [
        await inbox.store(db, integration="generic", source_format="generic", body=b"{}", now=NOW)
        for _ in range(5)
    ]
    async with db.write() as session:
        for name in ("old", "recent", *(f"x{i}" for i in range(5))):
            row_id = ids.get(name) or extra[int(name[1:])]
            row = await session.get(InboxRow, row_id)
            assert row is not None
            row.status = "done"
            row.processed_at = NOW - timedelta(days=40 if name != "recent" else 2)
            session.add(row)
        failed = await session.get(InboxRow, ids["failed"])
        assert failed is not None
        failed.status, failed.processed_at = "failed", NOW - timedelta(days=40)
        session.add(failed)
    alert_id = await add_alert(db, fingerprint="keep", key=None, fired_at=NOW - timedelta(days=90))

    deleted = await prune_inbox(db, older_than=NOW - timedelta(days=30), batch=2)

    assert deleted == 6  # "old" and the five extra, two per batch
    async with db.read() as session:
        left = {row.id for row in (await session.exec(select(InboxRow))).all()}
    assert left == {ids["recent"], ids["pending"], ids["failed"]}
    assert (await current(db, alert_id)).fingerprint == "keep"  # the record is never pruned
    assert await prune_inbox(db, older_than=NOW - timedelta(days=30)) == 0


async def test_a_due_follow_up_is_reminded_once_per_period_and_never_after_done(
    db: Database,
) -> None:
    alert_id = await add_alert(db, fingerprint="fu", key=None, fired_at=NOW, resolved_by="U0A")
    async with db.write() as session:
        follow_up_id = await add_follow_up(
            session,
            alert_id=alert_id,
            follow_up=NewFollowUp(text="add a dashboard", owner="U0BOB", due_at=NOW),
            created_by="U0A",
            now=NOW - timedelta(hours=1),
        )
    assert await remind_due(db, now=NOW - timedelta(minutes=1), every_seconds=86400) == 0
    assert await remind_due(db, now=NOW, every_seconds=86400) == 1
    assert await remind_due(db, now=NOW + timedelta(hours=5), every_seconds=86400) == 0
    assert await remind_due(db, now=NOW + timedelta(days=1), every_seconds=86400) == 1
    done = await complete(db, follow_up_id=follow_up_id, user="U0BOB", now=NOW + timedelta(days=1))
    assert done is not None
    assert done.done_by == "U0BOB"
    again = await complete(db, follow_up_id=follow_up_id, user="U0A", now=NOW + timedelta(days=2))
    assert again is not None
    assert again.done_by == "U0BOB"  # a second press changes nothing
    assert await remind_due(db, now=NOW + timedelta(days=9), every_seconds=86400) == 0
    async with db.read() as session:
        reminders = (
            await session.exec(select(OutboxRow).where(OutboxRow.kind == "follow_up_reminder"))
        ).all()
        rules = (await session.exec(select(AlertEventRow.rule))).all()
    assert len(reminders) == 2
    assert rules.count("FOLLOWUP-1") == 1
    assert rules.count("FOLLOWUP-REMIND") == 2
    assert rules.count("FOLLOWUP-DONE") == 1
