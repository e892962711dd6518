"""Bulk-built alerts for the benchmark, and throw-away databases to hold them.

Every alert is built the way ingest builds it (``open_alert`` + ``new_row``, with its "fired"
and "routed" timeline lines and its ``post_warning`` outbox row, already delivered), then
inserted with core ``INSERT … executemany`` in large batches: far faster than the ORM, and
the rows are the same.
"""

from __future__ import annotations

import contextlib
import random
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import func, select

from config.settings import async_url
from escalation.events import AlertState
from escalation.model import AlertEvent, Link, SourceStatus, Status
from escalation.policy import EscalationPolicy, Target, TargetKind, Tier
from escalation.state import open_alert
from storage.alerts import new_row
from storage.db import Database
from storage.tables import AlertEventRow, AlertRow, OutboxRow, table_of

TEAMS = 40
USERS_PER_TEAM = 6
FIRST_TIER_SECONDS = 300


def _user(team: int, n: int) -> str:
    return f"U{team:03d}{n:05d}X"


def team_policy(team: int, *, slow: bool) -> EscalationPolicy:
    """Three tiers of user targets (1, 2 and 1 people), as a team would write it.

    ``slow`` is the low-urgency variant (hours between tiers) that keeps the background
    alerts pending but not due while the benchmark runs."""
    scale = 72 if slow else 1
    return EscalationPolicy(
        name=f"team-{team}-{'low' if slow else 'high'}",
        tiers=(
            Tier((Target(TargetKind.USER, _user(team, 1)),), FIRST_TIER_SECONDS * scale),
            Tier(
                (Target(TargetKind.USER, _user(team, 2)), Target(TargetKind.USER, _user(team, 3))),
                600 * scale,
            ),
            Tier((Target(TargetKind.USER, _user(team, 4)),), 900 * scale),
        ),
        repeat=1,
        repeat_after_seconds=1800,
        approvers=(_user(team, 5),),
        ack_within_seconds=300,
        resolve_within_seconds=4 * 3600,
        remind_every_seconds=1800,
    )


POLICIES = {
    (team, slow): team_policy(team, slow=slow) for team in range(TEAMS) for slow in (False, True)
}


@dataclass(frozen=True, slots=True)
class Planned:
    """One alert to insert: its id, and when its first step falls due."""

    alert_id: int
    due: datetime
    slow: bool = False


def _event(alert_id: int, team: int, started: datetime) -> AlertEvent:
    return AlertEvent(
        fingerprint=f"bench:{alert_id:08d}",
        status=SourceStatus.FIRING,
        title=f"High error rate on checkout-{alert_id % 97} (5xx > 2%)",
        source="prometheus",
        description="The 5xx ratio of the checkout service has been above 2% for 5 minutes.",
        impact="Customers may fail to pay for their orders.",
        suggested_actions="Check the latest deploy; roll back if it correlates.",
        severity="critical",
        category="availability",
        labels={
            "alertname": "HighErrorRate",
            "service": f"checkout-{alert_id % 97}",
            "env": "prod",
            "team": f"team-{team}",
        },
        annotations={"runbook": "https://runbooks.example.com/checkout/5xx"},
        links=(Link("Dashboard", f"https://grafana.example.com/d/checkout?var={alert_id}"),),
        starts_at=started,
        group_key=f"group-{alert_id % 1000}",
        details={"value": 0.031, "threshold": 0.02},
    )


_ALERT_COLUMNS = [c.key for c in table_of(AlertRow).columns]
_STATE_FIELDS = [f.name for f in fields(AlertState)]
CHECK_EVERY = 997
"""One alert in this many is also built with ``new_row`` itself and compared field by field."""


def _row_dict(row: AlertRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in _ALERT_COLUMNS}


def _alert_dict(
    alert_id: int, event: AlertEvent, state: AlertState, team: int, policy: EscalationPolicy
) -> dict[str, Any]:
    """What ``new_row`` makes, without constructing a SQLModel object per row (building
    100,000 ``AlertRow`` objects costs ~0.5 ms each). Sampled rows are checked against it."""
    alert = dict(_template(team, policy))
    alert.update(
        id=alert_id,
        fingerprint=event.fingerprint,
        source=event.source,
        title=event.title,
        description=event.description,
        impact=event.impact,
        suggested_actions=event.suggested_actions,
        severity=event.severity,
        category=event.category,
        labels=dict(event.labels),
        annotations=dict(event.annotations),
        links=[{"title": link.title, "url": link.url} for link in event.links],
        details=dict(event.details),
        group_key=event.group_key,
    )
    for name in _STATE_FIELDS:
        value = getattr(state, name)
        alert[name] = value.value if isinstance(value, Status) else value
    alert["version"] = 1
    return alert


_TEMPLATES: dict[tuple[int, str], dict[str, Any]] = {}


def _template(team: int, policy: EscalationPolicy) -> dict[str, Any]:
    key = (team, policy.name)
    if key not in _TEMPLATES:
        now = datetime(2026, 1, 1, tzinfo=UTC)
        tr = open_alert(fired_at=now, policy=policy, now=now)
        _TEMPLATES[key] = _row_dict(_new_row(_event(0, team, now), tr.state, team, policy))
    return _TEMPLATES[key]


