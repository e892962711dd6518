"""People acting on alerts: one transaction, acted on once per Slack request."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError

from escalation.model import Status
from escalation.policy import EscalationPolicy
from escalation.ports import Directory
from escalation.state import Event, IllegalTransition, transition
from storage.alerts import policy_of, state_of
from storage.db import Database
from storage.effects import persist_transition
from storage.noise.group_store import after_resolved, shape_for_group
from storage.requests import ActionResult, Also, fit_key
from storage.tables import AlertEventRow, AlertRow, ProcessedRequestRow


async def apply_action(
    db: Database,
    *,
    alert_id: int,
    event: Event,
    kind: str,
    actor: str,
    request_key: str,
    now: datetime,
    directory: Directory | None = None,
    also: Also | None = None,
) -> ActionResult:
    """Apply a person's ``event`` to an alert. A request key seen before does nothing.
    ``also`` writes more of the record (a follow-up, a note) in the same transaction."""
    try:
        async with db.write() as session:
            session.add(ProcessedRequestRow(key=fit_key(request_key), received_at=now))
            await session.flush()
            row = await session.get(AlertRow, alert_id, with_for_update=not db.is_sqlite)
            if row is None:
                return ActionResult(False, f"Alert #{alert_id} does not exist.")
            before = state_of(row)
            try:
                tr = transition(before, event, policy=policy_of(row), now=now)
            except IllegalTransition as refused:
                return ActionResult(False, refused.message, refused.rule)
            tr = await shape_for_group(session, row, tr)
            await persist_transition(
                session, row, tr, kind=kind, actor=actor, now=now, directory=directory
            )
            if tr.state.status is Status.RESOLVED:
                await after_resolved(session, row, before=before, now=now)
            if also is not None:
                await also(session, alert_id)
            return ActionResult(True, tr.summary, tr.rule)
    except IntegrityError:
        return ActionResult(False, "This request was already handled.", duplicate=True)


async def alert_policy(db: Database, alert_id: int) -> EscalationPolicy | None:
    """The policy snapshot an alert opened with (approvers, stand-down rule), if it exists."""
    async with db.read() as session:
        row = await session.get(AlertRow, alert_id)
    return policy_of(row) if row is not None else None


async def record_refusal(
    db: Database, *, alert_id: int, actor: str, what: str, now: datetime, rule: str = "AUTH-1"
) -> None:
    """A person tried what they may not do: kept in the alert's timeline."""
    async with db.write() as session:
        if await session.get(AlertRow, alert_id) is None:
            return
        session.add(
            AlertEventRow(
                alert_id=alert_id,
                at=now,
                kind="refused",
                rule=rule,
                actor=actor,
                summary=f"<@{actor}> may not {what}; refused",
            )
        )
