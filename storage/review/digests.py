"""Who posts a team's weekly digest: a row per (team, slot), claimed by one replica.

``claim`` inserts the row (the primary key makes one insert win); a claim that was never
marked sent and is older than ``stale_after`` (the claimer crashed or Slack failed) may be
taken over, by compare-and-set on its claim time, so a digest is posted once — and retried,
not lost, when posting failed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage.db import Database
from storage.tables import ReviewDigestRow


async def claim(
    db: Database,
    *,
    key: str,
    team: str,
    slot: datetime,
    instance: str,
    now: datetime,
    stale_after: timedelta,
) -> bool:
    """True if this instance should post the digest ``key`` now."""
    try:
        async with db.write() as session:
            session.add(
                ReviewDigestRow(key=key, team=team, slot=slot, claimed_at=now, claimed_by=instance)
            )
        return True
    except IntegrityError:
        pass
    async with db.write() as session:
        row = (await session.exec(select(ReviewDigestRow).where(ReviewDigestRow.key == key))).one()
        if row.sent_at is not None or row.claimed_at > now - stale_after:
            return False
        conn = await session.connection()
        taken = await conn.execute(
            update(ReviewDigestRow)
            .where(
                col(ReviewDigestRow.key) == key,
                col(ReviewDigestRow.sent_at).is_(None),
                col(ReviewDigestRow.claimed_at) == row.claimed_at,
            )
            .values(claimed_at=now, claimed_by=instance, attempts=ReviewDigestRow.attempts + 1)
        )
        return bool(taken.rowcount)


async def mark(db: Database, *, key: str, now: datetime, error: str | None = None) -> None:
    """Sent (``error`` None) or failed (the claim stays, to be taken over when stale)."""
    async with db.write() as session:
        values: dict[str, object] = {"error": error}
        if error is None:
            values["sent_at"] = now
        conn = await session.connection()
        await conn.execute(
            update(ReviewDigestRow).where(col(ReviewDigestRow.key) == key).values(values)
        )


async def digests(db: Database) -> list[ReviewDigestRow]:
    async with db.read() as session:
        return list((await session.exec(select(ReviewDigestRow))).all())
