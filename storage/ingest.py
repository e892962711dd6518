"""Process one inbox body: dedup, grade, route, open or update alerts — one transaction."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col

from escalation.grading import GradingRule, grade
from escalation.model import AlertEvent, RouteDecision, SourceStatus
from escalation.policy import EscalationPolicy
from escalation.routing import Route, route
from escalation.state import AlertRefired, ResolvedAtSource, open_alert, transition
from storage.alerts import find_open, new_row, policy_of, state_of
from storage.db import Database
from storage.effects import persist_transition
from storage.inbox import DONE, InboxItem
from storage.source_updates import acknowledge_at_source, note_truncation, refresh_details
from storage.tables import AlertEventRow, InboxRow

Parser = Callable[[object], list[AlertEvent]]


@dataclass(frozen=True, slots=True)
class IngestRules:
    """What ingest needs from the policy file, in domain terms."""

    parsers: Mapping[str, Parser]
    grading: Sequence[GradingRule]
    default_level: int
    routes: Sequence[Route]
    fallback: RouteDecision
    policy_for: Callable[[str, int], EscalationPolicy]
    """The escalation policy of a name at a level (the level's deadlines merged in)."""


@dataclass(slots=True)
class IngestOutcome:
    opened: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    ignored: int = 0


async def process(
    db: Database, item: InboxItem, rules: IngestRules, *, now: datetime
) -> IngestOutcome:
    """Apply every event of one stored body, then mark the body done, atomically."""
    events = rules.parsers[item.source_format](json.loads(item.body))
    outcome = IngestOutcome()
    async with db.write() as session:
        for event in events:
            existing = await find_open(session, event.fingerprint)
            if event.status is SourceStatus.RESOLVED:
                if existing is None:
                    outcome.ignored += 1
                    continue
                tr = transition(
                    state_of(existing), ResolvedAtSource(), policy=policy_of(existing), now=now
                )
                await persist_transition(
                    session, existing, tr, kind="resolved", actor=None, now=now
                )
                outcome.resolved.append(_id(existing.id))
            elif event.status is SourceStatus.ACKNOWLEDGED:
                if existing is None or not await acknowledge_at_source(session, existing, now=now):
                    outcome.ignored += 1
                    continue
                outcome.updated.append(_id(existing.id))
            elif existing is not None:
                refresh_details(existing, event)
                note_truncation(session, existing, event, now)
                tr = transition(
                    state_of(existing), AlertRefired(), policy=policy_of(existing), now=now
                )
                await persist_transition(session, existing, tr, kind="refired", actor=None, now=now)
                outcome.updated.append(_id(existing.id))
            else:
                level = grade(event, rules.grading, default_level=rules.default_level)
                where = route(event, level.level, rules.routes, fallback=rules.fallback)
                policy = rules.policy_for(where.policy, level.level)
                tr = open_alert(fired_at=min(event.starts_at or now, now), policy=policy, now=now)
                row = new_row(
                    event,
                    tr.state,
                    integration=item.integration,
                    level=level.level,
                    grade_reason=level.reason,
                    team=where.team,
                    channel=where.channel,
                    policy=policy,
                )
                await persist_transition(session, row, tr, kind="fired", actor=None, now=now)
                alert_id = _id(row.id)
                route_name = (
                    "the default route"
                    if where.route_index is None
                    else f"route {where.route_index + 1}"
                )
                session.add(
                    AlertEventRow(
                        alert_id=alert_id,
                        at=now,
                        kind="routed",
                        rule="ROUTE-1",
                        summary=f"graded level {level.level} ({level.reason}); "
                        f"routed to {where.channel} by {route_name}",
                    )
                )
                note_truncation(session, row, event, now)
                outcome.opened.append(alert_id)
            await session.flush()
        await session.exec(
            update(InboxRow)
            .where(col(InboxRow.id) == item.id)
            .values(status=DONE, processed_at=now, error=None)
        )
    return outcome


def _id(value: int | None) -> int:
    assert value is not None
    return value
