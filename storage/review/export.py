"""Every alert with its timeline, streamed for export (JSON lines or CSV)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from storage.db import Database
from storage.review.facts import ReviewFilter
from storage.tables import AlertEventRow, AlertRow, ResolutionRow

BATCH = 500
FIELDS = (
    "id",
    "fingerprint",
    "integration",
    "source",
    "status",
    "level",
    "title",
    "description",
    "impact",
    "suggested_actions",
    "severity",
    "category",
    "team",
    "channel",
    "policy",
    "fired_at",
    "last_seen_at",
    "count",
    "acknowledged_by",
    "first_acknowledged_at",
    "owner",
    "resolved_by",
    "resolved_at",
    "resolved_by_source",
    "resolution_note",
    "root_cause",
    "labels",
)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def count_exported(db: Database, *, since: datetime | None = None) -> int:
    """How many alerts ``export_alerts(db, since=since)`` yields (for a progress bar)."""
    query = select(func.count()).select_from(AlertRow)
    if since is not None:
        query = query.where(col(AlertRow.fired_at) >= since)
    async with db.read() as session:
        return int((await session.exec(query)).one())


async def export_alerts(
    db: Database,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    spec: ReviewFilter | None = None,
    newest_first: bool = False,
    limit: int | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """Alerts fired in [since, until) (or matching ``spec``), oldest first (or newest first),
    each with ``timeline`` and the durations of its resolution; at most ``limit``.

    Read in batches by id, so memory stays flat however many alerts there are.
    """
    last_id = None
    left = limit
    while left is None or left > 0:
        query = select(AlertRow)
        if last_id is not None:
            query = query.where(
                col(AlertRow.id) < last_id if newest_first else col(AlertRow.id) > last_id
            )
        if since is not None:
            query = query.where(col(AlertRow.fired_at) >= since)
        if until is not None:
            query = query.where(col(AlertRow.fired_at) < until)
        if spec is not None:
            query = spec.apply(query)
        order = col(AlertRow.id).desc() if newest_first else col(AlertRow.id)
        size = BATCH if left is None else min(BATCH, left)
        async with db.read() as session:
            rows = list((await session.exec(query.order_by(order).limit(size))).all())
            if not rows:
                return
            ids = [row.id for row in rows]
            events = (
                await session.exec(
                    select(AlertEventRow)
                    .where(col(AlertEventRow.alert_id).in_(ids))
                    .order_by(col(AlertEventRow.id))
                )
            ).all()
            resolutions = (
                await session.exec(
                    select(ResolutionRow).where(col(ResolutionRow.alert_id).in_(ids))
                )
            ).all()
        timelines: dict[int, list[dict[str, Any]]] = {}
        for event in events:
            timelines.setdefault(event.alert_id, []).append(
                {
                    "at": event.at.isoformat(),
                    "kind": event.kind,
                    "rule": event.rule,
                    "actor": event.actor,
                    "summary": event.summary,
                }
            )
        by_alert = {r.alert_id: r for r in resolutions}
        for row in rows:
            assert row.id is not None
            record = {name: _plain(getattr(row, name)) for name in FIELDS}
            resolution = by_alert.get(row.id)
            record["time_to_acknowledge_s"] = (
                resolution.time_to_acknowledge_s if resolution else None
            )
            record["time_to_resolve_s"] = resolution.time_to_resolve_s if resolution else None
            record["timeline"] = timelines.get(row.id, [])
            yield record
            last_id = row.id
        if left is not None:
            left -= len(rows)
