"""Alert rows ↔ domain types."""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import and_, func, union
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from escalation.events import AlertState, state_of_values
from escalation.model import (
    AlertEvent,
    AlertView,
    Flapping,
    LastResolution,
    LevelSpec,
    Link,
    Metric,
    Status,
)
from escalation.policy import EscalationPolicy
from escalation.record.recurrence import window_start
from storage.db import Database
from storage.tables import AlertRow

STATE_FIELDS = tuple(f.name for f in fields(AlertState))
"""The state columns of an alert row, in :class:`AlertState`'s field order."""


def state_of(row: AlertRow) -> AlertState:
    values = {name: getattr(row, name) for name in STATE_FIELDS}
    values["status"] = Status(row.status)
    values["resume_status"] = Status(row.resume_status) if row.resume_status else None
    return AlertState(**values)


def policy_of(row: AlertRow) -> EscalationPolicy:
    """The policy snapshot taken when the alert opened (later edits never apply)."""
    return EscalationPolicy.from_snapshot(row.policy_snapshot)


def state_of_columns(values: Sequence[Any]) -> AlertState:
    """As :func:`state_of`, from the state columns as read (:data:`STATE_FIELDS` order)."""
    state = list(values)
    state[_STATUS_AT] = _STATUSES[state[_STATUS_AT]]
    state[_RESUME_AT] = _STATUSES[state[_RESUME_AT]] if state[_RESUME_AT] else None
    return state_of_values(state)


@functools.lru_cache(maxsize=512)
def policy_of_snapshot(snapshot: str) -> EscalationPolicy:
    """:func:`policy_of` for a snapshot's JSON text, as read. Alerts opened under the same
    policy share the same snapshot, so each is parsed once (policies are immutable)."""
    return EscalationPolicy.from_snapshot(json.loads(snapshot))


def apply_state(row: AlertRow, state: AlertState) -> None:
    for name in STATE_FIELDS:
        value = getattr(state, name)
        setattr(row, name, value.value if isinstance(value, Status) else value)
    row.version += 1


def _details(event: AlertEvent) -> dict[str, object]:
    """The event's extra fields; a metric is kept under the reserved key ``metric``."""
    details = dict(event.details)
    if event.metric is not None:
        details["metric"] = event.metric.to_dict()
    return details


def metric_of(row: AlertRow) -> Metric | None:
    """The metric an alert row was opened (or last updated) with, if any."""
    data = row.details.get("metric") if isinstance(row.details, dict) else None
    return Metric.from_dict(data) if isinstance(data, dict) else None


def new_row(
    event: AlertEvent,
    state: AlertState,
    *,
    integration: str,
    level: int,
    grade_reason: str,
    team: str,
    channel: str,
    policy: EscalationPolicy,
) -> AlertRow:
    row = AlertRow(
        **_event_values(
            event,
            integration=integration,
            level=level,
            grade_reason=grade_reason,
            team=team,
            channel=channel,
            policy=policy,
        ),
        status=state.status.value,
        fired_at=state.fired_at,
        last_seen_at=state.last_seen_at,
        version=0,
    )
    apply_state(row, state)
    return row


def new_row_values(
    event: AlertEvent,
    *,
    integration: str,
    level: int,
    grade_reason: str,
    team: str,
    channel: str,
    policy: EscalationPolicy,
    snapshot: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The columns of the row :func:`new_row` builds but ``id`` and the state's (add
    :func:`state_values` and ``version`` 1), as a core ``INSERT`` takes them: for many new
    alerts at once without a SQLModel object each. ``snapshot``: ``policy.to_snapshot()``
    when the caller already has it (alerts of one policy share it)."""
    values = dict(_ROW_DEFAULTS)
    values.update(
        _event_values(
            event,
            integration=integration,
            level=level,
            grade_reason=grade_reason,
            team=team,
            channel=channel,
            policy=policy,
            snapshot=snapshot,
        )
    )
    return values


state_fields = operator.attrgetter(*STATE_FIELDS)
"""An alert state's field values as a tuple, in :data:`STATE_FIELDS` order."""
_STATUS_AT = STATE_FIELDS.index("status")
_RESUME_AT = STATE_FIELDS.index("resume_status")
_STATUSES = {status.value: status for status in Status}


