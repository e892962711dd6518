"""The inbox: webhook bodies stored before the sender gets its 2xx, processed afterwards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select

from storage.db import Database
from storage.tables import InboxRow

PENDING, DONE, FAILED = "pending", "done", "failed"


async def store(
    db: Database, *, integration: str, source_format: str, body: bytes, now: datetime
) -> int:
    """Write one accepted body durably; returns its inbox id."""
    async with db.write() as session:
        row = InboxRow(
            integration=integration, source_format=source_format, body=body, received_at=now
        )
        session.add(row)
        await session.flush()
        assert row.id is not None
        return row.id


@dataclass(frozen=True, slots=True)
class InboxItem:
    id: int
    integration: str
    source_format: str
    body: bytes
    received_at: datetime


async def claim(
    db: Database, *, now: datetime, limit: int = 50, lease: timedelta = timedelta(seconds=60)
) -> list[InboxItem]:
    """Take pending bodies in arrival order; a crashed worker's claim expires with its lease.

    ``processed_at`` holds the lease end while a row is pending.
    """
    query = (
        select(InboxRow)
        .where(
            InboxRow.status == PENDING,
            (col(InboxRow.processed_at).is_(None)) | (col(InboxRow.processed_at) <= now),
        )
        .order_by(col(InboxRow.id))
        .limit(limit)
    )
    if not db.is_sqlite:
        query = query.with_for_update(skip_locked=True)
    async with db.write() as session:
        rows = list((await session.exec(query)).all())
        items = []
        for row in rows:
            assert row.id is not None
            row.processed_at = now + lease
            row.attempts += 1
            session.add(row)
            items.append(
                InboxItem(row.id, row.integration, row.source_format, row.body, row.received_at)
            )
    return items


async def mark_failed(db: Database, inbox_id: int, *, now: datetime, error: str) -> None:
    async with db.write() as session:
        await session.exec(
            update(InboxRow)
            .where(col(InboxRow.id) == inbox_id)
            .values(status=FAILED, processed_at=now, error=error[:2000])
        )
