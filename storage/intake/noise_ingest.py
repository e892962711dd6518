"""Noise control when an alert opens: silenced, flapping, or joining a group — or none."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from escalation.events import AlertState
from escalation.model import AlertEvent, RouteDecision
from escalation.noise.flapping import FlapRule, describe, detect
from escalation.noise.grouping import GroupRule, group_key, join
from escalation.noise.silences import Silence, event_values, muting
from escalation.noise.silencing import open_silenced
from escalation.policy import EscalationPolicy
from escalation.state import open_alert
from storage.alerts import new_row
from storage.effects import persist_transition
from storage.noise.group_store import enqueue_list, find_open_group, start_group
from storage.tables import AlertEventRow, AlertRow, SlackMessageRow


@dataclass(frozen=True, slots=True)
class NoiseRules:
    group_rule: Callable[[int | None], GroupRule]
    """The grouping of a route (by index; ``None`` for the default route)."""
    flapping: FlapRule | None


NO_NOISE_RULES = NoiseRules(group_rule=lambda _: GroupRule(window_seconds=0), flapping=None)


async def open_new(
    session: AsyncSession,
    event: AlertEvent,
    *,
    integration: str,
    level: int,
    grade_reason: str,
    where: RouteDecision,
    policy: EscalationPolicy,
    silences: Sequence[Silence],
    noise: NoiseRules,
    now: datetime,
) -> AlertRow:
    """Open a new alert for ``event``: muted by a silence, reusing its warning when flapping,
    joining an open group of its key, or on its own — with its timeline lines."""
    fired_at = min(event.starts_at or now, now)

    def row_for(state: AlertState) -> AlertRow:
        return new_row(
            event,
            state,
            integration=integration,
            level=level,
            grade_reason=grade_reason,
            team=where.team,
            channel=where.channel,
            policy=policy,
        )

    muted = muting(silences, event_values(event, team=where.team, level=level), now=now)
    if muted is not None:
        tr = open_silenced(fired_at=fired_at, silence_id=muted.id, until=muted.ends_at, now=now)
        row = row_for(tr.state)
        await persist_transition(session, row, tr, kind="fired", actor=None, now=now)
        return row

    earlier = await _earlier_firings(session, integration, event.fingerprint, noise.flapping)
    flapping = detect([at for at, _ in earlier], now=now, rule=noise.flapping)
    if flapping is not None:
        tr = open_alert(fired_at=fired_at, policy=policy, now=now)
        row = row_for(tr.state)
        row.flap_fires, row.flap_window_s = flapping.fires, flapping.window_seconds
        await persist_transition(session, row, tr, kind="fired", actor=None, now=now)
        reused = await _reuse_warning(session, row, [alert_id for _, alert_id in earlier], now=now)
        line = describe(flapping) + (f"; reopens the warning of #{reused}" if reused else "")
        _timeline(session, row, "FLAP-1", line, now=now)
        return row

    rule = noise.group_rule(where.route_index)
    key = group_key(event, rule=rule, team=where.team, channel=where.channel)
    group = await find_open_group(session, key, now=now) if key is not None else None
    if group is not None:
        tr = join(fired_at=fired_at, now=now, anchor_id=group.anchor_id)
        row = row_for(tr.state)
        row.group_id = group.id
        await persist_transition(session, row, tr, kind="fired", actor=None, now=now)
        await enqueue_list(session, group, now=now)
        return row

    tr = open_alert(fired_at=fired_at, policy=policy, now=now)
    row = row_for(tr.state)
    await persist_transition(session, row, tr, kind="fired", actor=None, now=now)
    if key is not None:
        await start_group(session, key, row, now=now, window_seconds=rule.window_seconds)
    return row


async def _earlier_firings(
    session: AsyncSession, integration: str, fingerprint: str, rule: FlapRule | None
) -> list[tuple[datetime, int]]:
    if rule is None:
        return []
    query = (
        select(AlertRow.fired_at, AlertRow.id)
        .where(AlertRow.integration == integration, AlertRow.fingerprint == fingerprint)
        .order_by(col(AlertRow.id).desc())
        .limit(rule.fires)
    )
    return [(at, alert_id) for at, alert_id in (await session.exec(query)).all() if alert_id]


async def _reuse_warning(
    session: AsyncSession, row: AlertRow, earlier: Sequence[int], *, now: datetime
) -> int | None:
    """Point the new alert at the latest earlier warning of its fingerprint (updated in place
    when the new alert's warning is drawn)."""
    for alert_id in earlier:
        message = await session.get(SlackMessageRow, alert_id)
        if message is not None:
            assert row.id is not None
            session.add(
                SlackMessageRow(
                    alert_id=row.id, channel_id=message.channel_id, ts=message.ts, posted_at=now
                )
            )
            return alert_id
    return None


def _timeline(
    session: AsyncSession, row: AlertRow, rule: str, summary: str, *, now: datetime
) -> None:
    assert row.id is not None
    session.add(AlertEventRow(alert_id=row.id, at=now, kind="noise", rule=rule, summary=summary))
