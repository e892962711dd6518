"""Storms in storage: opening and ending them, which alerts a storm rolled up, and the one
page per person that stands for its alerts' pages (what Slack shows of a storm:
storage.noise.storm_display).

Folding a storm's outbox rows (its alerts' warnings, their updates and thread notes, their
pages) and recording what they become happen in one transaction: a crash loses nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from escalation.events import Acknowledged
from escalation.model import Status
from escalation.outbox_kinds import OutboxKind, OutboxPayloadError, read_page_channel, read_page_dm
from escalation.ports import Directory
from escalation.state import IllegalTransition, transition
from storage.alerts import policy_of, state_of
from storage.batch import insert_many
from storage.db import Database
from storage.effects import persist_transition
from storage.id_sets import one_of
from storage.outbox import DONE, FOLDED, PENDING, Claimed
from storage.requests import first_time
from storage.tables import AlertRow, OutboxRow, StormMemberRow, StormPageRow, StormRow, table_of

OPEN, ENDED = "open", "ended"
_MEMBER_TABLE = table_of(StormMemberRow)


@dataclass(frozen=True, slots=True)
class StormRef:
    id: int
    channel: str
    started_at: datetime


async def open_storm(db: Database, channel: str, *, now: datetime) -> StormRef:
    """The open storm of ``channel``, started now unless one is already open (another
    replica may have opened it: the database keeps one open storm per channel)."""
    found = await _open_of(db, channel)
    if found is not None:
        return found
    try:
        async with db.write() as session:
            row = StormRow(channel=channel, status=OPEN, started_at=now)
            session.add(row)
            await session.flush()
            assert row.id is not None
            return StormRef(row.id, channel, now)
    except IntegrityError:
        found = await _open_of(db, channel)
        assert found is not None
        return found


async def _open_of(db: Database, channel: str) -> StormRef | None:
    async with db.read() as session:
        row = (
            await session.exec(
                select(StormRow).where(StormRow.channel == channel, StormRow.status == OPEN)
            )
        ).first()
    return None if row is None or row.id is None else StormRef(row.id, row.channel, row.started_at)


async def open_storms(db: Database) -> list[StormRef]:
    async with db.read() as session:
        rows = (await session.exec(select(StormRow).where(StormRow.status == OPEN))).all()
    return [StormRef(r.id, r.channel, r.started_at) for r in rows if r.id is not None]


async def end_storm(db: Database, storm_id: int, *, now: datetime) -> None:
    async with db.write() as session:
        await session.exec(
            update(StormRow)
            .where(col(StormRow.id) == storm_id, col(StormRow.status) == OPEN)
            .values(status=ENDED, ended_at=now, version=col(StormRow.version) + 1)
        )


async def storms_of(db: Database, alert_ids: Iterable[int]) -> dict[int, int]:
    """Alert id → storm id, for those of ``alert_ids`` that a storm rolled up."""
    ids = list(set(alert_ids))
    if not ids:
        return {}
    async with db.read() as session:
        rows = (
            await (await session.connection()).execute(
                sa_select(col(StormMemberRow.alert_id), col(StormMemberRow.storm_id)).where(
                    one_of(col(StormMemberRow.alert_id), ids, postgres=not db.is_sqlite)
                )
            )
        ).all()
    return {int(a): int(s) for a, s in rows}


def alert_name(title: str, labels: Mapping[str, str]) -> str:
    """What a storm counts alerts by: the alert name label, else the title."""
    return (labels.get("alertname") or title)[:255]


async def fold(
    db: Database,
    *,
    joining: Sequence[tuple[Claimed, int]],
    folded: Sequence[tuple[Claimed, int]],
    now: datetime,
) -> bool:
    """Roll outbox rows into storms, in one transaction; whether a storm now has something
    to write at once (a page to draw, or a level-1 alert to list).

    ``joining``: warnings (``post_warning`` rows) whose alerts become members of the storm
    instead of being posted. ``folded``: later rows of members — updates and thread notes
    (shown by the summary's counts) and pages (one page per person per storm). Every row
    given is marked done; the storms touched are marked changed.
    """
    if not joining and not folded:
        return False
    touched: set[int] = set()
    postgres = not db.is_sqlite
    async with db.write() as session:
        ids = [c.alert_id for c, _ in joining if c.alert_id is not None]
        alerts = {}
        if ids:
            rows = await (await session.connection()).execute(
                sa_select(
                    col(AlertRow.id), col(AlertRow.level), col(AlertRow.title), col(AlertRow.labels)
                ).where(one_of(col(AlertRow.id), ids, postgres=postgres))
            )
            alerts = {int(r[0] or 0): (int(r[1]), alert_name(r[2], r[3] or {})) for r in rows}
        members = []
        ringing = False
        for claimed, storm_id in joining:
            if claimed.alert_id is None or claimed.alert_id not in alerts:
                continue
            level, name = alerts[claimed.alert_id]
            ringing = ringing or level <= RINGING_LEVEL
            members.append(
                {
                    "alert_id": claimed.alert_id,
                    "storm_id": storm_id,
                    "level": level,
                    "name": name,
                    "joined_at": now,
                    "listed_ts": None,
                }
            )
            touched.add(storm_id)
        # one statement, not one execution per member (an ``executemany`` on PostgreSQL)
        await insert_many(await session.connection(), _MEMBER_TABLE, members)
        pages = [(c, s) for c, s in folded if c.kind in STORM_PAGED]
        standing = await _add_pages(session, pages, postgres=postgres) if pages else set()
        touched.update(s for _, s in folded)
        if touched:
            await session.exec(
                update(StormRow)
                .where(col(StormRow.id).in_(touched))
                .values(version=col(StormRow.version) + 1)
            )
        rolled = {c.id for c, _ in pages} - standing
        for status, ids in (
            (DONE, [c.id for c, _ in (*joining, *folded) if c.id not in rolled]),
            (FOLDED, sorted(rolled)),
        ):
            if ids:
                await session.exec(
                    update(OutboxRow)
                    .where(
                        one_of(col(OutboxRow.id), ids, postgres=postgres),
                        col(OutboxRow.status) == PENDING,
                    )
                    .values(status=status, done_at=now, last_error=None)
                )
    return bool(pages) or ringing


RINGING_LEVEL = 1
"""A storm page for an alert of this level (or a higher tier) is a new message, so that it
notifies; pages of lower levels are folded into an edit of the person's storm page."""
FRESH_NAMED = 10
"""A storm page names at most this many of the alerts that paged the person since its last
new message (the newest; the count says how many there were)."""


def fresh_names(fresh: Sequence[Any], added: Sequence[list[int]]) -> list[list[int]]:
    """A storm page's ``fresh`` after ``added`` (``[alert id, level]``, newest last) came:
    at most :data:`FRESH_NAMED`, dropping the oldest below the ringing level first, so a new
    level-1 alert is named however many lower pages follow it."""
    ids = {entry[0] for entry in added}
    entries = [list(e) for e in (fresh_entry(e) for e in fresh) if e[0] not in ids]
    entries += [list(e) for e in added]
    while len(entries) > FRESH_NAMED:
        lower = (i for i, (_, level) in enumerate(entries) if level > RINGING_LEVEL)
        del entries[next(lower, 0)]
    return entries


def fresh_entry(entry: Any) -> tuple[int, int]:
    """One ``fresh`` entry as ``(alert id, level)``."""
    if isinstance(entry, list | tuple) and len(entry) == 2:
        return int(entry[0]), int(entry[1])
    return int(entry), 3


async def _add_pages(
    session: AsyncSession, pages: Sequence[tuple[Claimed, int]], *, postgres: bool
) -> set[int]:
    """Fold page rows into the storm pages of their targets; returns the ids of the rows that
    start a storm page's message (a target's first page of the storm, or its first at a
    higher tier once a message was sent): they stand for the page the person receives."""
    ids = {c.alert_id for c, _ in pages if c.alert_id is not None}
    levels = {}
    if ids:
        rows: Any = await (await session.connection()).execute(  # members, and pages of
            sa_select(col(AlertRow.id), col(AlertRow.level)).where(  # alerts from before
                one_of(col(AlertRow.id), ids, postgres=postgres)
            )
        )
        levels = {int(a): int(level) for a, level in rows}
    standing: set[int] = set()
    grouped: dict[tuple[int, str], list[Claimed]] = {}
    paged: dict[int, _Paged] = {}
    for claimed, storm_id in pages:
        page = _paged(claimed)
        if page is not None and page.target:
            paged[claimed.id] = page
            grouped.setdefault((storm_id, page.target), []).append(claimed)
    # on PostgreSQL the page is locked: another replica folding pages of the same person, or
    # marking its message drawn, waits (neither's change is lost)
    locking = (await session.connection()).dialect.name != "sqlite"
    for (storm_id, target), items in grouped.items():
        query = select(StormPageRow).where(
            StormPageRow.storm_id == storm_id, StormPageRow.target == target
        )
        row = (await session.exec(query.with_for_update() if locking else query)).first()
        if row is None:
            row = StormPageRow(storm_id=storm_id, target=target, version=0)
            standing.add(items[0].id)
        row.pages += len(items)
        added = [[c.alert_id, levels.get(c.alert_id, 3)] for c in items if c.alert_id is not None]
        row.fresh = fresh_names(row.fresh, added)
        top = min(levels.get(c.alert_id or 0, 3) for c in items)
        row.top_level = min(row.top_level, top)
        last = paged[items[-1].id]
        if row.ts is not None and (last.tier > row.tier or top <= RINGING_LEVEL):
            # paged at a higher tier, or for an alert of the top level: a new message, which
            # notifies (an edit of the earlier one would not); pages folded until it is
            # sent — within the person's pace of a message a second — share it
            row.channel_id = row.ts = row.posting_at = None
            standing.add(items[-1].id)
        if last.tier >= row.tier:
            row.tier, row.rule = last.tier, last.rule[:32]
        row.version += 1
        session.add(row)
    return standing


STORM_PAGED = frozenset({OutboxKind.PAGE_DM, OutboxKind.PAGE_CHANNEL})
"""The pages a storm rolls into one page per person (or channel)."""


@dataclass(frozen=True, slots=True)
class _Paged:
    target: str
    """The user or channel paged."""
    tier: int
    rule: str


def _paged(claimed: Claimed) -> _Paged | None:
    """Whom a page row pages, at which tier and by which rule; ``None`` for a row that does
    not read (it is folded without a storm page, like a page that names no target)."""
    try:
        if claimed.kind == OutboxKind.PAGE_DM:
            dm = read_page_dm(claimed.payload)
            return _Paged(dm["user"], dm["tier"], dm["rule"])
        if claimed.kind == OutboxKind.PAGE_CHANNEL:
            channel = read_page_channel(claimed.payload)
            return _Paged(channel["channel"], channel["tier"], channel["rule"])
    except OutboxPayloadError:
        return None
    return None


async def acknowledge_members(
    db: Database,
    storm_id: int,
    *,
    actor: str,
    request_key: str,
    now: datetime,
    directory: Directory | None = None,
    chunk: int = 200,
) -> int | None:
    """``actor`` acknowledges every firing alert of the storm (each one a labelled transition
    in its own timeline, a few hundred per transaction); returns how many. ``None`` when the
    request was handled before (a retry)."""
    if not await first_time(db, key=request_key, now=now):
        return None
    done, after = 0, 0
    while True:
        query = (
            select(AlertRow)
            .join(StormMemberRow, col(StormMemberRow.alert_id) == col(AlertRow.id))
            .where(
                col(StormMemberRow.storm_id) == storm_id,
                col(AlertRow.status) == Status.FIRING.value,
                col(AlertRow.id) > after,
            )
            .order_by(col(AlertRow.id))
            .limit(chunk)
        )
        if not db.is_sqlite:
            query = query.with_for_update(of=AlertRow, skip_locked=True)
        async with db.write() as session:
            rows = (await session.exec(query)).all()
            for row in rows:
                assert row.id is not None
                after = row.id
                try:
                    tr = transition(
                        state_of(row), Acknowledged(actor), policy=policy_of(row), now=now
                    )
                except IllegalTransition:
                    continue
                await persist_transition(
                    session, row, tr, kind="acknowledged", actor=actor, now=now, directory=directory
                )
                done += 1
        if len(rows) < chunk:
            return done
