"""Check that ``step_due`` writes exactly what the straightforward ORM version writes.

    .venv/bin/python -m bench.step_equivalence [--db sqlite|postgres|both] [--alerts 600]

Two identical databases are filled with alerts in varied states (firing at every tier,
acknowledged and owned with deadlines and reminders, snoozed, awaiting approval under each
``on_timeout``, chains that repeat or end; user, on-call, group, channel and webhook
targets). Then, at a series of moments, one database is stepped by ``step_due`` and the other
by the reference — the ORM loop ``step_due`` used to be: load each due ``AlertRow``,
``transition(…, StepDue())``, ``persist_transition`` — with the same ``now`` and ``limit``.
After every round each table (alert, alert_event, outbox, resolution) must be identical,
row for row and id for id (on PostgreSQL, alerts due at the same instant may be claimed in
either order by either version, so the inserted rows are compared without their ids).
Exit status 1 at the first difference.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import col, select

from bench.seed import temporary_database
from escalation.events import (
    Acknowledged,
    AlertState,
    Assigned,
    Claimed,
    EscalationRequested,
    Event,
    IllegalTransition,
    Snoozed,
    StepDue,
    Transition,
    Unacknowledged,
)
from escalation.model import AlertEvent, SourceStatus, Status
from escalation.policy import EscalationPolicy, OnTimeout, Target, TargetKind, Tier
from escalation.state import open_alert, transition
from storage.alerts import new_row, policy_of, state_of
from storage.db import Database
from storage.effects import persist_transition
from storage.escalations import step_due
from storage.tables import AlertRow

BASE = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
TABLES = ("alert", "alert_event", "outbox", "resolution")


class Rotations:
    def on_call(self, rotation: str, *, at: datetime) -> str | None:
        return None if rotation == "empty" else f"U{rotation.upper()}{at.hour:02d}"


def policies() -> list[EscalationPolicy]:
    user = Target(TargetKind.USER, "U1")
    mixed = (
        Target(TargetKind.USER, "U2"),
        Target(TargetKind.ONCALL, "primary"),
        Target(TargetKind.ONCALL, "empty"),
        Target(TargetKind.GROUP, "S1"),
        Target(TargetKind.CHANNEL, "#ops"),
        Target(TargetKind.WEBHOOK, "pager"),
    )
    found = [
        EscalationPolicy("plain", (Tier((user,), 0), Tier(mixed, 300), Tier((user,), 600))),
        EscalationPolicy(
            "repeat",
            (Tier((user,), 60), Tier(mixed, 120)),
            repeat=2,
            repeat_after_seconds=900,
            remind_every_seconds=600,
            resolve_within_seconds=3600,
        ),
        EscalationPolicy("short", (Tier((user,), 0),), resolve_within_seconds=600),
        EscalationPolicy("empty", ()),
        EscalationPolicy("nobody", (Tier((), 30),)),
    ]
    for on_timeout in OnTimeout:
        found.append(
            EscalationPolicy(
                f"approval-{on_timeout.value}",
                (Tier((user,), 0), Tier(mixed, 300, requires_approval=True), Tier((user,), 300)),
                approvers=("UMGR1", "UMGR2", "UMGR3"),
                approval_timeout_seconds=600,
                on_timeout=on_timeout,
                remind_every_seconds=900,
                resolve_within_seconds=1800,
            )
        )
    return found


def history(rng: random.Random) -> list[Event | None]:
    """A random run of events (``None``: let the timer step)."""
    choices: list[Event | None] = [
        None,
        None,
        None,
        Acknowledged("UA"),
        Claimed("UB"),
        Assigned("UA", "UC"),
        Unacknowledged("UA"),
        Snoozed("UA", BASE),
        EscalationRequested("UA", "need help"),
    ]
    return [rng.choice(choices) for _ in range(rng.randint(0, 6))]


def build_alert(alert_id: int, rng: random.Random) -> tuple[AlertRow, AlertState]:
    policy = rng.choice(policies())
    at = BASE - timedelta(hours=2) + timedelta(seconds=rng.uniform(0, 600))
    tr: Transition = open_alert(fired_at=at, policy=policy, now=at)
    state = tr.state
    for event in history(rng):
        at += timedelta(seconds=rng.uniform(30, 900), microseconds=rng.randint(0, 999_999))
        if isinstance(event, Snoozed):
            event = Snoozed(event.actor, at + timedelta(seconds=rng.uniform(60, 3600)))
        try:
            state = transition(state, event or StepDue(), policy=policy, now=at).state
        except IllegalTransition:
            continue
    event_ = AlertEvent(
        fingerprint=f"eq:{alert_id}",
        status=SourceStatus.FIRING,
        title=f"alert {alert_id}",
        source="x",
    )
    row = new_row(
        event_,
        state,
        integration="generic",
        level=rng.randint(1, 3),
        grade_reason="test",
        team=f"team-{alert_id % 3}",
        channel="#alerts",
        policy=policy,
    )
    row.id = alert_id
    return row, state


async def seed(db: Database, count: int, seed_value: int) -> None:
    rng = random.Random(seed_value)
    async with db.write() as session:
        for alert_id in range(1, count + 1):
            row, _ = build_alert(alert_id, rng)
            session.add(row)
    if not db.is_sqlite:
        async with db.write() as session:
            await session.exec(text(f"SELECT setval('alert_id_seq', {count})"))  # type: ignore[call-overload]


async def reference_step_due(db: Database, *, now: datetime, limit: int) -> int:
    """The ORM version of ``step_due``, as it was written first."""
    query = (
        select(AlertRow)
        .where(col(AlertRow.next_action_at) <= now, AlertRow.status != Status.RESOLVED.value)
        .order_by(col(AlertRow.next_action_at))
        .limit(limit)
    )
    if not db.is_sqlite:
        query = query.with_for_update(skip_locked=True)
    stepped = 0
    async with db.write() as session:
        for row in (await session.exec(query)).all():
            try:
                tr = transition(state_of(row), StepDue(), policy=policy_of(row), now=now)
            except IllegalTransition:
                continue
            await persist_transition(
                session, row, tr, kind="step", actor=None, now=now, directory=Rotations()
            )
            stepped += 1
    return stepped


async def dump(db: Database) -> dict[str, list[Any]]:
    found = {}
    async with db.engine.connect() as conn:
        for table in TABLES:
            result = await conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY id")  # noqa: S608
            found[table] = [tuple(r) for r in result.all()]
    return found


def _rows(rows: list[Any], *, exact: bool) -> list[Any]:
    """Exact (ids too) on SQLite. On PostgreSQL alerts due at the same instant may be claimed
    in any order (``ORDER BY next_action_at`` leaves ties to the heap's physical order, which
    differs between the two databases), so the inserted rows are compared without their id."""
    if exact:
        return rows
    return sorted((r[1:] for r in rows), key=repr)


def _show(left: list[Any], right: list[Any], *, exact: bool) -> None:
    a, b = _rows(left, exact=exact), _rows(right, exact=exact)
    print(f"  step_due: {len(a)} rows, reference: {len(b)} rows")
    for x, y in zip(a, b, strict=False):
        if x != y:
            print(f"  step_due:  {x}\n  reference: {y}")
            return


async def check(kind: str, admin_url: str, alerts: int) -> int:
    async with (
        temporary_database(kind, admin_url) as url_a,
        temporary_database(kind, admin_url) as url_b,
    ):
        new, ref = Database(url_a), Database(url_b)
        for db in (new, ref):
            await db.upgrade()
            await seed(db, alerts, 7)
        rng = random.Random(11)
        now = BASE - timedelta(minutes=90)
        rounds = steps = 0
        while now < BASE + timedelta(hours=8):
            now += timedelta(seconds=rng.uniform(20, 900), microseconds=rng.randint(0, 999_999))
            limit = rng.choice([1, 7, 50, 500])
            while True:
                a = await step_due(new, now=now, directory=Rotations(), limit=limit)
                b = await reference_step_due(ref, now=now, limit=limit)
                rounds += 1
                steps += a
                if a != b:
                    print(f"{kind}: round {rounds}: step_due stepped {a}, the reference {b}")
                    return 1
                if a < limit:
                    break
            left, right = await dump(new), await dump(ref)
            for table in TABLES:
                exact = kind == "sqlite"
                if _rows(left[table], exact=exact) != _rows(right[table], exact=exact):
                    print(f"{kind}: round {rounds}: table {table} differs")
                    _show(left[table], right[table], exact=exact)
                    return 1
        counts = {t: len(v) for t, v in left.items()}
        rules = sorted({r[4] for r in left["alert_event"]})
        await new.dispose()
        await ref.dispose()
    print(f"{kind}: identical after {rounds} rounds, {steps} steps; rows: {counts}")
    print(f"{kind}: rules exercised: {', '.join(rules)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.step_equivalence")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--alerts", type=int, default=600)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    failed = 0
    for kind in kinds:
        failed |= asyncio.run(check(kind, args.postgres_url, args.alerts))
    return failed


if __name__ == "__main__":
    sys.exit(main())
