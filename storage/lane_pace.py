"""Slack's pace per conversation, kept in the database so every replica shares it.

Each Slack conversation (a channel, a person's DM) takes about one message a second. A
replica pacing itself keeps its own writes within that, but three replicas writing into one
DM — pages due together are spread over them — write three times as fast and are answered
429, which holds the conversation for ``Retry-After`` and delays the very pages that had to
go. Here the token bucket of a lane is a row, taken under a row lock: the replicas together
stay within the rate, and a 429 one of them receives holds the lane for all of them.

One write costs two short transactions (the slot, then when the write was done);
:class:`bot.delivery.lanes.Pacing` uses it on PostgreSQL only (on SQLite there is one
replica, and its gate is kept in memory).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database
from storage.tables import LanePaceRow, table_of


def tokens_needed(*, spare: int, burst: int, margin: float) -> float:
    """The tokens a bucket must hold for a write: its own, ``spare`` more left for others (at
    most ``burst - 1``) and ``margin`` in hand, never more than a full bucket."""
    return min(1.0 + min(spare, burst - 1) + margin, float(burst))


def refilled(row: LanePaceRow, *, now: datetime, rate: float, burst: int) -> float:
    """The bucket's tokens at ``now`` (a replica whose clock is behind adds nothing)."""
    elapsed = max((now - row.at).total_seconds(), 0.0)
    return min(float(burst), row.tokens + elapsed * rate)


async def take(
    db: Database,
    lane: str,
    *,
    now: datetime,
    rate: float,
    burst: int,
    spare: int = 0,
    margin: float = 0.0,
) -> datetime | None:
    """Take a write slot of ``lane`` now: ``None`` when one was taken, else when the lane
    frees (the bucket refills, or Slack's hold ends). With ``spare``, only while that many
    slots are left besides (at most ``burst - 1``); ``margin``: tokens kept in hand besides."""
    fresh = {"lane": lane, "tokens": float(burst), "at": now, "held_until": None}
    async with db.write() as session:
        row = await _locked(session, db, fresh)
        tokens = refilled(row, now=now, rate=rate, burst=burst)
        need = tokens_needed(spare=spare, burst=burst, margin=margin)
        free = now
        if tokens < need:
            free = now + timedelta(seconds=(need - tokens) / rate)
        if row.held_until is not None and row.held_until > free:
            free = row.held_until
        if free > now:
            return free
        row.tokens = tokens - 1.0
        row.at = max(row.at, now)
        session.add(row)
    return None


async def wrote(db: Database, lane: str, *, counted: datetime) -> None:
    """A write taken from ``lane`` counts as made at ``counted`` (when it was done, less the
    lateness a lane keeps in hand): its bucket refills from then, not from when the slot was
    taken (see :data:`bot.delivery.lanes.LATE_WRITE`)."""
    async with db.write() as session:
        await session.exec(
            update(LanePaceRow)
            .where(col(LanePaceRow.lane) == lane, col(LanePaceRow.at) < counted)
            .values(at=counted)
        )


async def hold(db: Database, lane: str, *, until: datetime, now: datetime) -> None:
    """Slack answered 429 on ``lane``: no replica writes to it before ``until``."""
    fresh = {"lane": lane, "tokens": 0.0, "at": now, "held_until": until}
    async with db.write() as session:
        row = await _locked(session, db, fresh)
        row.tokens = min(row.tokens, 0.0)
        row.at = max(row.at, now)
        if row.held_until is None or until > row.held_until:
            row.held_until = until
        session.add(row)


async def _locked(session: AsyncSession, db: Database, fresh: dict[str, Any]) -> LanePaceRow:
    """The lane's row, made as ``fresh`` if it is new, locked until the transaction ends (on
    PostgreSQL; SQLite's single writer serialises the transactions anyway)."""
    table = table_of(LanePaceRow)
    insert = sqlite_insert(table) if db.is_sqlite else pg_insert(table)
    conn = await session.connection()
    await conn.execute(insert.values(**fresh).on_conflict_do_nothing(index_elements=["lane"]))
    query = select(LanePaceRow).where(col(LanePaceRow.lane) == fresh["lane"])
    if not db.is_sqlite:
        query = query.with_for_update()
    return (await session.exec(query)).one()


async def forget_idle(db: Database, *, before: datetime) -> int:
    """Drop the lanes nobody wrote to since ``before`` and that are not held (their bucket is
    full again): the table keeps the conversations in use, not every one ever written to."""
    table = table_of(LanePaceRow)
    async with db.write() as session:
        result = await (await session.connection()).execute(
            table.delete().where(
                col(LanePaceRow.at) < before,
                (col(LanePaceRow.held_until).is_(None)) | (col(LanePaceRow.held_until) < before),
            )
        )
    return int(getattr(result, "rowcount", 0) or 0)
