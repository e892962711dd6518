"""The timer side of escalation: claim the alerts whose next action is due and step them.

Claiming and stepping happen in one transaction, with the state and the outbox rows: a crash
before the commit leaves the step to be done again; after it, the step is never repeated.
``FOR UPDATE SKIP LOCKED`` lets several replicas share the due alerts on PostgreSQL; on
SQLite the single writer serialises them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select

from escalation.events import IllegalTransition, StepDue
from escalation.model import Status
from escalation.ports import Directory
from escalation.state import transition
from storage.alerts import policy_of, state_of
from storage.db import Database
from storage.effects import persist_transition
from storage.tables import AlertRow


async def step_due(db: Database, *, now: datetime, directory: Directory, limit: int = 500) -> int:
    """Apply ``StepDue`` to up to ``limit`` due alerts; returns how many were stepped."""
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
                session, row, tr, kind="step", actor=None, now=now, directory=directory
            )
            stepped += 1
    return stepped


async def next_due_at(db: Database) -> datetime | None:
    """The earliest pending action of any open alert."""
    async with db.read() as session:
        query = select(func.min(AlertRow.next_action_at)).where(
            AlertRow.status != Status.RESOLVED.value
        )
        value = (await session.exec(query)).one()
    return value if isinstance(value, datetime) else None
