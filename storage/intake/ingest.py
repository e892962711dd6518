"""Process one inbox body: dedup, grade, route, open or update alerts — one transaction."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from escalation.heartbeats import HeartbeatSpec, watchdog_pings
from escalation.model import AlertEvent, RouteDecision, SourceStatus
from escalation.noise.silences import Silence
from escalation.policy import EscalationPolicy
from escalation.ports import Directory
from escalation.record.recurrence import DEFAULT_KEY_LABELS, recurrence_key
from escalation.state import AlertRefired, ResolvedAtSource, step_at_once, transition
from escalation.triage.grading import GradingRule, Noise, grade
from escalation.triage.routing import Route, route_all
from storage.alerts import find_open, policy_of, state_of
from storage.db import Database
from storage.effects import persist_transition
from storage.intake.inbox import InboxItem, finish_done, record_done
from storage.intake.mirrors import add_mirrors
from storage.intake.noise_ingest import NO_NOISE_RULES, NoiseRules, open_new
from storage.intake.open_alerts import lock_open
from storage.intake.regrading import regrade_open
from storage.intake.source_updates import acknowledge_at_source, note_truncation, refresh_details
from storage.noise.dropped import record_noise
from storage.noise.group_store import after_resolved, shape_for_group
from storage.noise.silences import current_silences
from storage.tables import AlertEventRow
from storage.timeline import line_values

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
    key_labels: Sequence[str] = DEFAULT_KEY_LABELS
    """With the alert's name, what makes two alerts the same problem ("last time")."""
    noise: NoiseRules = NO_NOISE_RULES
    """Grouping and flapping (silences come from the database)."""
    level_names: Mapping[int, str] = field(default_factory=dict)
    """Level numbers → the operator's names, for re-grading notices."""
    heartbeats: Mapping[str, HeartbeatSpec] = field(default_factory=dict)
    """Heartbeats by name: alerts standing for one (a ``Watchdog``) are pings, not alerts."""
    integration_parsers: Mapping[str, Parser] = field(default_factory=dict)
    """Integrations with a parser of their own (``format: template``: their mapping)."""

    def parser_for(self, integration: str, source_format: str) -> Parser:
        """The integration's own parser, else its format's."""
        return self.integration_parsers.get(integration) or self.parsers[source_format]


@dataclass(slots=True)
class IngestOutcome:
    opened: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    ignored: int = 0
    dropped: int = 0
    """Metric events inside a noise band (counted in ``noise_drop``, not opened)."""
    regraded: list[int] = field(default_factory=list)
    stepped: list[int] = field(default_factory=list)
    """New alerts paged as they opened (their first tier due at once; see ``process``)."""


async def process(
    db: Database,
    item: InboxItem,
    rules: IngestRules,
    *,
    now: datetime,
    directory: Directory | None = None,
) -> IngestOutcome:
    """Apply every event of one stored body, then mark the body done, atomically.

    With a ``directory`` (who is on call), a new alert whose first tier is due at once is
    paged in the same transaction — the step the escalation engine would take at its next
    drain, without the hop through it: a page is written with its warning."""
    events = parse(item, rules)
    outcome = IngestOutcome()
    apart = await db.inbox_apart()
    async with db.write() as session:
        if not db.is_sqlite:
            # the alerts this body repeats, locked before they are read (in the batches'
            # order): a replica's transaction on the same alerts is waited for, and its
            # writes are what this one reads and counts from
            await lock_open(
                await session.connection(), [(item.integration, e.fingerprint) for e in events]
            )
        silences = await current_silences(session, now=now)
        for event in events:
            await apply_event(
                session,
                event,
                rules,
                outcome,
                integration=item.integration,
                silences=silences,
                now=now,
                directory=directory,
            )
            await session.flush()
        await record_done(await session.connection(), [item.id], now=now, apart=apart)
    if apart:
        await finish_done(db, [item.id], now=now)
    return outcome


def parse(
    item: InboxItem, rules: IngestRules, *, parsed: Sequence[AlertEvent] | None = None
) -> list[AlertEvent]:
    """The events of a stored body (its source's parser, or the integration's own; or
    ``parsed``, what that parser found in it as it came in); raises on a body it cannot read.
    Alerts that are a heartbeat's pings (counted when the body came in) are left out."""
    events = (
        list(parsed)
        if parsed is not None
        else rules.parser_for(item.integration, item.source_format)(json.loads(item.body))
    )
    if rules.heartbeats:
        _, events = watchdog_pings(rules.heartbeats, integration=item.integration, events=events)
    return events


