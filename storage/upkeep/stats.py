"""Figures about the database for monitoring: open alerts, outbox backlog, due escalations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select

from escalation.model import Status
from storage.db import Database
from storage.outbox import PENDING
from storage.tables import AlertRow, OutboxRow


@dataclass(frozen=True, slots=True)
class DatabaseFigures:
    open_alerts: dict[tuple[int, str], int]
    outbox_depth: int
    outbox_oldest_age_s: float
    escalations_due: int
    escalations_late: int


async def database_figures(
    db: Database, *, now: datetime, late_after: timedelta
) -> DatabaseFigures:
    open_ = AlertRow.status != Status.RESOLVED.value
    async with db.read() as session:
        by_level = (
            await session.exec(
                select(AlertRow.level, AlertRow.status, func.count())
                .where(open_)
                .group_by(col(AlertRow.level), col(AlertRow.status))
            )
        ).all()
        depth, oldest = (
            await session.exec(
                select(func.count(), func.min(OutboxRow.created_at)).where(
                    OutboxRow.status == PENDING
                )
            )
        ).one()
        due = (
            await session.exec(
                select(func.count()).where(open_, col(AlertRow.next_action_at) <= now)
            )
        ).one()
        late = (
            await session.exec(
                select(func.count()).where(open_, col(AlertRow.next_action_at) <= now - late_after)
            )
        ).one()
    age = (now - oldest).total_seconds() if isinstance(oldest, datetime) else 0.0
    return DatabaseFigures(
        open_alerts={(int(level), str(status)): int(n) for level, status, n in by_level},
        outbox_depth=int(depth),
        outbox_oldest_age_s=max(age, 0.0),
        escalations_due=int(due),
        escalations_late=int(late),
    )
