"""The timer side of escalation: claim the alerts whose next action is due and step them.

Claiming and stepping happen in one transaction, with the state and the outbox rows: a crash
before the commit leaves the step to be done again; after it, the step is never repeated.
``FOR UPDATE SKIP LOCKED`` lets several replicas share the due alerts on PostgreSQL; on
SQLite the single writer serialises them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Table, Text, cast, func
from sqlmodel import select

from escalation.events import IllegalTransition, StepDue
from escalation.model import Status
from escalation.ports import Directory
from escalation.state import transition
from storage.alerts import STATE_FIELDS, policy_of_snapshot, state_of_columns
from storage.batch import Reader
from storage.db import Database
from storage.effects import Stepped, persist_transitions
from storage.tables import AlertRow, SilenceRow, table_of


async def step_due(
    db: Database,
    *,
    now: datetime,
    directory: Directory,
    limit: int = 500,
    before_commit: Callable[[], None] | None = None,
) -> int:
    """Apply ``StepDue`` to up to ``limit`` due alerts; returns how many were stepped.
    ``before_commit`` runs when steps are written but not yet committed (fault tests)."""
    table = _ALERT_TABLE
    query = (
        select(*_CLAIM.columns)
        .where(
            table.c.next_action_at <= now,
            # silenced alerts are released by storage.noise.silences.run_due (it knows the silences)
            table.c.status.notin_((Status.RESOLVED.value, Status.SILENCED.value)),
        )
        .order_by(table.c.next_action_at)
        .limit(limit)
    )
    if not db.is_sqlite:
        # FOR NO KEY UPDATE: rows being inserted elsewhere that reference the alert (timeline,
        # outbox, slack_message) hold KEY SHARE on it, which plain FOR UPDATE would conflict
        # with — SKIP LOCKED would then pass over an alert that is due.
        query = query.with_for_update(skip_locked=True, key_share=True)
    async with db.write() as session:
        conn = await session.connection()
        steps: list[Stepped] = []
        due = StepDue()
        for row in _CLAIM.decode(conn.dialect, (await conn.execute(query)).all()):
            alert_id, version, fingerprint, level, team = row[:_STATE_AT]
            state = state_of_columns(row[_STATE_AT:_POLICY_AT])
            try:
                tr = transition(state, due, policy=policy_of_snapshot(row[_POLICY_AT]), now=now)
            except IllegalTransition:
                continue
            steps.append(Stepped(alert_id, version, fingerprint, level, team, state, tr))
        await persist_transitions(
            session, steps, kind="step", actor=None, now=now, directory=directory
        )
        if steps and before_commit is not None:
            await session.flush()
            before_commit()
    return len(steps)


_ALERT_TABLE: Table = table_of(AlertRow)
_SILENCE_TABLE: Table = table_of(SilenceRow)
_KEY_FIELDS = ("id", "version", "fingerprint", "level", "team")
_CLAIM = Reader(
    (
        *(_ALERT_TABLE.c[name] for name in (*_KEY_FIELDS, *STATE_FIELDS)),
        cast(_ALERT_TABLE.c.policy_snapshot, Text).label("policy_snapshot"),
    )
)
"""What stepping needs of a due alert: the columns the timeline, outbox and resolution rows
take, its state, its policy snapshot (as JSON text) — not its labels, links, details…"""
_STATE_AT = len(_KEY_FIELDS)
_POLICY_AT = _STATE_AT + len(STATE_FIELDS)


async def next_wake_at(db: Database) -> datetime | None:
    """When the escalation engine has something to do next: the earliest pending action of
    any open alert, or the start of a scheduled silence if that is earlier
    (``storage.noise.silences.run_due`` starts it) — in one read, as the engine asks after every
    wake-up."""
    alert, silence = _ALERT_TABLE, _SILENCE_TABLE
    due = select(func.min(alert.c.next_action_at)).where(alert.c.status != Status.RESOLVED.value)
    starts = select(func.min(silence.c.starts_at)).where(
        silence.c.started.is_(False), silence.c.ended_at.is_(None)
    )
    async with db.read() as session:
        conn = await session.connection()
        found = (await conn.execute(select(due.scalar_subquery(), starts.scalar_subquery()))).one()
    return min((t for t in found if isinstance(t, datetime)), default=None)
