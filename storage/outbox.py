"""The outbox: effects to deliver outside the database, claimed with a lease.

A claim moves ``next_attempt_at`` forward by the lease; a replica that dies while delivering
leaves the row to be claimed again when the lease runs out.

Order is kept where a reader sees it, and nowhere else. An alert's rows form two streams: what
its channel shows (the warning, its edits, its thread) and what reaches people (pages,
reminders, approval requests) — and pages to outbound webhooks, a third stream, which goes
on while Slack is away. A row waits for the earlier pending rows of its alert *in its
own stream* only: a person never gets tier 2 before tier 1, a warning's edits apply in order,
and a page never waits for the channel (it waits for its alert's new warning to be picked up,
so that a storm can fold both, and no longer: not while the warning waits for its turn in
the channel, nor while it is being delivered). Among the rows that may go, the most urgent are
claimed first (:func:`urgency`): pages, then new warnings by level, then edits, then thread
lines and listings. A storm's rows are also taken apart, by age and unranked, for storm
control to fold (:func:`claim_storm_rows`): ranking a flood's backlog at every claim cost
more than the rest of the sender's work.

A claim also marks the row *in doubt* (``in_doubt``): until the attempt ends with a known
outcome — delivered, or refused by the far side — a crash, a timeout or a 5xx leaves it
set, and the next attempt is told (``Claimed.in_doubt``) to look for the effect before
repeating it. The row's ``idempotency_key`` names the effect for that look.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from escalation.outbox_kinds import CHANNEL_KINDS, OutboxKind, OutboxPayload
from storage.db import Database
from storage.id_sets import one_of
from storage.tables import AlertRow, OutboxRow, StormMemberRow

PENDING, DONE = "pending", "done"
FOLDED = "folded"
"""A page rolled into a storm's one page per person and not sent on its own (the row that
started that storm page stays ``done``: the review counts pages people received)."""
AFTERTHOUGHT = OutboxKind.THREAD_LINES
"""The one kind that blocks no later row of its alert (storage.timeline's thread lines):
a page or a warning update never waits behind a line in the thread."""


_CHANNEL = [kind.value for kind in CHANNEL_KINDS]
_WEBHOOK = [OutboxKind.PAGE_WEBHOOK.value]
"""Pages to outbound webhooks: a stream of their own (not Slack), so they go on while Slack
is away (:func:`claim_due`'s ``kinds``)."""
_NOT_PEOPLE = [*_CHANNEL, *_WEBHOOK]
EDITS_AT, LINES_AT = 1_000, 2_000
"""Urgency ranks after the new warnings' (which rank by their level, 1 first)."""


def urgency(kind: Any, level: Any) -> Any:
    """The claim order's rank of a row: 0 for what reaches a person, a new warning's level,
    then warning edits, then thread lines, notes and listings."""
    return case(
        (kind == OutboxKind.PAGE_LINK.value, EDITS_AT),  # the page rang already: an edit
        (kind.not_in(_CHANNEL), 0),
        (kind == OutboxKind.POST_WARNING.value, func.coalesce(level, 1)),
        (kind == OutboxKind.UPDATE_WARNING.value, EDITS_AT),
        else_=LINES_AT,
    )


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    kind: OutboxKind,
    now: datetime,
    alert_id: int | None = None,
    payload: OutboxPayload | None = None,
    delay: timedelta | None = None,
) -> None:
    values = outbox_values(key=key, kind=kind, now=now, alert_id=alert_id, payload=payload)
    if delay is not None:
        values["next_attempt_at"] = now + delay
    session.add(OutboxRow(**values))


def outbox_values(
    *,
    key: str,
    kind: OutboxKind,
    now: datetime,
    alert_id: int | None = None,
    payload: OutboxPayload | None = None,
) -> dict[str, Any]:
    """The columns of a new outbox row: what :func:`enqueue` adds (and what
    ``storage.effects.persist_transitions`` inserts many of at once)."""
    return {
        "idempotency_key": key,
        "alert_id": alert_id,
        "kind": kind.value,  # the stored string: rows written before the enum read the same
        "payload": {} if payload is None else payload,
        "status": PENDING,
        "created_at": now,
        "next_attempt_at": now,
        "attempts": 0,
        "last_error": None,
        "done_at": None,
        "in_doubt": False,
    }


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    alert_id: int | None
    kind: str
    """As stored: an :class:`OutboxKind`'s value, or a kind this version does not know
    (:meth:`OutboxKind.of` says which)."""
    payload: dict[str, Any]
    """As stored; read it with its kind's ``read_*`` (``escalation.outbox_kinds``)."""
    attempts: int
    created_at: datetime
    channel: str | None = None
    """The alert's channel (as routed, e.g. ``#alerts``), where its warning is posted."""
    idempotency_key: str = ""
    in_doubt: bool = False
    """The previous attempt's outcome is unknown: it may have taken effect."""


@dataclass(frozen=True, slots=True)
class StormShare:
    """The rows of storming channels that :func:`claim_storm_rows` takes (by age, for the
    storm to fold): rows of ``kinds`` of any alert of ``channels``, rows of ``member_kinds``
    of the alerts that are storm members."""

    channels: Collection[str]
    kinds: Collection[OutboxKind]
    member_kinds: Collection[OutboxKind] = ()

    def taken(self) -> Any:
        """The rows of the share (the outbox row's alert joined)."""
        member = exists().where(col(StormMemberRow.alert_id) == col(OutboxRow.alert_id))
        return and_(
            col(AlertRow.channel).in_(list(self.channels)),
            or_(
                col(OutboxRow.kind).in_([kind.value for kind in self.kinds]),
                and_(col(OutboxRow.kind).in_([kind.value for kind in self.member_kinds]), member),
            ),
        )


async def claim_due(
    db: Database,
    *,
    now: datetime,
    limit: int = 100,
    lease: timedelta = timedelta(seconds=60),
    last: Collection[str] = (),
    kinds: Collection[OutboxKind] | None = None,
    skip: Collection[str] = (),
) -> list[Claimed]:
    """Lease up to ``limit`` due rows, most urgent first (then oldest), each the oldest
    pending row of its alert's stream (see the module's docstring). Channel rows of alerts in
    the channels ``last`` (channels in a storm, with thousands of rows) come after every
    other channel's, so other channels never queue behind a storm; pages never do. With
    ``kinds``, only rows of those kinds are claimed (while Slack is away: outbound webhooks);
    the channel rows of alerts in the channels ``skip`` are left out (their lane is waiting).

    Ranking takes every due row (a sort): with a storm's backlog of tens of thousands a
    claim costs a hundred milliseconds, and the backlog would only be worked off 500 rows
    a claim; :func:`claim_storm_rows` takes a storm's rows besides, without ranking."""
    query = (
        sa_select(*_CLAIMED_COLUMNS)
        .outerjoin(AlertRow, col(AlertRow.id) == col(OutboxRow.alert_id))
        .where(*_may_go(now))
        .limit(limit)
    )
    if kinds is not None:
        query = query.where(col(OutboxRow.kind).in_([kind.value for kind in kinds]))
    rank = urgency(col(OutboxRow.kind), col(AlertRow.level))
    channel_row = col(OutboxRow.kind).in_(_CHANNEL)
    if skip:
        channel = col(AlertRow.channel)
        query = query.where(or_(~channel_row, channel.is_(None), channel.not_in(list(skip))))
    if last:
        stormy = case((and_(channel_row, col(AlertRow.channel).in_(list(last))), 1), else_=0)
        query = query.order_by(stormy, rank, col(OutboxRow.id))
    else:
        query = query.order_by(rank, col(OutboxRow.id))
    return await _lease(db, query, now=now, lease=lease)


async def claim_storm_rows(
    db: Database,
    share: StormShare,
    *,
    now: datetime,
    limit: int,
    lease: timedelta = timedelta(seconds=60),
) -> list[Claimed]:
    """Lease up to ``limit`` due rows of the storms' ``share`` (another alert's edits and
    thread lines go to its own warning, in :func:`claim_due`'s order) — longest due first,
    each the oldest pending row of its alert's stream, without ranking them: a storm folds
    its rows into its summary and its page, so their order among themselves does not show,
    and the due rows are walked in the order of the index that holds them until ``limit``
    are found instead of all being sorted."""
    if not share.channels or not (share.kinds or share.member_kinds):
        return []
    query = (
        sa_select(*_CLAIMED_COLUMNS)
        .join(AlertRow, col(AlertRow.id) == col(OutboxRow.alert_id))
        .where(share.taken(), *_may_go(now))
        # due order, as ``ix_outbox_pending`` holds them: walked until ``limit`` are found
        .order_by(col(OutboxRow.next_attempt_at), col(OutboxRow.id))
        .limit(limit)
    )
    return await _lease(db, query, now=now, lease=lease)


_CLAIMED_COLUMNS = (
    col(OutboxRow.id),
    col(OutboxRow.alert_id),
    col(OutboxRow.kind),
    col(OutboxRow.payload),
    col(OutboxRow.attempts),
    col(OutboxRow.created_at),
    col(AlertRow.channel),
    col(OutboxRow.idempotency_key),
    col(OutboxRow.in_doubt),
)


def _may_go(now: datetime) -> tuple[Any, ...]:
    """Pending, due, and first in its alert's stream: what a claim may take."""
    return (
        col(OutboxRow.status) == PENDING,
        col(OutboxRow.next_attempt_at) <= now,
        ~_blocked(now),
    )


def _blocked(now: datetime) -> Any:
    """A row waits: an earlier pending row of its alert is in its stream (or is its alert's
    new warning, due and not yet picked up, for a row reaching people)."""
    earlier = aliased(OutboxRow)
    channel_row = col(OutboxRow.kind).in_(_CHANNEL)
    webhook_row = col(OutboxRow.kind).in_(_WEBHOOK)
    return exists().where(
        and_(
            col(earlier.alert_id) == col(OutboxRow.alert_id),
            col(earlier.status) == PENDING,
            col(earlier.id) < OutboxRow.id,
            or_(
                # the same stream: the channel's rows, or the rows reaching people
                and_(
                    or_(
                        and_(col(earlier.kind).in_(_CHANNEL), channel_row),
                        and_(col(earlier.kind).in_(_WEBHOOK), webhook_row),
                        and_(
                            col(earlier.kind).not_in(_NOT_PEOPLE),
                            ~channel_row,
                            ~webhook_row,
                        ),
                    ),
                    # thread lines wait for what came before them, but never hold up the rest
                    or_(
                        col(earlier.kind) != AFTERTHOUGHT.value,
                        col(OutboxRow.kind) == AFTERTHOUGHT.value,
                    ),
                ),
                # a page waits for its alert's new warning only until the warning is picked
                # up (a storm folds both), never while the warning waits for its channel
                and_(
                    ~channel_row,
                    ~webhook_row,  # a storm does not fold these
                    col(earlier.kind) == OutboxKind.POST_WARNING.value,
                    col(earlier.next_attempt_at) <= now,
                ),
            ),
        )
    )


async def _lease(db: Database, query: Any, *, now: datetime, lease: timedelta) -> list[Claimed]:
    """The rows ``query`` selects, leased for ``lease`` and marked in doubt (locked and
    skipped by other replicas' claims on PostgreSQL)."""
    if not db.is_sqlite:
        query = query.with_for_update(skip_locked=True, of=OutboxRow)
    async with db.write() as session:
        rows = (await (await session.connection()).execute(query)).all()
        if not rows:
            return []
        await session.exec(
            update(OutboxRow)
            .where(one_of(col(OutboxRow.id), [r[0] for r in rows], postgres=not db.is_sqlite))
            .values(
                next_attempt_at=now + lease,
                attempts=col(OutboxRow.attempts) + 1,
                in_doubt=True,  # until this attempt's outcome is known
            )
        )
    return [
        Claimed(r[0], r[1], r[2], dict(r[3] or {}), r[4] + 1, r[5], r[6], r[7], bool(r[8]))
        for r in rows
    ]


async def defer(
    db: Database, ids: list[int], *, at: datetime, in_doubt: Collection[int] = ()
) -> None:
    """Put claimed rows back until ``at`` without counting the claim as an attempt (their
    channel was busy: nothing was tried). Rows in ``in_doubt`` were in doubt before this
    claim and stay so; the others were not tried, so they are not."""
    if not ids:
        return
    async with db.write() as session:
        await session.exec(
            update(OutboxRow)
            .where(
                one_of(col(OutboxRow.id), ids, postgres=not db.is_sqlite),
                col(OutboxRow.status) == PENDING,
            )
            .values(
                next_attempt_at=at,
                attempts=col(OutboxRow.attempts) - 1,
                in_doubt=col(OutboxRow.id).in_(list(in_doubt) or [-1]),
            )
        )


async def hold_channel(db: Database, channel: str, *, until: datetime) -> int:
    """Hold every pending row bound for ``channel`` (an alert channel, as routed) until
    ``until`` — Slack said to wait — so claims skip them and other channels go on."""
    of_channel = select(AlertRow.id).where(AlertRow.channel == channel)
    async with db.write() as session:
        result = await session.exec(
            update(OutboxRow)
            .where(
                col(OutboxRow.status) == PENDING,
                col(OutboxRow.kind).in_([kind.value for kind in CHANNEL_KINDS]),
                col(OutboxRow.next_attempt_at) < until,
                col(OutboxRow.alert_id).in_(of_channel),
            )
            .values(next_attempt_at=until)
        )
    return int(getattr(result, "rowcount", 0) or 0)


async def mark_done(db: Database, ids: list[int], *, now: datetime) -> None:
    if not ids:
        return
    async with db.write() as session:
        await session.exec(
            update(OutboxRow)
            .where(one_of(col(OutboxRow.id), ids, postgres=not db.is_sqlite))
            .values(status=DONE, done_at=now, last_error=None, in_doubt=False)
        )


async def pending_update_ids(db: Database, alert_id: int, *, after_id: int) -> list[int]:
    """Later update rows of the same alert that a redraw from current state makes redundant."""
    return [i for i, _ in await pending_of(db, alert_id, OutboxKind.UPDATE_WARNING, after_id)]


async def pending_of(
    db: Database, alert_id: int, kind: OutboxKind, after_id: int
) -> list[tuple[int, dict[str, Any]]]:
    """The alert's pending rows of ``kind`` after ``after_id``: ids and payloads, in order."""
    async with db.read() as session:
        query = (
            select(OutboxRow.id, OutboxRow.payload)
            .where(
                OutboxRow.alert_id == alert_id,
                OutboxRow.status == PENDING,
                OutboxRow.kind == kind.value,
                col(OutboxRow.id) > after_id,
            )
            .order_by(col(OutboxRow.id))
        )
        return [(i, dict(p or {})) for i, p in (await session.exec(query)).all() if i is not None]


async def reschedule(
    db: Database,
    row_id: int,
    *,
    at: datetime,
    error: str,
    attempt: bool = True,
    in_doubt: bool = False,
) -> None:
    """Try again at ``at``, keeping the error; ``attempt=False`` (a 429: Slack only said
    "not now") does not count the try, so the backoff of real failures does not grow.
    ``in_doubt``: the failed attempt may still have taken effect."""
    values: dict[str, Any] = {
        "next_attempt_at": at,
        "last_error": error[:2000],
        "in_doubt": in_doubt,
    }
    if not attempt:
        values["attempts"] = col(OutboxRow.attempts) - 1
    async with db.write() as session:
        await session.exec(update(OutboxRow).where(col(OutboxRow.id) == row_id).values(**values))
