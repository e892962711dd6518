"""Re-grading an open alert that its source reports again (see :mod:`escalation.triage.regrade`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from escalation.model import AlertEvent, RouteDecision
from escalation.policy import EscalationPolicy
from escalation.triage.grading import Grade, GradingRule, grade
from escalation.triage.regrade import regrade_kept, regrade_up
from escalation.triage.routing import Route, route_all
from storage.alerts import metric_of, state_of
from storage.effects import persist_transition
from storage.intake.mirrors import add_mirrors
from storage.tables import AlertRow


async def regrade_open(
    session: AsyncSession,
    row: AlertRow,
    event: AlertEvent,
    *,
    grading: Sequence[GradingRule],
    default_level: int,
    routes: Sequence[Route],
    fallback: RouteDecision,
    policy_for: Callable[[str, int], EscalationPolicy],
    level_names: Mapping[int, str],
    now: datetime,
) -> bool:
    """Grade the repeat ``event`` of the open alert ``row``: raise its level if it is worse
    (REGRADE-1), say so when its metric moved to a milder band (REGRADE-2), and keep the
    latest metric on the alert. True when the level went up."""
    assert row.id is not None
    previous_metric = metric_of(row)
    if event.metric is not None:
        row.details = {**row.details, "metric": event.metric.to_dict()}
        session.add(row)
    new = grade(event, grading, default_level=default_level)
    if isinstance(new, Grade) and new.level < row.level:
        routing = route_all(event, new.level, routes, fallback=fallback, now=now)
        policy = policy_for(routing.primary.policy, new.level)
        tr = regrade_up(
            state_of(row),
            level=row.level,
            new=new,
            policy=policy,
            names=level_names,
            metric=event.metric,
            now=now,
        )
        row.level, row.grade_reason = new.level, new.reason[:255]
        row.policy, row.policy_snapshot = policy.name, policy.to_snapshot()
        await persist_transition(session, row, tr, kind="regraded", actor=None, now=now)
        channels = [d for d in (routing.primary, *routing.mirrors) if d.channel != row.channel]
        await add_mirrors(session, row.id, channels, now=now, rule="REGRADE-1")
        return True
    if previous_metric is None or event.metric is None:
        return False
    previous = grade(replace(event, metric=previous_metric), grading, default_level=default_level)
    kept = regrade_kept(
        state_of(row),
        level=row.level,
        previous=previous,
        new=new,
        previous_metric=previous_metric,
        metric=event.metric,
        names=level_names,
    )
    if kept is not None:
        await persist_transition(session, row, kept, kind="regraded", actor=None, now=now)
    return False
