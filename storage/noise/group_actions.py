"""A person's action on a group's warning: acknowledging, claiming, assigning,
unacknowledging and resolving apply to every open member (each in its own timeline);
snoozing and escalating apply to the lead, which carries the group's escalation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from escalation.events import (
    Acknowledged,
    Assigned,
    Claimed,
    Event,
    IllegalTransition,
    Resolved,
    Unacknowledged,
)
from escalation.model import Status
from escalation.noise.grouping import as_member
from escalation.ports import Directory
from escalation.state import transition
from storage.alerts import policy_of, state_of
from storage.db import Database
from storage.effects import persist_transition
from storage.noise.group_store import after_resolved, enqueue_list
from storage.requests import ActionResult, Also, fit_key
from storage.tables import AlertGroupRow, AlertRow, ProcessedRequestRow

FOR_EVERY_MEMBER = (Acknowledged, Claimed, Assigned, Unacknowledged, Resolved)


async def group_lead(db: Database, alert_id: int) -> int | None:
    """The alert carrying the escalation of ``alert_id``'s group (``None``: not grouped)."""
    async with db.read() as session:
        row = await session.get(AlertRow, alert_id)
        if row is None or row.group_id is None:
            return None
        group = await session.get(AlertGroupRow, row.group_id)
        return group.lead_id if group is not None else None


async def apply_to_group(
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
) -> ActionResult | None:
    """Apply ``event`` to the open members of ``alert_id``'s group, once per request key;
    ``None`` when the alert is in no group of several alerts (apply it to the alert alone).
    ``also`` (a follow-up, notes) is written once, for ``alert_id``."""
    if not isinstance(event, FOR_EVERY_MEMBER):
        return None
    try:
        async with db.write() as session:
            row = await session.get(AlertRow, alert_id)
            if row is None or row.group_id is None:
                return None
            group = await session.get(AlertGroupRow, row.group_id)
            query = select(AlertRow).where(
                AlertRow.group_id == row.group_id, AlertRow.status != Status.RESOLVED.value
            )
            if not db.is_sqlite:
                query = query.with_for_update()
            # the inbox worker's order (``storage.intake.open_alerts.lock_open``): a replica's
            # batch repeating these alerts waits for this, or this for it, never both
            order = (col(AlertRow.integration), col(AlertRow.id))
            targets = list((await session.exec(query.order_by(*order))).all())
            if group is None or len(targets) < 2:
                return None
            session.add(ProcessedRequestRow(key=fit_key(request_key), received_at=now))
            await session.flush()
            # the lead last: when every member resolves, no hand-over happens on the way
            targets.sort(key=lambda r: (r.id == group.lead_id, r.id or 0))
            done, refusal = [], None
            for target in targets:
                before = state_of(target)
                try:
                    tr = transition(before, event, policy=policy_of(target), now=now)
                except IllegalTransition as refused:
                    refusal = refusal or refused
                    continue
                if target.id != group.lead_id:
                    tr = as_member(tr)
                await persist_transition(
                    session, target, tr, kind=kind, actor=actor, now=now, directory=directory
                )
                if isinstance(event, Resolved):
                    await after_resolved(session, target, before=before, now=now)
                done.append(target.id)
            if not done:
                assert refusal is not None
                return ActionResult(False, refusal.message, refusal.rule)
            if also is not None:
                await also(session, alert_id)
            await enqueue_list(session, group, now=now)
            return ActionResult(True, f"applied to {len(done)} alerts of the group", "GROUP-2")
    except IntegrityError:
        return ActionResult(False, "This request was already handled.", duplicate=True)