def _new_row(event: AlertEvent, state: AlertState, team: int, policy: EscalationPolicy) -> AlertRow:
    return new_row(
        event,
        state,
        integration="prometheus",
        level=1,
        grade_reason="severity critical",
        team=f"team-{team}",
        channel=f"#alerts-team-{team}",
        policy=policy,
    )


def build(plan: Planned) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """The alert row, its two timeline rows and its outbox row (as column dicts)."""
    team = plan.alert_id % TEAMS
    policy = POLICIES[(team, plan.slow)]
    # fired exactly one first-tier delay before the due time: open_alert puts the step there
    fired = plan.due - timedelta(seconds=policy.tiers[0].after_seconds)
    tr = open_alert(fired_at=fired, policy=policy, now=fired)
    assert tr.state.next_action_at == plan.due
    event = _event(plan.alert_id, team, fired)
    alert = _alert_dict(plan.alert_id, event, tr.state, team, policy)
    if plan.alert_id % CHECK_EVERY == 0:
        exact = _new_row(event, tr.state, team, policy)
        exact.id = plan.alert_id
        if _row_dict(exact) != alert:
            raise AssertionError(f"bench row differs from new_row: {_row_dict(exact)} {alert}")
    alert_id = plan.alert_id
    channel = alert["channel"]
    timeline = [
        {
            "alert_id": alert_id,
            "at": fired,
            "kind": "fired",
            "rule": tr.rule,
            "summary": tr.summary,
        },
        {
            "alert_id": alert_id,
            "at": fired,
            "kind": "routed",
            "rule": "ROUTE-1",
            "summary": f"graded level 1 (severity critical); routed to {channel}",
        },
    ]
    outbox = {
        "idempotency_key": f"alert:{alert_id}:v1:0",
        "alert_id": alert_id,
        "kind": "post_warning",
        "payload": {},
        "status": "done",
        "created_at": fired,
        "next_attempt_at": fired,
        "attempts": 1,
        "done_at": fired + timedelta(seconds=1),
    }
    return alert, timeline, outbox


async def insert(
    db: Database,
    plans: Iterable[Planned],
    *,
    batch: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Insert the planned alerts in batches (one transaction each); returns how many."""
    done = 0
    chunk: list[Planned] = []

    async def flush() -> None:
        nonlocal done
        alerts, timeline, outbox = [], [], []
        for plan in chunk:
            a, t, o = build(plan)
            alerts.append(a)
            timeline.extend(t)
            outbox.append(o)
        async with db.write() as session:
            conn = await session.connection()
            await conn.execute(table_of(AlertRow).insert(), alerts)
            await conn.execute(table_of(AlertEventRow).insert(), timeline)
            await conn.execute(table_of(OutboxRow).insert(), outbox)
        done += len(chunk)
        chunk.clear()
        if progress is not None:
            progress(done)

    for plan in plans:
        chunk.append(plan)
        if len(chunk) >= batch:
            await flush()
    if chunk:
        await flush()
    return done


async def fix_sequences(db: Database) -> None:
    """Ids were given explicitly: move PostgreSQL's alert id sequence past them."""
    if db.is_sqlite:
        return
    async with db.write() as session:
        conn = await session.connection()
        top = (await conn.execute(select(func.max(AlertRow.id)))).scalar_one()
        await conn.exec_driver_sql(f"SELECT setval('alert_id_seq', {int(top or 1)})")


async def settle(db: Database) -> None:
    """Leave the database as it would be at rest after a load, not mid-bulk-insert:
    SQLite's write-ahead log checkpointed (else the next writer — an instance being measured
    — would copy the seeding's pages back into the database file); PostgreSQL vacuumed and
    analysed (as autovacuum soon would be)."""
    if db.is_sqlite:
        async with db.engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    async with db.engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.exec_driver_sql("VACUUM ANALYZE")


def spread(start: datetime, seconds: float, count: int, rng: random.Random) -> list[datetime]:
    """``count`` instants drawn uniformly over ``seconds`` from ``start``, in order."""
    offsets = sorted(rng.uniform(0, seconds) for _ in range(count))
    return [start + timedelta(seconds=o) for o in offsets]


@contextlib.asynccontextmanager
async def temporary_database(kind: str, admin_url: str) -> AsyncIterator[str]:
    """A fresh database URL (async driver): a new SQLite file, or a new PostgreSQL database
    created on ``admin_url`` and dropped (``WITH (FORCE)``) afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="tocsin-bench-") as tmp:
            yield async_url(f"sqlite:///{Path(tmp) / 'bench.db'}")
        return
    name = f"tocsin_bench_{uuid.uuid4().hex[:12]}"
    plain = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    admin = await asyncpg.connect(plain)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    prefix, _, _ = plain.rpartition("/")
    try:
        yield async_url(f"{prefix}/{name}")
    finally:
        admin = await asyncpg.connect(plain)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
