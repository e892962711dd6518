"""The last good copy of each calendar-fed rotation's calendar (bot.schedule.calendar_rotations
keeps it in memory too; this one outlives a restart)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select

from storage.db import Database
from storage.requests import fit_key
from storage.tables import RotationCalendarRow


@dataclass(frozen=True, slots=True)
class SavedCalendar:
    source: str
    body: bytes
    fetched_at: datetime


async def save_calendar(
    db: Database, rotation: str, *, source: str, body: bytes, fetched_at: datetime
) -> None:
    """Keep ``body`` as the rotation's copy, in place of the one before."""
    key = fit_key(rotation)
    async with db.write() as session:
        row = await session.get(RotationCalendarRow, key, with_for_update=True)
        if row is None:
            row = RotationCalendarRow(rotation=key, source=source, body=body, fetched_at=fetched_at)
        else:
            row.source, row.body, row.fetched_at = source, body, fetched_at
        session.add(row)


async def saved_calendars(db: Database) -> dict[str, SavedCalendar]:
    """Every kept copy, by rotation name."""
    async with db.read() as session:
        rows = (await session.exec(select(RotationCalendarRow))).all()
    return {r.rotation: SavedCalendar(r.source, r.body, r.fetched_at) for r in rows}