async def apply_event(
    session: AsyncSession,
    event: AlertEvent,
    rules: IngestRules,
    outcome: IngestOutcome,
    *,
    integration: str,
    silences: Sequence[Silence],
    now: datetime,
    directory: Directory | None = None,
) -> None:
    """One event, through the ORM, in the caller's transaction (not flushed): resolve, take
    the source's acknowledgement, refire (and re-grade) the open alert of its fingerprint, or
    open a new alert — with noise control, and paged at once with a ``directory`` when its
    first tier is due (``process``). Counted in ``outcome``. The open alert is locked as it
    is read (:func:`find_open`), whoever the caller."""
    existing = await find_open(session, integration, event.fingerprint)
    if event.status is SourceStatus.RESOLVED:
        if existing is None:
            outcome.ignored += 1
            return
        before = state_of(existing)
        tr = transition(before, ResolvedAtSource(), policy=policy_of(existing), now=now)
        tr = await shape_for_group(session, existing, tr)
        await persist_transition(session, existing, tr, kind="resolved", actor=None, now=now)
        await after_resolved(session, existing, before=before, now=now)
        outcome.resolved.append(_id(existing.id))
    elif event.status is SourceStatus.ACKNOWLEDGED:
        if existing is None or not await acknowledge_at_source(session, existing, now=now):
            outcome.ignored += 1
            return
        outcome.updated.append(_id(existing.id))
    elif existing is not None:
        refresh_details(existing, event)
        note_truncation(session, existing, event, now)
        tr = transition(state_of(existing), AlertRefired(), policy=policy_of(existing), now=now)
        await persist_transition(session, existing, tr, kind="refired", actor=None, now=now)
        outcome.updated.append(_id(existing.id))
        if await regrade_open(
            session,
            existing,
            event,
            grading=rules.grading,
            default_level=rules.default_level,
            routes=rules.routes,
            fallback=rules.fallback,
            policy_for=rules.policy_for,
            level_names=rules.level_names,
            now=now,
        ):
            outcome.regraded.append(_id(existing.id))
    else:
        level = grade(event, rules.grading, default_level=rules.default_level)
        if isinstance(level, Noise):
            assert event.metric is not None  # only deviation bands find noise
            await record_noise(
                session, event, event.metric, level, integration=integration, now=now
            )
            outcome.dropped += 1
            return
        routing = route_all(event, level.level, rules.routes, fallback=rules.fallback, now=now)
        where = routing.primary
        policy = rules.policy_for(where.policy, level.level)
        row = await open_new(
            session,
            event,
            integration=integration,
            level=level.level,
            grade_reason=level.reason,
            where=where,
            policy=policy,
            silences=silences,
            noise=rules.noise,
            now=now,
        )
        row.recurrence_key = recurrence_key(event.title, event.labels, rules.key_labels)
        session.add(row)
        alert_id = _id(row.id)
        session.add(AlertEventRow(**graded_line(alert_id, level.level, level.reason, now=now)))
        session.add(AlertEventRow(**routed_line(alert_id, where, now=now)))
        await add_mirrors(session, alert_id, routing.mirrors, now=now)
        note_truncation(session, row, event, now)
        outcome.opened.append(alert_id)
        if directory is not None:
            stepped = step_at_once(state_of(row), policy=policy, now=now)
            if stepped is not None:
                await persist_transition(
                    session, row, stepped, kind="step", actor=None, now=now, directory=directory
                )
                outcome.stepped.append(alert_id)


def graded_line(alert_id: int, level: int, reason: str, *, now: datetime) -> dict[str, Any]:
    """The timeline line saying how a new alert was graded."""
    return line_values(
        alert_id,
        kind="graded",
        rule="GRADE-1",
        actor=None,
        summary=f"graded level {level} ({reason})",
        now=now,
    )


def routed_line(alert_id: int, where: RouteDecision, *, now: datetime) -> dict[str, Any]:
    """The timeline line saying where a new alert was routed, and by which route."""
    route_name = (
        "the default route" if where.route_index is None else f"route {where.route_index + 1}"
    )
    return line_values(
        alert_id,
        kind="routed",
        rule="ROUTE-1",
        actor=None,
        summary=f"routed to {where.channel} (team {where.team}, "
        f"policy {where.policy}) by {route_name}",
        now=now,
    )


def _id(value: int | None) -> int:
    assert value is not None
    return value
