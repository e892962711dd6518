"""Start-up recovery for a single instance: claims left by a process that died.

The inbox and outbox hand out claims as leases (60 s) so that another replica takes over
from one that died. On SQLite there is only ever one instance, so at start-up every claim is
known to be stale: releasing them at once turns a restart's wait for the lease into none.
(On PostgreSQL, where other replicas may hold live claims, the leases simply run out.)
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col

from storage.db import Database
from storage.tables import InboxRow, OutboxRow


async def release_claims(db: Database, *, now: datetime) -> tuple[int, int]:
    """Make every pending inbox body and every claimed outbox row due now; returns how many
    (inbox, outbox). A released outbox row stays *in doubt*: it looks before posting."""
    async with db.write(inbox=True) as session:
        inbox = await session.exec(
            update(InboxRow)
            .where(col(InboxRow.status) == "pending", col(InboxRow.processed_at).is_not(None))
            .values(processed_at=None)
        )
    async with db.write() as session:
        outbox = await session.exec(
            update(OutboxRow)
            .where(
                col(OutboxRow.status) == "pending",
                col(OutboxRow.in_doubt).is_(True),
                col(OutboxRow.next_attempt_at) > now,
            )
            .values(next_attempt_at=now)
        )
        return int(inbox.rowcount or 0), int(outbox.rowcount or 0)


async def release_inbox(db: Database, ids: list[int]) -> None:
    """Hand claimed inbox bodies back at once (their processing was cut short)."""
    if not ids:
        return
    async with db.write(inbox=True) as session:
        await session.exec(
            update(InboxRow)
            .where(col(InboxRow.id).in_(ids), col(InboxRow.status) == "pending")
            .values(processed_at=None)
        )


async def release_outbox(db: Database, ids: list[int], *, now: datetime) -> None:
    """Hand claimed outbox rows back at once (still in doubt: they look before posting)."""
    if not ids:
        return
    async with db.write() as session:
        await session.exec(
            update(OutboxRow)
            .where(col(OutboxRow.id).in_(ids), col(OutboxRow.status) == "pending")
            .values(next_attempt_at=now)
        )
