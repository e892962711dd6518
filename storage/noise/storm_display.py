"""What a storm shows in Slack, in storage: the work left to draw (its summary message, the
alerts still to list in its thread, the pages standing for its alerts'), the summary's
figures, and the marks that say what has been drawn (storage.noise.storms opens, folds and ends
storms)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import case, func, or_, type_coerce, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from escalation.model import Status
from storage.db import Database
from storage.noise.storms import ENDED, RINGING_LEVEL, alert_name, fresh_entry
from storage.tables import AlertRow, StormMemberRow, StormPageRow, StormRow
from storage.types import UTCDateTime


@dataclass(frozen=True, slots=True)
class StormWork:
    """A storm with something left to show in Slack."""

    id: int
    channel: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    version: int
    drawn_version: int
    drawn_at: datetime | None
    summary_channel_id: str | None
    summary_ts: str | None
    unlisted: int
    oldest_unlisted_at: datetime | None
    posting_at: datetime | None = None
    """When posting the summary was first attempted (see ``StormRow.posting_at``)."""
    top_unlisted: int | None = None
    """The most urgent level (lowest number) among the alerts still to be listed."""


@dataclass(frozen=True, slots=True)
class Item:
    alert_id: int
    level: int
    name: str
    title: str
    status: str


@dataclass(frozen=True, slots=True)
class Summary:
    alerts: int
    by_level: dict[int, int]
    by_status: dict[str, int]
    top_names: list[tuple[str, int]]
    top_items: list[Item]
    listed: int


@dataclass(frozen=True, slots=True)
class PageWork:
    id: int
    storm_id: int
    channel: str
    target: str
    pages: int
    top_level: int
    tier: int
    rule: str
    version: int
    drawn_at: datetime | None
    channel_id: str | None
    ts: str | None
    posting_at: datetime | None = None
    """When posting the page's message was first attempted (see ``StormPageRow.posting_at``)."""
    fresh: tuple[int, ...] = ()
    """The alerts that paged the person since the page's last new message (newest last)."""


async def work(db: Database) -> list[StormWork]:
    """Storms with something to show: how many of their alerts are still to be listed."""
    async with db.read() as session:
        # unfinished, or finished but changed since (members acknowledged or resolved later)
        unfinished = col(StormRow.finished).is_(False)
        redraw = col(StormRow.version) > col(StormRow.drawn_version)
        storms = (await session.exec(select(StormRow).where(or_(unfinished, redraw)))).all()
        found = []
        for s in storms:
            assert s.id is not None
            unlisted, oldest, top = (
                await (await session.connection()).execute(
                    sa_select(
                        func.count(),
                        type_coerce(func.min(col(StormMemberRow.joined_at)), UTCDateTime()),
                        func.min(col(StormMemberRow.level)),
                    ).where(
                        col(StormMemberRow.storm_id) == s.id,
                        col(StormMemberRow.listed_ts).is_(None),
                    )
                )
            ).one()
            found.append(
                StormWork(
                    s.id,
                    s.channel,
                    s.status,
                    s.started_at,
                    s.ended_at,
                    s.version,
                    s.drawn_version,
                    s.drawn_at,
                    s.summary_channel_id,
                    s.summary_ts,
                    int(unlisted),
                    oldest,
                    s.posting_at,
                    None if top is None else int(top),
                )
            )
    return found


async def summary(db: Database, storm_id: int, *, top: int) -> Summary:
    member = col(StormMemberRow.storm_id) == storm_id
    async with db.read() as session:
        by_level = {
            int(level): int(n)
            for level, n in (
                await (await session.connection()).execute(
                    sa_select(col(StormMemberRow.level), func.count())
                    .where(member)
                    .group_by(col(StormMemberRow.level))
                )
            ).all()
        }
        by_status = {
            str(status): int(n)
            for status, n in (
                await (await session.connection()).execute(
                    sa_select(col(AlertRow.status), func.count())
                    .join(StormMemberRow, col(StormMemberRow.alert_id) == col(AlertRow.id))
                    .where(member)
                    .group_by(col(AlertRow.status))
                )
            ).all()
        }
        names = (
            await (await session.connection()).execute(
                sa_select(col(StormMemberRow.name), func.count().label("n"))
                .where(member)
                .group_by(col(StormMemberRow.name))
                .order_by(func.count().desc(), col(StormMemberRow.name))
                .limit(top)
            )
        ).all()
        open_first = col(AlertRow.status) == Status.RESOLVED.value
        items = (
            await session.exec(
                _items_query()
                .where(member)
                # open first, the most urgent, and the newest of a level first: a storm page
                # that rings for a new level-1 alert names it
                .order_by(
                    open_first, col(StormMemberRow.level), col(StormMemberRow.alert_id).desc()
                )
                .limit(top)
            )
        ).all()
        listed = (
            await (await session.connection()).execute(
                sa_select(func.count()).where(member, col(StormMemberRow.listed_ts).is_not(None))
            )
        ).scalar_one()
    return Summary(
        alerts=sum(by_level.values()),
        by_level=by_level,
        by_status=by_status,
        top_names=[(str(n), int(c)) for n, c in names],
        top_items=[_item(r) for r in items],
        listed=int(listed),
    )


