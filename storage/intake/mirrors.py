"""Mirrors: copies of an alert's warning in the channels of routes matched with ``continue``.

One alert record, one escalation, one thread; each mirror is a copy of the warning message
that is redrawn whenever the warning is (its buttons act on the same alert).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from escalation.model import RouteDecision
from storage.db import Database
from storage.tables import AlertEventRow, AlertMirrorRow


async def add_mirrors(
    session: AsyncSession,
    alert_id: int,
    mirrors: Sequence[RouteDecision],
    *,
    now: datetime,
    rule: str = "ROUTE-2",
) -> list[str]:
    """Add mirror channels not already there (in the caller's transaction); the new ones."""
    existing = set(
        (
            await session.exec(
                select(AlertMirrorRow.channel).where(AlertMirrorRow.alert_id == alert_id)
            )
        ).all()
    )
    added = []
    for mirror in mirrors:
        if mirror.channel in existing:
            continue
        existing.add(mirror.channel)
        added.append(mirror.channel)
        session.add(
            AlertMirrorRow(
                alert_id=alert_id, channel=mirror.channel, route_index=mirror.route_index
            )
        )
        by = (
            "the default route" if mirror.route_index is None else f"route {mirror.route_index + 1}"
        )
        session.add(
            AlertEventRow(
                alert_id=alert_id,
                at=now,
                kind="mirrored",
                rule=rule,
                summary=f"also shown in {mirror.channel} ({by})",
            )
        )
    return added


async def mirrors_of(db: Database, alert_id: int) -> list[AlertMirrorRow]:
    async with db.read() as session:
        query = (
            select(AlertMirrorRow)
            .where(AlertMirrorRow.alert_id == alert_id)
            .order_by(col(AlertMirrorRow.channel))
        )
        return list((await session.exec(query)).all())


async def record_mirror_posted(
    db: Database, *, alert_id: int, channel: str, channel_id: str, ts: str, now: datetime
) -> None:
    async with db.write() as session:
        row = await session.get(AlertMirrorRow, (alert_id, channel))
        if row is None:
            return
        row.channel_id, row.ts, row.posted_at = channel_id, ts, now
        session.add(row)
