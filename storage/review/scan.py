"""The review's fast path: the same facts as :mod:`storage.review.facts`, with the per-row work done
by the database or in one tight loop.

- Alerts: the same query as :func:`storage.review.facts.alert_query`, read in batches straight from
  the driver's cursor (:mod:`storage.review.driver_rows`) into
  :class:`escalation.review.rows.AlertRows` (plain tuples, no object per alert).
- Pages: the database classifies each page's minute as night and/or weekend in its team's
  time zone — local seconds are UTC seconds plus the zone's offset, which changes only at the
  transitions listed by :func:`escalation.review.zone_spans.zone_spans` — and counts
  pages per group, person and class: a few rows instead of one per page.
- Timeline activity: one class per event (bits), counted per group, approver and class.
- Noisiest and flapping alerts: one ``GROUP BY fingerprint`` ranked both ways at once.

The three small queries run on their own connections while the alerts stream, and are added
in the order :func:`storage.review.facts.build_review` adds them, so the review is the same.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import aclosing, asynccontextmanager
from datetime import datetime, time
from typing import Any

from sqlalchemy import BigInteger, Integer, and_, case, cast, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from escalation.review.figures import NoisyAlert, Review
from escalation.review.offhours import OffHours
from escalation.review.rows import (
    APPROVAL_ASKED,
    APPROVED,
    DENIED,
    ESCALATION,
    NIGHT,
    PAGED,
    TIMED_OUT,
    WEEKEND,
    AlertRows,
    add_activity_counts,
    add_page_counts,
)
from escalation.review.zone_spans import ZoneSpans, zone_spans
from storage.db import Database
from storage.review import facts as plain
from storage.review.driver_rows import driver_batches
from storage.review.facts import ALERT, EVENT, OUTBOX, PARTITION, ReviewFilter

SCAN_CACHE_KIB = 8192
"""SQLite page cache of a connection while it scans for the review (storage.db gives each
connection 64 MiB for the escalation steps' random access; a scan reads each page once, and
four scanning connections at 64 MiB each would double the report's peak memory)."""
RANDOM_PAGE_COST = 1.1
"""PostgreSQL's planner cost of a random page read while the review scans (the default, 4,
is for spinning disks). With it the page and timeline joins look each alert up by its key
(~100,000 lookups) instead of hashing a sequential scan of the whole alert table: 0.97 → 0.36 s
and 0.67 → 0.29 s over 1,000,000 stored alerts."""
DAY_S = 86400
WEEK_DAYS = 7
THURSDAY = 3
"""1970-01-01, day 0 of UTC seconds, was a Thursday (Monday is 0)."""


@asynccontextmanager
async def scan_connection(db: Database) -> AsyncIterator[AsyncConnection]:
    """A connection for one of the review's scans: on SQLite with a small page cache while it
    scans (given back as it was afterwards), on PostgreSQL in a transaction that plans for
    cached data."""
    async with db.engine.connect() as conn:
        if not db.is_sqlite:
            # for this transaction only: see RANDOM_PAGE_COST
            await conn.exec_driver_sql(f"SET LOCAL random_page_cost = {RANDOM_PAGE_COST}")
            yield conn
            return
        previous = int((await conn.exec_driver_sql("PRAGMA cache_size")).scalar_one())
        await conn.exec_driver_sql(f"PRAGMA cache_size=-{SCAN_CACHE_KIB}")
        try:
            yield conn
        finally:
            await conn.exec_driver_sql(f"PRAGMA cache_size={previous}")


def _offset(spans: ZoneSpans, seconds: ColumnElement[int]) -> ColumnElement[int]:
    """The zone's offset at ``seconds`` (UTC, whole), as SQL."""
    if len(spans.offsets) == 1:
        return literal(spans.offsets[0], Integer)
    whens = [
        (seconds < start, literal(offset, Integer))
        for start, offset in zip(spans.starts[1:], spans.offsets, strict=False)
    ]
    return case(*whens, else_=literal(spans.offsets[-1], Integer))


def _clock_s(at: time) -> float:
    return at.hour * 3600 + at.minute * 60 + at.second + at.microsecond / 1e6


def team_offset(
    review: Review,
    spec: ReviewFilter,
    seconds: ColumnElement[int],
    *,
    latest: datetime | None = None,
) -> ColumnElement[int]:
    """The UTC offset of the alert's team zone at ``seconds`` (whole UTC seconds), as SQL; a
    team not in the policy file is on UTC, as in :meth:`Review.add_pages`. ``latest``: the last
    instant asked about, when it lies after the period (a page of the period's alert sent
    after the period ended)."""
    since, until = min(spec.since, review.since), max(spec.until, review.until)
    if latest is not None:
        until = max(until, latest)
    zones: dict[tuple[tuple[int, ...], tuple[int, ...]], tuple[ZoneSpans, list[str]]] = {}
    for team, zone in sorted(review.team_zones.items()):
        spans = zone_spans(zone, since, until)
        if spans.offsets == (0,):
            continue
        zones.setdefault((spans.starts, spans.offsets), (spans, []))[1].append(team)
    if not zones:
        return literal(0, Integer)
    return case(
        *[(ALERT.c.team.in_(teams), _offset(spans, seconds)) for spans, teams in zones.values()],
        else_=literal(0, Integer),
    )


def page_classes(hours: OffHours, local: ColumnElement[int]) -> ColumnElement[int]:
    """NIGHT | WEEKEND of the local time ``local`` (whole seconds since 1970 on the team's
    clock) — what :meth:`OffHours.classify` says of the same instant."""
    return _night(hours, local % DAY_S) + _weekend(hours, local)


def _night(hours: OffHours, clock: ColumnElement[int]) -> ColumnElement[int]:
    start, end = _clock_s(hours.night_start), _clock_s(hours.night_end)
    if start == end:
        return literal(0, Integer)
    if start < end:
        inside: ColumnElement[bool] = and_(clock >= start, clock < end)
    else:
        inside = or_(clock >= start, clock < end)
    return case((inside, literal(NIGHT, Integer)), else_=literal(0, Integer))


def _weekend(hours: OffHours, local: ColumnElement[int]) -> ColumnElement[int]:
    if not hours.weekend:
        return literal(0, Integer)
    weekday = (local // DAY_S + THURSDAY) % WEEK_DAYS
    days = sorted(hours.weekend)
    return case((weekday.in_(days), literal(WEEKEND, Integer)), else_=literal(0, Integer))


async def page_rows(db: Database, spec: ReviewFilter, review: Review) -> Sequence[Any]:
    """Pages sent for the period's alerts, counted per group, person and class. Each page's
    local time is computed once, in a subquery the databases keep as is (``OFFSET 0``)."""
    paged = OUTBOX.join(ALERT, ALERT.c.id == OUTBOX.c.alert_id)
    last = spec.apply(
        select(func.max(OUTBOX.c.created_at)).select_from(paged).where(plain.SENT_PAGE)
    )
    async with scan_connection(db) as conn:
        latest = (await conn.execute(last)).scalar()
    minute = cast(func.floor(plain.epoch_seconds(db, OUTBOX.c.created_at) / 60.0), BigInteger)
    person = OUTBOX.c.payload["user"].as_string().label("person")
    offset = team_offset(review, spec, minute * 60, latest=latest)
    local = (minute * 60 + offset).label("local")
    pages = (
        spec.apply(
            select(*plain.WHERE_COLUMNS, person, local).select_from(paged).where(plain.SENT_PAGE)
        )
        .offset(0)
        .subquery()
    )
    groups = [pages.c[column.key] for column in plain.WHERE_COLUMNS]
    classes = page_classes(review.off_hours, pages.c.local)
    query = select(*groups, pages.c.person, classes, func.count()).group_by(
        *groups, pages.c.person, classes
    )
    async with scan_connection(db) as conn:
        return (await conn.execute(query)).all()


async def activity_rows(db: Database, spec: ReviewFilter) -> Sequence[Any]:
    """Escalations and approvals of the period, counted per group, approver and class."""
    rule, summary = EVENT.c.rule, EVENT.c.summary
    zero = literal(0, Integer)
    paged = summary.like(plain.PAGED)
    asked = summary.like(plain.APPROVAL_ASKED)
    decided = rule.in_((*plain.APPROVED, *plain.DENIED))
    classes = (
        case(
            (paged, case((summary.like(plain.FIRST_TIER), PAGED), else_=PAGED | ESCALATION)),
            else_=zero,
        )
        + case((asked, APPROVAL_ASKED), else_=zero)
        + case(
            (rule.in_(plain.APPROVED), APPROVED),
            (rule.in_(plain.DENIED), DENIED),
            (rule.in_(plain.TIMED_OUT), TIMED_OUT),
            else_=zero,
        )
    )
    actor = case((decided, EVENT.c.actor), else_=literal(None))
    query = spec.apply(
        select(*plain.WHERE_COLUMNS, actor, classes, func.count())
        .select_from(EVENT.join(ALERT, ALERT.c.id == EVENT.c.alert_id))
        .where(or_(paged, asked, rule.in_((*plain.APPROVED, *plain.DENIED, *plain.TIMED_OUT))))
        .group_by(*plain.WHERE_COLUMNS, actor, classes),
    )
    async with scan_connection(db) as conn:
        return (await conn.execute(query)).all()


async def noisy_alerts(
    db: Database, spec: ReviewFilter, *, top: int, min_cycles: int
) -> list[NoisyAlert]:
    """:func:`storage.review.facts.noisy_alerts` in one pass: the alerts
    grouped by fingerprint once, ranked by firings and by cycles (flapping ones only) with
    window functions."""
    firings, cycles, marked = func.sum(ALERT.c.count), func.count(), func.max(ALERT.c.flap_fires)
    flapping = or_(cycles >= min_cycles, marked.is_not(None))
    fingerprint = ALERT.c.fingerprint
    grouped = spec.apply(
        select(
            fingerprint.label("fingerprint"),
            func.max(ALERT.c.title).label("title"),
            firings.label("firings"),
            cycles.label("cycles"),
            marked.label("marked"),
            func.row_number().over(order_by=(firings.desc(), fingerprint)).label("by_firings"),
            func.row_number()
            .over(order_by=(case((flapping, 0), else_=1), cycles.desc(), fingerprint))
            .label("by_cycles"),
            case((flapping, 1), else_=0).label("flapping"),
        ).group_by(fingerprint)
    ).subquery()
    g = grouped.c
    query = select(g.fingerprint, g.title, g.firings, g.cycles, g.marked).where(
        or_(g.by_firings <= top, and_(g.flapping == 1, g.by_cycles <= top))
    )
    async with scan_connection(db) as conn:
        rows = (await conn.execute(query)).all()
    return [NoisyAlert(r[0], r[1], int(r[2]), int(r[3]), marked=r[4] is not None) for r in rows]


async def build_review(
    db: Database,
    spec: ReviewFilter,
    review: Review,
    *,
    progress: Callable[[int], None] | None = None,
) -> Review:
    """Fill ``review`` from the database: the figures of
    :func:`storage.review.facts.build_review`."""
    small = asyncio.gather(
        page_rows(db, spec, review),
        activity_rows(db, spec),
        noisy_alerts(db, spec, top=10, min_cycles=review.flapping_cycles),
        plain.follow_up_facts(db, spec),
    )
    try:
        alerts = AlertRows(review)
        async with (
            scan_connection(db) as conn,
            aclosing(driver_batches(conn, plain.alert_query(db, spec), size=PARTITION)) as batches,
        ):
            async for rows in batches:
                # in a worker thread: a batch is tens of milliseconds of Python, and a long
                # report has hundreds of them, which the event loop must not wait for
                await asyncio.to_thread(alerts.add, rows)
                if progress is not None:
                    progress(len(rows))
        pages, activity, noisy, follow_ups = await small
    except BaseException:
        small.cancel()  # the alert scan failed: stop the others and collect their outcome
        await asyncio.gather(small, return_exceptions=True)
        raise
    add_page_counts(review, pages)
    add_activity_counts(review, activity)
    review.set_noisy(noisy)
    for facts in follow_ups:
        review.add_follow_ups(facts)
    return review
