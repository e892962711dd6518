"""Heartbeats in the database: pings, the claim that opens a missing heartbeat's alert, and
the ping that resolves it.

Exactly once across replicas and restarts: the alert of a missing spell is opened in the
same transaction as a conditional update that claims the spell (``missing_since`` from NULL
to now, only while ``due_at`` has passed). On PostgreSQL a second replica's update waits for
the first's row lock, then finds the condition false; on SQLite the single writer serialises
them. A ping locks the row first, so a ping and a claim never both win.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel.ext.asyncio.session import AsyncSession

from escalation.heartbeats import (
    SOURCE,
    HeartbeatSpec,
    due_at,
    missing_event,
    resumed_event,
    resumed_summary,
)
from storage.db import Database
from storage.intake.ingest import IngestOutcome, IngestRules, apply_event
from storage.noise.silences import current_silences
from storage.tables import HeartbeatRow, table_of
from storage.timeline import add_line

_TABLE: Table = table_of(HeartbeatRow)
RESUMED_RULE = "HEARTBEAT-1"


@dataclass(frozen=True, slots=True)
class HeartbeatState:
    """A heartbeat as stored."""

    name: str
    first_seen_at: datetime
    last_ping_at: datetime | None
    due_at: datetime
    pings: int
    missing_since: datetime | None
    alert_id: int | None


@dataclass(frozen=True, slots=True)
class Ping:
    """What a ping did: the alert it resolved (the heartbeat was missing), if any."""

    resolved_alert: int | None
    next_due: datetime


async def _ensure(session: AsyncSession, specs: list[HeartbeatSpec], *, now: datetime) -> None:
    """Make the rows of heartbeats not yet stored (their clock starts now); a row another
    replica made at the same moment is kept."""
    if not specs:
        return
    conn = await session.connection()
    values = [
        {
            "name": spec.name,
            "first_seen_at": now,
            "last_ping_at": None,
            "due_at": due_at(spec, last_ping=None, first_seen=now),
            "pings": 0,
            "missing_since": None,
            "alert_id": None,
        }
        for spec in specs
    ]
    insert = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    await conn.execute(insert(_TABLE).values(values).on_conflict_do_nothing())


async def sync(db: Database, specs: Mapping[str, HeartbeatSpec], *, now: datetime) -> None:
    """At start: a row for every configured heartbeat, and ``due_at`` as the policy file
    says now (its interval or grace may have changed). A heartbeat missing while Tocsin was
    down is then due, and the next check opens its alert."""
    async with db.write() as session:
        await _ensure(session, list(specs.values()), now=now)
        conn = await session.connection()
        for row in (await conn.execute(select(*_TABLE.c))).all():
            spec = specs.get(row.name)
            if spec is None or row.missing_since is not None:
                continue
            wanted = due_at(spec, last_ping=row.last_ping_at, first_seen=row.first_seen_at)
            if wanted == row.due_at:
                continue
            same_ping = (
                _TABLE.c.last_ping_at.is_(None)
                if row.last_ping_at is None
                else _TABLE.c.last_ping_at == row.last_ping_at
            )
            # only if no ping came in between (else the ping's due_at stands)
            await conn.execute(
                update(_TABLE).where(_TABLE.c.name == row.name, same_ping).values(due_at=wanted)
            )


async def record_ping(
    db: Database, spec: HeartbeatSpec, rules: IngestRules, *, now: datetime
) -> Ping:
    """Record a ping. If the heartbeat was missing (its spell claimed), resolve the alert the
    spell opened, through the usual resolve path, with a timeline line saying so."""
    async with db.write() as session:
        await _ensure(session, [spec], now=now)
        conn = await session.connection()
        query = select(*_TABLE.c).where(_TABLE.c.name == spec.name)
        if conn.dialect.name != "sqlite":
            query = query.with_for_update()  # a claim racing this ping waits, then finds it
        row = (await conn.execute(query)).one()
        next_due = due_at(spec, last_ping=now, first_seen=row.first_seen_at)
        await conn.execute(
            update(_TABLE)
            .where(_TABLE.c.name == spec.name)
            .values(
                last_ping_at=now,
                due_at=next_due,
                pings=_TABLE.c.pings + 1,
                missing_since=None,
                alert_id=None,
            )
        )
        if row.missing_since is None:
            return Ping(resolved_alert=None, next_due=next_due)
        outcome = IngestOutcome()
        await apply_event(
            session,
            resumed_event(spec),
            rules,
            outcome,
            integration=SOURCE,
            silences=[],
            now=now,
        )
        if not outcome.resolved:  # someone resolved it by hand meanwhile
            return Ping(resolved_alert=None, next_due=next_due)
        [alert_id] = outcome.resolved
        since = row.last_ping_at or row.first_seen_at
        await add_line(
            session,
            alert_id=alert_id,
            rule=RESUMED_RULE,
            actor=None,
            summary=resumed_summary(spec.name, at=now, since=since, zone=spec.timezone),
            now=now,
        )
        return Ping(resolved_alert=alert_id, next_due=next_due)


def _rules_for(spec: HeartbeatSpec, rules: IngestRules) -> IngestRules:
    """The ingest rules for a heartbeat's alert: its own route when it names one."""
    if spec.route is None:
        return rules
    return replace(rules, routes=(), fallback=spec.route)


