"""Persist a transition: the new state, its timeline line, its outbox rows, its record —
all in the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from escalation.state import (
    PostThreadNote,
    PostWarning,
    RecordResolution,
    Transition,
    UpdateWarning,
    time_to_acknowledge,
    time_to_resolve,
)
from storage.alerts import apply_state
from storage.outbox import enqueue
from storage.tables import AlertEventRow, AlertRow, ResolutionRow


async def persist_transition(
    session: AsyncSession,
    row: AlertRow,
    tr: Transition,
    *,
    kind: str,
    actor: str | None,
    now: datetime,
) -> None:
    """``row`` must already be in ``session`` (new rows are flushed here to get their id)."""
    if row.id is None:
        session.add(row)
        await session.flush()
    else:
        apply_state(row, tr.state)
        session.add(row)
    assert row.id is not None
    session.add(
        AlertEventRow(
            alert_id=row.id, at=now, kind=kind, rule=tr.rule, actor=actor, summary=tr.summary
        )
    )
    for index, effect in enumerate(tr.effects):
        key = f"alert:{row.id}:v{row.version}:{index}"
        match effect:
            case PostWarning():
                await enqueue(session, key=key, alert_id=row.id, kind="post_warning", now=now)
            case UpdateWarning():
                await enqueue(session, key=key, alert_id=row.id, kind="update_warning", now=now)
            case PostThreadNote(text=text):
                await enqueue(
                    session,
                    key=key,
                    alert_id=row.id,
                    kind="thread_note",
                    payload={"text": text},
                    now=now,
                )
            case RecordResolution():
                session.add(_resolution(row, tr))


def _resolution(row: AlertRow, tr: Transition) -> ResolutionRow:
    state = tr.state
    assert row.id is not None
    assert state.resolved_at is not None
    return ResolutionRow(
        alert_id=row.id,
        fingerprint=row.fingerprint,
        level=row.level,
        team=row.team,
        resolved_at=state.resolved_at,
        resolved_by=state.resolved_by,
        by_source=state.resolved_by_source,
        note=state.resolution_note,
        root_cause=state.root_cause,
        acknowledged_by=state.acknowledged_by,
        owner=state.owner,
        time_to_acknowledge_s=time_to_acknowledge(state),
        time_to_resolve_s=time_to_resolve(state),
    )
