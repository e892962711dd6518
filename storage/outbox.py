"""The outbox: effects to deliver outside the database, claimed with a lease.

A claim moves ``next_attempt_at`` forward by the lease; a replica that dies while delivering
leaves the row to be claimed again when the lease runs out. Only the oldest pending row of an
alert is ever claimed, so each alert's deliveries happen in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, update
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database
from storage.tables import OutboxRow

PENDING, DONE = "pending", "done"


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    kind: str,
    now: datetime,
    alert_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    session.add(
        OutboxRow(**outbox_values(key=key, kind=kind, now=now, alert_id=alert_id, payload=payload))
    )


def outbox_values(
    *,
    key: str,
    kind: str,
    now: datetime,
    alert_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The columns of a new outbox row: what :func:`enqueue` adds (and what
    ``storage.effects.persist_transitions`` inserts many of at once)."""
    return {
        "idempotency_key": key,
        "alert_id": alert_id,
        "kind": kind,
        "payload": payload or {},
        "status": PENDING,
        "created_at": now,
        "next_attempt_at": now,
        "attempts": 0,
        "last_error": None,
        "done_at": None,
        "in_doubt": False,
    }


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    alert_id: int | None
    kind: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime
    idempotency_key: str = ""
    in_doubt: bool = False
    """The previous attempt's outcome is unknown: it may have taken effect."""


async def claim_due(
    db: Database, *, now: datetime, limit: int = 100, lease: timedelta = timedelta(seconds=60)
) -> list[Claimed]:
    earlier = aliased(OutboxRow)
    blocked = exists().where(
        and_(
            col(earlier.alert_id) == col(OutboxRow.alert_id),
            col(earlier.status) == PENDING,
            col(earlier.id) < OutboxRow.id,
        )
    )
    query = (
        select(OutboxRow)
        .where(OutboxRow.status == PENDING, col(OutboxRow.next_attempt_at) <= now, ~blocked)
        .order_by(col(OutboxRow.id))
        .limit(limit)
    )
    if not db.is_sqlite:
        query = query.with_for_update(skip_locked=True, of=OutboxRow)
    async with db.write() as session:
        rows = list((await session.exec(query)).all())
        claimed = []
        for row in rows:
            assert row.id is not None
            was_in_doubt = row.in_doubt
            row.next_attempt_at = now + lease
            row.attempts += 1
            row.in_doubt = True  # until this attempt's outcome is known
            session.add(row)
            claimed.append(
                Claimed(
                    row.id,
                    row.alert_id,
                    row.kind,
                    dict(row.payload),
                    row.attempts,
                    row.created_at,
                    row.idempotency_key,
                    was_in_doubt,
                )
            )
    return claimed


async def mark_done(db: Database, ids: list[int], *, now: datetime) -> None:
    if not ids:
        return
    async with db.write() as session:
        await session.exec(
            update(OutboxRow)
            .where(col(OutboxRow.id).in_(ids))
            .values(status=DONE, done_at=now, last_error=None, in_doubt=False)
        )


async def pending_update_ids(db: Database, alert_id: int, *, after_id: int) -> list[int]:
    """Later update rows of the same alert that a redraw from current state makes redundant."""
    async with db.read() as session:
        query = select(OutboxRow.id).where(
            OutboxRow.alert_id == alert_id,
            OutboxRow.status == PENDING,
            OutboxRow.kind == "update_warning",
            col(OutboxRow.id) > after_id,
        )
        return [i for i in (await session.exec(query)).all() if i is not None]


async def reschedule(
    db: Database, row_id: int, *, at: datetime, error: str, in_doubt: bool = False
) -> None:
    """Try again at ``at``. ``in_doubt``: the failed attempt may still have taken effect."""
    async with db.write() as session:
        await session.exec(
            update(OutboxRow)
            .where(col(OutboxRow.id) == row_id)
            .values(next_attempt_at=at, last_error=error[:2000], in_doubt=in_doubt)
        )