def _items_query() -> Any:
    return sa_select(
        col(StormMemberRow.alert_id),
        col(StormMemberRow.level),
        col(StormMemberRow.name),
        col(AlertRow.title),
        col(AlertRow.status),
    ).join(AlertRow, col(AlertRow.id) == col(StormMemberRow.alert_id))


def _item(row: Any) -> Item:
    a, level, name, title, status = row
    return Item(int(a), int(level), str(name), str(title), str(status))


async def unlisted(db: Database, storm_id: int, *, limit: int) -> list[Item]:
    """The next alerts of the storm to list in its thread: level 1 first, then in the order
    they joined."""
    async with db.read() as session:
        rows = (
            await session.exec(
                _items_query()
                .where(
                    col(StormMemberRow.storm_id) == storm_id,
                    col(StormMemberRow.listed_ts).is_(None),
                )
                .order_by(
                    case((col(StormMemberRow.level) <= RINGING_LEVEL, 0), else_=1),
                    col(StormMemberRow.alert_id),
                )
                .limit(limit)
            )
        ).all()
    return [_item(r) for r in rows]


async def mark_listed(db: Database, alert_ids: Sequence[int], *, ts: str) -> None:
    async with db.write() as session:
        await session.exec(
            update(StormMemberRow)
            .where(col(StormMemberRow.alert_id).in_(alert_ids))
            .values(listed_ts=ts)
        )


async def mark_drawn(
    db: Database,
    storm_id: int,
    *,
    version: int,
    now: datetime,
    channel_id: str | None = None,
    ts: str | None = None,
    finished: bool = False,
) -> None:
    values: dict[str, object] = {"drawn_version": version, "drawn_at": now}
    if channel_id is not None and ts is not None:
        values.update(summary_channel_id=channel_id, summary_ts=ts)
    if finished:
        values["finished"] = True
    async with db.write() as session:
        await session.exec(update(StormRow).where(col(StormRow.id) == storm_id).values(**values))


async def pages_due(db: Database) -> list[PageWork]:
    """Storm pages whose message is not yet sent or shows an older count."""
    async with db.read() as session:
        rows = (
            await session.exec(
                select(StormPageRow, StormRow.channel)
                .join(StormRow, col(StormRow.id) == col(StormPageRow.storm_id))
                .where(col(StormPageRow.version) > col(StormPageRow.drawn_version))
                .order_by(col(StormPageRow.id))
            )
        ).all()
    return [_page_work(page, str(channel)) for page, channel in rows]


def _page_work(page: StormPageRow, channel: str) -> PageWork:
    assert page.id is not None
    return PageWork(
        page.id,
        page.storm_id,
        channel,
        page.target,
        page.pages,
        page.top_level,
        page.tier,
        page.rule,
        page.version,
        page.drawn_at,
        page.channel_id,
        page.ts,
        page.posting_at,
        tuple(fresh_entry(e)[0] for e in page.fresh),
    )


async def mark_page_drawn(
    db: Database,
    page_id: int,
    *,
    version: int,
    now: datetime,
    channel_id: str,
    ts: str,
    named: Sequence[int] = (),
    edited: str | None = None,
) -> None:
    """The page's message shows ``version``; a new message named the alerts ``named`` (the
    next one names only those that paged the person since). The page's draw claim ends.

    ``edited`` is the message an edit was drawn on: when a fold asked for a new message while
    the edit was under way (a page that must ring: ``storms._add_pages`` clears the page's
    ts), the edited message is not put back, so the ring is not lost to the edit."""
    async with db.write() as session:
        row = await session.get(StormPageRow, page_id, with_for_update=not db.is_sqlite)
        if row is None:
            return
        row.drawing_until = None
        row.drawn_version, row.drawn_at = version, now
        if edited is not None and row.ts != edited:
            session.add(row)
            return
        row.channel_id, row.ts = channel_id, ts
        if named:
            row.fresh = [e for e in row.fresh if fresh_entry(e)[0] not in set(named)]
            if row.fresh:
                # pages came while it was being posted: they get a new message of their own
                row.channel_id = row.ts = row.posting_at = None
        session.add(row)


