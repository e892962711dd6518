"""Metric alerts dropped as noise: counted per fingerprint, so nothing is silently lost.

``tocsin noise`` lists them, ``/tocsin list`` shows the total of the last day, and
``tocsin_noise_dropped_total`` counts them for Prometheus.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from escalation.model import AlertEvent, Metric
from escalation.triage.grading import Noise
from storage.db import Database
from storage.tables import NoiseDropRow


async def record_noise(
    session: AsyncSession,
    event: AlertEvent,
    metric: Metric,
    noise: Noise,
    *,
    integration: str,
    now: datetime,
) -> None:
    """Count one dropped event (in the caller's transaction)."""
    row = await session.get(
        NoiseDropRow, {"fingerprint": event.fingerprint, "integration": integration}
    )
    if row is None:
        row = NoiseDropRow(
            fingerprint=event.fingerprint,
            integration=integration,
            title=event.title,
            metric=metric.name,
            category=event.category,
            count=0,
            first_at=now,
            last_at=now,
            last_value=metric.value,
            last_deviation=noise.deviation,
        )
    row.count += 1
    row.title = event.title
    row.last_at = now
    row.last_value = metric.value
    row.last_baseline = metric.baseline if metric.baseline is not None else metric.threshold
    row.last_deviation = noise.deviation
    row.reason = noise.reason[:255]
    session.add(row)


@dataclass(frozen=True, slots=True)
class NoiseSummary:
    fingerprint: str
    integration: str
    title: str
    metric: str
    category: str | None
    count: int
    first_at: datetime
    last_at: datetime
    last_value: float
    last_baseline: float | None
    last_deviation: float
    reason: str


async def noise_since(db: Database, *, since: datetime, limit: int = 100) -> list[NoiseSummary]:
    """Fingerprints dropped as noise at least once since ``since``, most recent first."""
    async with db.read() as session:
        rows = (
            await session.exec(
                select(NoiseDropRow)
                .where(col(NoiseDropRow.last_at) >= since)
                .order_by(col(NoiseDropRow.last_at).desc())
                .limit(limit)
            )
        ).all()
    return [
        NoiseSummary(
            fingerprint=r.fingerprint,
            integration=r.integration,
            title=r.title,
            metric=r.metric,
            category=r.category,
            count=r.count,
            first_at=r.first_at,
            last_at=r.last_at,
            last_value=r.last_value,
            last_baseline=r.last_baseline,
            last_deviation=r.last_deviation,
            reason=r.reason,
        )
        for r in rows
    ]


async def noise_totals(db: Database, *, since: datetime) -> tuple[int, int]:
    """(events dropped, distinct fingerprints) among fingerprints last dropped since
    ``since``. Counts are cumulative per fingerprint."""
    async with db.read() as session:
        total, distinct = (
            await session.exec(
                select(func.coalesce(func.sum(NoiseDropRow.count), 0), func.count()).where(
                    col(NoiseDropRow.last_at) >= since
                )
            )
        ).one()
    return int(total), int(distinct)