async def open_missing(
    db: Database, specs: Mapping[str, HeartbeatSpec], rules: IngestRules, *, now: datetime
) -> list[int]:
    """Open the alert of every heartbeat overdue at ``now`` whose spell no one claimed yet;
    returns the alerts opened (or refired). Each claim and its alert: one transaction."""
    names = list(specs)
    if not names:
        return []
    due = select(_TABLE.c.name).where(
        _TABLE.c.name.in_(names), _TABLE.c.due_at <= now, _TABLE.c.missing_since.is_(None)
    )
    async with db.read() as session:
        conn = await session.connection()
        candidates = list((await conn.execute(due)).scalars().all())
    opened: list[int] = []
    for name in candidates:
        spec = specs[name]
        async with db.write() as session:
            conn = await session.connection()
            claim = await conn.execute(
                update(_TABLE)
                .where(
                    _TABLE.c.name == name,
                    _TABLE.c.due_at <= now,
                    _TABLE.c.missing_since.is_(None),
                )
                .values(missing_since=now)
            )
            if claim.rowcount != 1:
                continue  # another replica (or a ping) got there first
            row = (await conn.execute(select(*_TABLE.c).where(_TABLE.c.name == name))).one()
            event = missing_event(
                spec, last_ping=row.last_ping_at, first_seen=row.first_seen_at, now=now
            )
            outcome = IngestOutcome()
            silences = await current_silences(session, now=now)
            await apply_event(
                session,
                event,
                _rules_for(spec, rules),
                outcome,
                integration=SOURCE,
                silences=silences,
                now=now,
            )
            await session.flush()
            found = outcome.opened or outcome.updated
            alert_id = found[0] if found else None
            await conn.execute(
                update(_TABLE).where(_TABLE.c.name == name).values(alert_id=alert_id)
            )
            if alert_id is not None:
                opened.append(alert_id)
    return opened


async def next_due(db: Database, names: list[str]) -> datetime | None:
    """The earliest time a configured heartbeat not already missing becomes missing."""
    if not names:
        return None
    query = select(func.min(_TABLE.c.due_at)).where(
        _TABLE.c.name.in_(names), _TABLE.c.missing_since.is_(None)
    )
    async with db.read() as session:
        conn = await session.connection()
        found = (await conn.execute(query)).scalar()
    return found if isinstance(found, datetime) else None


async def states(db: Database) -> dict[str, HeartbeatState]:
    """Every stored heartbeat, by name."""
    async with db.read() as session:
        conn = await session.connection()
        rows = (await conn.execute(select(*_TABLE.c))).all()
    return {
        row.name: HeartbeatState(
            name=row.name,
            first_seen_at=row.first_seen_at,
            last_ping_at=row.last_ping_at,
            due_at=row.due_at,
            pings=row.pings,
            missing_since=row.missing_since,
            alert_id=row.alert_id,
        )
        for row in rows
    }