async def claim_page(
    db: Database, page_id: int, *, now: datetime, lease: timedelta
) -> PageWork | None:
    """Claim drawing a storm page's message for ``lease``: the page as it is now when this
    replica has it (still to draw, nobody else drawing it), else ``None``. One replica at a
    time draws a page, so two never post it twice or edit over each other."""
    async with db.write() as session:
        claimed = await session.exec(
            update(StormPageRow)
            .where(
                col(StormPageRow.id) == page_id,
                col(StormPageRow.version) > col(StormPageRow.drawn_version),
                or_(
                    col(StormPageRow.drawing_until).is_(None),
                    col(StormPageRow.drawing_until) <= now,
                ),
            )
            .values(drawing_until=now + lease)
        )
        if not claimed.rowcount:
            return None
        page, channel = (
            await session.exec(
                select(StormPageRow, StormRow.channel)
                .join(StormRow, col(StormRow.id) == col(StormPageRow.storm_id))
                .where(col(StormPageRow.id) == page_id)
            )
        ).one()
    return _page_work(page, str(channel))


async def release_page(db: Database, page_id: int) -> None:
    """Give up a draw claim (the attempt failed or was held by Slack): the next try may be
    any replica's, at once, not when the lease runs out."""
    async with db.write() as session:
        await session.exec(
            update(StormPageRow).where(col(StormPageRow.id) == page_id).values(drawing_until=None)
        )


async def items_of(db: Database, alert_ids: Sequence[int]) -> list[Item]:
    """The items of these alerts, in the order given: the storm's members, and alerts from
    before the storm whose pages its storm page carries (named as a storm names them)."""
    if not alert_ids:
        return []
    async with db.read() as session:
        rows: Any = (
            await (await session.connection()).execute(
                sa_select(
                    col(AlertRow.id),
                    col(AlertRow.level),
                    col(AlertRow.title),
                    col(AlertRow.labels),
                    col(AlertRow.status),
                ).where(col(AlertRow.id).in_(list(alert_ids)))
            )
        ).all()
    found = {
        int(a): Item(int(a), int(level), alert_name(str(title), labels or {}), str(title), str(st))
        for a, level, title, labels, st in rows
    }
    return [found[i] for i in alert_ids if i in found]


async def listed_count(db: Database, storm_id: int) -> int:
    async with db.read() as session:
        found = await (await session.connection()).execute(
            sa_select(func.count()).where(
                col(StormMemberRow.storm_id) == storm_id,
                col(StormMemberRow.listed_ts).is_not(None),
            )
        )
    return int(found.scalar_one())


async def is_ended(db: Database, storm_id: int) -> bool:
    async with db.read() as session:
        row = await session.get(StormRow, storm_id)
    return row is not None and row.status == ENDED


PostingOf = Literal["summary", "page"]
"""Whose message is being posted: a storm's (its summary) or a storm page's."""


async def clear_posting(db: Database, *, of: PostingOf, row_id: int) -> None:
    """The attempt noted by :func:`mark_posting` is known not to have posted (Slack refused
    it): forget it, so the next attempt posts at once, without searching."""
    table: type[StormRow] | type[StormPageRow] = StormRow if of == "summary" else StormPageRow
    async with db.write() as session:
        await session.exec(update(table).where(col(table.id) == row_id).values(posting_at=None))


async def mark_posting(db: Database, *, of: PostingOf, row_id: int, now: datetime) -> None:
    """Note that posting the message of a storm (its summary, ``row_id`` the storm's) or of
    a storm page (``row_id`` the page's) is being attempted (the first attempt's time is
    kept)."""
    table: type[StormRow] | type[StormPageRow] = StormRow if of == "summary" else StormPageRow
    async with db.write() as session:
        await session.exec(
            update(table)
            .where(col(table.id) == row_id, col(table.posting_at).is_(None))
            .values(posting_at=now)
        )
