"""Alerts of a period as :class:`escalation.review.AlertFacts`, streamed in batches."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select

from escalation.model import Status
from escalation.review import AlertFacts
from storage.db import Database
from storage.tables import AlertRow, ResolutionRow

BATCH = 2000


async def count_alerts(
    db: Database, *, since: datetime, until: datetime, team: str | None = None
) -> int:
    query = select(func.count()).where(
        col(AlertRow.fired_at) >= since, col(AlertRow.fired_at) < until
    )
    if team is not None:
        query = query.where(AlertRow.team == team)
    async with db.read() as session:
        return int((await session.exec(query)).one())


async def alert_facts(
    db: Database, *, since: datetime, until: datetime, team: str | None = None
) -> AsyncIterator[AlertFacts]:
    """Alerts fired in [since, until), with their resolution figures, oldest id first."""
    last_id = 0
    while True:
        query = (
            select(AlertRow, ResolutionRow)
            .join(ResolutionRow, col(ResolutionRow.alert_id) == col(AlertRow.id), isouter=True)
            .where(
                col(AlertRow.id) > last_id,
                col(AlertRow.fired_at) >= since,
                col(AlertRow.fired_at) < until,
            )
            .order_by(col(AlertRow.id))
            .limit(BATCH)
        )
        if team is not None:
            query = query.where(AlertRow.team == team)
        async with db.read() as session:
            rows = list((await session.exec(query)).all())
        if not rows:
            return
        for alert, resolution in rows:
            assert alert.id is not None
            last_id = alert.id
            ack_within = alert.policy_snapshot.get("ack_within")
            tta = resolution.time_to_acknowledge_s if resolution else None
            if tta is None and alert.first_acknowledged_at is not None:
                tta = (alert.first_acknowledged_at - alert.fired_at).total_seconds()
            yield AlertFacts(
                fingerprint=alert.fingerprint,
                title=alert.title,
                level=alert.level,
                team=alert.team,
                category=alert.category,
                source=alert.source,
                fired_at=alert.fired_at,
                count=alert.count,
                tta_s=tta,
                ttr_s=resolution.time_to_resolve_s if resolution else None,
                resolved=alert.status == Status.RESOLVED.value,
                resolved_by_source=alert.resolved_by_source,
                acknowledged_by=alert.acknowledged_by,
                root_cause=alert.root_cause,
                ack_within_s=int(ack_within) if ack_within is not None else None,
            )
