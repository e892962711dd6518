"""The review's facts, read from the database for :class:`escalation.review.figures.Review`.

Everything is aggregated or reduced in SQL and streamed: alerts come as slim tuples of numbers
(durations computed by the database, never ORM objects), pages and timeline activity as
``GROUP BY`` counts, noisy and flapping alerts as ``GROUP BY fingerprint`` tops. Memory stays
flat however long the period; the indexes of migration 0008 keep each scan to the period.

Definitions: an alert belongs to the period it *fired* in; pages, escalations and approvals
to the period they *happened* in (a page at 00:10 on the 8th of an alert fired on the 7th
counts on the 8th).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Float, Select, and_, case, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement

from escalation.model import Status
from escalation.outbox_kinds import PAGE_KINDS
from escalation.review.figures import (
    ActivityFacts,
    AlertFacts,
    FollowUpFacts,
    NoisyAlert,
    PageFacts,
    Review,
    Where,
)
from storage.db import Database
from storage.outbox import FOLDED
from storage.tables import AlertEventRow, AlertRow, FollowUpRow, OutboxRow, table_of

ALERT = table_of(AlertRow)
EVENT = table_of(AlertEventRow)
OUTBOX = table_of(OutboxRow)
FOLLOW_UP = table_of(FollowUpRow)
SENT_PAGE = and_(OUTBOX.c.kind.in_([kind.value for kind in PAGE_KINDS]), OUTBOX.c.status != FOLDED)
"""An outbox row that is a page somebody received (not one folded into a storm's page)."""
PAGED = "%paged tier %"
"""Every transition that pages a tier says so in its timeline summary (escalation.steps.page);
a test keeps the two in step. "paged tier 1:" is an alert's first tier; anything else is an
escalation (a later tier, or a repeat round)."""
FIRST_TIER = "%paged tier 1:%"
APPROVAL_ASKED = "%approval asked by %"
APPROVED = ("APPROVE-1",)
DENIED = ("DENY-1",)
TIMED_OUT = ("APPROVAL-TIMEOUT-APPROVE", "APPROVAL-TIMEOUT-DENY")
PARTITION = 5000
Q = TypeVar("Q", bound=Select[Any])


@dataclass(frozen=True, slots=True)
class ReviewFilter:
    """Which alerts a review covers: fired in [since, until), optionally one team, level and
    category. Their pages, escalations, approvals and follow-ups count with them, whenever they
    happened: every count of a review is about the same alerts (an alert whose source says it
    started in 2024 is in 2024's review, its pages too)."""

    since: datetime
    until: datetime
    team: str | None = None
    level: int | None = None
    category: str | None = None

    def apply(self, query: Q, *, time_column: Any = None) -> Q:
        column = ALERT.c.fired_at if time_column is None else time_column
        query = query.where(column >= self.since, column < self.until)
        if self.team is not None:
            query = query.where(ALERT.c.team == self.team)
        if self.level is not None:
            query = query.where(ALERT.c.level == self.level)
        if self.category is not None:
            if self.category == "none":
                query = query.where(ALERT.c.category.is_(None))
            else:
                query = query.where(ALERT.c.category == self.category)
        return query


def epoch_seconds(db: Database, column: Any) -> ColumnElement[float]:
    """Seconds since 1970 as a float, computed by the database."""
    if db.is_sqlite:
        return (func.julianday(column) - 2440587.5) * 86400.0
    return func.extract("epoch", column).cast(Float)


WHERE_COLUMNS = (ALERT.c.team, ALERT.c.level, ALERT.c.category, ALERT.c.channel, ALERT.c.source)


def _where(row: Any, cache: dict[tuple[Any, ...], Where]) -> Where:
    """The row's groups; one shared object per distinct group (few in a period)."""
    key = tuple(row[:5])
    found = cache.get(key)
    if found is None:
        found = cache[key] = Where(
            team=row[0], level=int(row[1]), category=row[2], route=row[3], source=row[4]
        )
    return found


async def count_alerts(db: Database, spec: ReviewFilter) -> int:
    async with db.engine.connect() as conn:
        query = spec.apply(select(func.count()).select_from(ALERT))
        return int((await conn.execute(query)).scalar_one())


def alert_query(db: Database, spec: ReviewFilter) -> Select[Any]:
    """One row per alert of the period: its groups and person, count, status, source flag, root
    cause, firing time and the unrounded durations (seconds), the acknowledgement deadline."""
    fired = epoch_seconds(db, ALERT.c.fired_at)
    return spec.apply(
        select(
            *WHERE_COLUMNS,
            ALERT.c.count,
            ALERT.c.status,
            ALERT.c.resolved_by_source,
            ALERT.c.acknowledged_by,
            ALERT.c.root_cause,
            fired,
            epoch_seconds(db, ALERT.c.first_acknowledged_at) - fired,
            epoch_seconds(db, ALERT.c.resolved_at) - fired,
            ALERT.c.policy_snapshot["ack_within"].as_float(),
            ALERT.c.owner,
            ALERT.c.resolved_by,
        )
    )


async def alert_facts(
    db: Database, spec: ReviewFilter, *, progress: Callable[[int], None] | None = None
) -> AsyncIterator[AlertFacts]:
    """The period's alerts as facts, streamed from one query in partitions."""
    query = alert_query(db, spec)
    resolved = Status.RESOLVED.value
    groups: dict[tuple[Any, ...], Where] = {}
    async with db.engine.connect() as conn:
        result = await conn.stream(query.execution_options(yield_per=PARTITION))
        async for rows in result.partitions(PARTITION):
            for row in rows:
                yield AlertFacts(
                    where=_where(row, groups),
                    fired_at=datetime.fromtimestamp(row[10], UTC),
                    count=row[5],
                    tta_s=None if row[11] is None else round(row[11], 3),
                    ttr_s=None if row[12] is None else round(row[12], 3),
                    resolved=row[6] == resolved,
                    resolved_by_source=bool(row[7]),
                    acknowledged_by=row[8],
                    root_cause=row[9],
                    ack_within_s=row[13],
                    involved=tuple(p for p in (row[14], row[15]) if p),
                )
            if progress is not None:
                progress(len(rows))


async def page_facts(db: Database, spec: ReviewFilter) -> AsyncIterator[PageFacts]:
    """Pages sent for the period's alerts (a DM to a person, a channel or webhook page),
    counted per alert group, target person and minute."""
    minute = func.floor(epoch_seconds(db, OUTBOX.c.created_at) / 60.0)
    person = OUTBOX.c.payload["user"].as_string()
    query = spec.apply(
        select(*WHERE_COLUMNS, person, minute, func.count())
        .select_from(OUTBOX.join(ALERT, ALERT.c.id == OUTBOX.c.alert_id))
        .where(SENT_PAGE)
        .group_by(*WHERE_COLUMNS, person, minute),
    )
    groups: dict[tuple[Any, ...], Where] = {}
    async with db.engine.connect() as conn:
        result = await conn.stream(query.execution_options(yield_per=PARTITION))
        async for rows in result.partitions(PARTITION):
            for row in rows:
                at = datetime.fromtimestamp(float(row[6]) * 60.0, UTC)
                yield PageFacts(where=_where(row, groups), person=row[5], at=at, count=int(row[7]))


async def follow_up_facts(db: Database, spec: ReviewFilter) -> list[FollowUpFacts]:
    """Follow-ups of the alerts fired in the period, per alert group and owner: how many, and
    how many are not done yet (as the database stands now)."""
    query = spec.apply(
        select(
            *WHERE_COLUMNS,
            FOLLOW_UP.c.owner,
            func.count(),
            _count_if(FOLLOW_UP.c.done_at.is_(None)),
        )
        .select_from(FOLLOW_UP.join(ALERT, ALERT.c.id == FOLLOW_UP.c.alert_id))
        .group_by(*WHERE_COLUMNS, FOLLOW_UP.c.owner)
    )
    groups: dict[tuple[Any, ...], Where] = {}
    async with db.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [
        FollowUpFacts(
            where=_where(row, groups), owner=str(row[5]), count=int(row[6]), open=int(row[7] or 0)
        )
        for row in rows
    ]


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


async def activity_facts(db: Database, spec: ReviewFilter) -> AsyncIterator[ActivityFacts]:
    """Escalations and approvals of the period's alerts from the timeline, counted per group
    and per approver (for decisions a person made)."""
    rule, summary = EVENT.c.rule, EVENT.c.summary
    decided = rule.in_((*APPROVED, *DENIED))
    actor = case((decided, EVENT.c.actor), else_=literal(None))
    paged = summary.like(PAGED)
    asked = summary.like(APPROVAL_ASKED)
    query = spec.apply(
        select(
            *WHERE_COLUMNS,
            actor,
            _count_if(and_(paged, ~summary.like(FIRST_TIER))),
            _count_if(asked),
            _count_if(rule.in_(APPROVED)),
            _count_if(rule.in_(DENIED)),
            _count_if(rule.in_(TIMED_OUT)),
        )
        .select_from(EVENT.join(ALERT, ALERT.c.id == EVENT.c.alert_id))
        .where(or_(paged, asked, rule.in_((*APPROVED, *DENIED, *TIMED_OUT))))
        .group_by(*WHERE_COLUMNS, actor),
    )
    groups: dict[tuple[Any, ...], Where] = {}
    async with db.engine.connect() as conn:
        for row in (await conn.execute(query)).all():
            yield ActivityFacts(
                where=_where(row, groups),
                actor=row[5],
                escalations=int(row[6] or 0),
                approvals_asked=int(row[7] or 0),
                approved=int(row[8] or 0),
                denied=int(row[9] or 0),
                timed_out=int(row[10] or 0),
            )


async def noisy_alerts(
    db: Database, spec: ReviewFilter, *, top: int, min_cycles: int
) -> list[NoisyAlert]:
    """The ``top`` alerts by firings, and the ``top`` flapping ones: opened at least
    ``min_cycles`` times, or marked flapping by noise control when they fired."""
    firings = func.sum(ALERT.c.count)
    cycles = func.count()
    marked = func.max(ALERT.c.flap_fires)
    base = spec.apply(
        select(ALERT.c.fingerprint, func.max(ALERT.c.title), firings, cycles, marked).group_by(
            ALERT.c.fingerprint
        )
    )
    found: dict[str, NoisyAlert] = {}
    async with db.engine.connect() as conn:
        for query in (
            base.order_by(firings.desc(), ALERT.c.fingerprint).limit(top),
            base.having(or_(cycles >= min_cycles, marked.is_not(None)))
            .order_by(cycles.desc(), ALERT.c.fingerprint)
            .limit(top),
        ):
            for row in (await conn.execute(query)).all():
                found[row[0]] = NoisyAlert(
                    row[0], row[1], int(row[2]), int(row[3]), marked=row[4] is not None
                )
    return list(found.values())


async def build_review(
    db: Database,
    spec: ReviewFilter,
    review: Review,
    *,
    progress: Callable[[int], None] | None = None,
) -> Review:
    """Fill ``review`` (made with its time zones and definitions) from the database."""
    async for facts in alert_facts(db, spec, progress=progress):
        review.add(facts)
    async for pages in page_facts(db, spec):
        review.add_pages(pages)
    async for activity in activity_facts(db, spec):
        review.add_activity(activity)
    for follow_ups in await follow_up_facts(db, spec):
        review.add_follow_ups(follow_ups)
    review.set_noisy(await noisy_alerts(db, spec, top=10, min_cycles=review.flapping_cycles))
    return review
