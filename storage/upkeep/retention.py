"""Retention: processed webhook bodies are deleted after a while, in batches. Alerts,
timelines, resolutions and follow-ups are the record and are never pruned."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlmodel import col, select

from storage.db import Database
from storage.intake.inbox import DONE
from storage.tables import InboxRow


async def prune_inbox(db: Database, *, older_than: datetime, batch: int = 1000) -> int:
    """Delete inbox rows processed before ``older_than``, ``batch`` rows per transaction
    (so no long lock is held); returns how many were deleted. Pending bodies and bodies that
    failed to process are kept."""
    total = 0
    while True:
        async with db.write(inbox=True) as session:
            ids = (
                await session.exec(
                    select(InboxRow.id)
                    .where(InboxRow.status == DONE, col(InboxRow.processed_at) < older_than)
                    .order_by(col(InboxRow.id))
                    .limit(batch)
                )
            ).all()
            if ids:
                await session.exec(delete(InboxRow).where(col(InboxRow.id).in_(ids)))
        total += len(ids)
        if len(ids) < batch:
            return total
