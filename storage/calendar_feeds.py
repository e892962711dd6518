"""What calendar feed tokens are derived from: one random key, and each feed's generation
(bumped when its token is rotated). The tokens themselves are never stored."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.requests import fit_key
from storage.tables import CalendarFeedRow, CalendarKeyRow

_KEY_ID = 1


async def calendar_key(db: Database, *, now: datetime) -> bytes:
    """The key, made on first use (256 random bits); every replica reads the same one."""
    async with db.read() as session:
        row = await session.get(CalendarKeyRow, _KEY_ID)
    if row is None:
        try:
            async with db.write() as session:
                session.add(CalendarKeyRow(id=_KEY_ID, key=secrets.token_hex(32), created_at=now))
        except IntegrityError:  # another replica (or the CLI) made it first: theirs is kept
            pass
        async with db.read() as session:
            row = await session.get(CalendarKeyRow, _KEY_ID)
    if row is None:  # pragma: no cover - written or found just above
        raise RuntimeError("the calendar key could not be read back")
    return bytes.fromhex(row.key)


async def feed_generation(db: Database, feed: str) -> int:
    """The feed's generation: 0 until its token is first rotated."""
    async with db.read() as session:
        row = await session.get(CalendarFeedRow, fit_key(feed))
    return 0 if row is None else row.generation


async def rotate_feed(db: Database, feed: str, *, now: datetime) -> int:
    """Bump the feed's generation (its old token stops working at once); the new one."""
    key = fit_key(feed)
    for _ in range(2):  # a concurrent first rotation of the same feed: bump theirs
        try:
            async with db.write() as session:
                row = await session.get(CalendarFeedRow, key, with_for_update=True)
                if row is None:
                    session.add(CalendarFeedRow(feed=key, generation=1, rotated_at=now))
                    return 1
                row.generation += 1
                row.rotated_at = now
                session.add(row)
                return row.generation
        except IntegrityError:
            continue
    raise RuntimeError(f"could not rotate the token of {feed!r}")  # pragma: no cover