def state_values(state: AlertState) -> dict[str, Any]:
    """The state columns of ``state``, as :func:`apply_state` sets them."""
    values = list(state_fields(state))
    values[_STATUS_AT] = values[_STATUS_AT].value
    if values[_RESUME_AT] is not None:
        values[_RESUME_AT] = values[_RESUME_AT].value
    return dict(zip(STATE_FIELDS, values, strict=True))


def _event_values(
    event: AlertEvent,
    *,
    integration: str,
    level: int,
    grade_reason: str,
    team: str,
    channel: str,
    policy: EscalationPolicy,
    snapshot: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "fingerprint": event.fingerprint,
        "integration": integration,
        "source": event.source,
        "level": level,
        "grade_reason": grade_reason,
        "title": event.title,
        "description": event.description,
        "impact": event.impact,
        "suggested_actions": event.suggested_actions,
        "severity": event.severity,
        "category": event.category,
        "labels": dict(event.labels),
        "annotations": dict(event.annotations),
        "links": [{"title": link.title, "url": link.url} for link in event.links],
        "details": _details(event),
        "group_key": event.group_key,
        "team": team,
        "channel": channel,
        "policy": policy.name,
        "policy_snapshot": policy.to_snapshot() if snapshot is None else snapshot,
    }


_ROW_DEFAULTS: dict[str, Any] = {
    name: None if info.is_required() else info.get_default(call_default_factory=True)
    for name, info in AlertRow.model_fields.items()
    if name != "id"
}
"""A new alert row's columns before the event and state fill them in: the model's defaults
(all immutable but the JSON columns', which every new row is given)."""


async def find_open(session: AsyncSession, integration: str, fingerprint: str) -> AlertRow | None:
    """The open alert of ``fingerprint`` sent to ``integration``: fingerprints are each
    integration's own (two tools sending the same one are two alerts).

    Read to be written: on PostgreSQL the row is locked as it is read (``FOR NO KEY
    UPDATE``, as ``storage.intake.open_alerts.lock_open`` locks a batch's; SQLite has one
    writer and no row locks). A replica's transaction changing it meanwhile (its engine's
    step, a person's button) is waited for, and its version is what the caller writes on
    from, not a stale one whose next outbox key is taken (a heartbeat's ping resolving the
    alert another replica had just opened failed so)."""
    query = (
        select(AlertRow)
        .where(
            AlertRow.integration == integration,
            AlertRow.fingerprint == fingerprint,
            AlertRow.status != Status.RESOLVED.value,
        )
        .with_for_update(key_share=True)
    )
    return (await session.exec(query)).first()


def _same_problem(row: AlertRow) -> list[Any]:
    """Conditions naming the same problem as ``row``: its fingerprint (from its integration),
    its recurrence key."""
    found: list[Any] = [
        and_(
            col(AlertRow.integration) == row.integration,
            col(AlertRow.fingerprint) == row.fingerprint,
        )
    ]
    if row.recurrence_key:
        found.append(col(AlertRow.recurrence_key) == row.recurrence_key)
    return found


async def last_resolution(session: AsyncSession, row: AlertRow) -> LastResolution | None:
    """The most recent earlier alert of the same problem that was resolved (each lookup is
    one backward scan of an index on ``(integration, fingerprint, fired_at)`` or
    ``(recurrence_key, fired_at)``)."""
    best: Any = None
    for same in _same_problem(row):
        query = (
            sa_select(*_LAST_COLUMNS)
            # resolved_at, not status: the planner must walk the (…, fired_at) index, never
            # the status index (every old alert is resolved)
            .where(
                same,
                col(AlertRow.fired_at) <= row.fired_at,
                col(AlertRow.resolved_at).is_not(None),
                col(AlertRow.id) < row.id,
            )
            .order_by(col(AlertRow.fired_at).desc(), col(AlertRow.id).desc())
            .limit(1)
        )
        found = (await (await session.connection()).execute(query)).first()
        if found is not None and (
            best is None or (found.fired_at, found.id) > (best.fired_at, best.id)
        ):
            best = found
    if best is None or best.resolved_at is None:
        return None
    return LastResolution(
        resolved_at=best.resolved_at,
        resolved_by=best.resolved_by,
        by_source=best.resolved_by_source,
        root_cause=best.root_cause,
        note=best.resolution_note,
        alert_id=best.id,
    )


_LAST_COLUMNS = tuple(
    col(getattr(AlertRow, name))
    for name in (
        "id",
        "fired_at",
        "resolved_at",
        "resolved_by",
        "resolved_by_source",
        "root_cause",
        "resolution_note",
    )
)


async def recent_firings(session: AsyncSession, row: AlertRow, *, days: int) -> int:
    """Alerts of the same problem that fired in the ``days`` up to ``row`` (it included)."""
    start = window_start(row.fired_at, days=days)
    parts = [
        sa_select(col(AlertRow.id)).where(
            same, col(AlertRow.fired_at) > start, col(AlertRow.fired_at) <= row.fired_at
        )
        for same in _same_problem(row)
    ]
    query = union(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    counted = sa_select(func.count()).select_from(query)
    count = (await (await session.connection()).execute(counted)).scalar_one()
    return int(count)


def fallback_level(number: int) -> LevelSpec:
    return LevelSpec(number=number, name=f"level {number}", emoji="")


async def load_view(
    session: AsyncSession, alert_id: int, levels: Mapping[int, LevelSpec], *, recent_days: int = 30
) -> AlertView | None:
    row = await session.get(AlertRow, alert_id)
    if row is None or row.id is None:
        return None
    return AlertView(
        id=row.id,
        fingerprint=row.fingerprint,
        integration=row.integration,
        source=row.source,
        title=row.title,
        description=row.description,
        impact=row.impact,
        suggested_actions=row.suggested_actions,
        level=levels.get(row.level) or fallback_level(row.level),
        category=row.category,
        labels=dict(row.labels),
        links=tuple(Link(title=x["title"], url=x["url"]) for x in row.links),
        team=row.team,
        channel=row.channel,
        status=Status(row.status),
        fired_at=row.fired_at,
        last_seen_at=row.last_seen_at,
        count=row.count,
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
        owner=row.owner,
        owner_since=row.owner_since,
        assigned_by=row.assigned_by,
        resolved_by=row.resolved_by,
        resolved_at=row.resolved_at,
        resolved_by_source=row.resolved_by_source,
        resolution_note=row.resolution_note,
        root_cause=row.root_cause,
        last_resolution=await last_resolution(session, row),
        tier=row.tier,
        tier_count=len(row.policy_snapshot.get("tiers", ())),
        escalating=row.escalating,
        next_action_at=row.next_action_at,
        owner_deadline_at=row.owner_deadline_at,
        snoozed_until=row.snoozed_until,
        approval_tier=row.approval_tier,
        approval_requested_by=row.approval_requested_by,
        recent_firings=await recent_firings(session, row, days=recent_days),
        recent_days=recent_days,
        silence_id=row.silence_id,
        silenced_until=row.silenced_until,
        flapping=Flapping(row.flap_fires, row.flap_window_s or 0) if row.flap_fires else None,
        metric=metric_of(row),
        truncated_alerts=_truncated(row.details),
    )


def _truncated(details: Mapping[str, object]) -> int:
    value = details.get("truncatedAlerts") if isinstance(details, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


async def read_view(
    db: Database, *, alert_id: int, levels: Mapping[int, LevelSpec], recent_days: int = 30
) -> AlertView | None:
    """The alert as the warning shows it (``load_view`` in a read transaction of its own)."""
    async with db.read() as session:
        return await load_view(session, alert_id, levels, recent_days=recent_days)


@dataclass(frozen=True, slots=True)
class AlertBrief:
    """What a listener checks or lists about an alert, without the whole view."""

    id: int
    fingerprint: str
    status: Status
    level: int
    title: str
    labels: dict[str, str]
    team: str
    channel: str
    owner: str | None


def _brief(row: AlertRow) -> AlertBrief:
    assert row.id is not None
    return AlertBrief(
        id=row.id,
        fingerprint=row.fingerprint,
        status=Status(row.status),
        level=row.level,
        title=row.title,
        labels=dict(row.labels),
        team=row.team,
        channel=row.channel,
        owner=row.owner,
    )


async def alert_brief(db: Database, *, alert_id: int) -> AlertBrief | None:
    async with db.read() as session:
        row = await session.get(AlertRow, alert_id)
    return _brief(row) if row is not None else None


async def open_alerts(db: Database, *, limit: int) -> list[AlertBrief]:
    """Alerts not resolved, most severe level first, then oldest first."""
    async with db.read() as session:
        rows = (
            await session.exec(
                select(AlertRow)
                .where(AlertRow.status != Status.RESOLVED.value)
                .order_by(col(AlertRow.level), col(AlertRow.fired_at))
                .limit(limit)
            )
        ).all()
    return [_brief(row) for row in rows]
