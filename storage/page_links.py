"""Pages sent before their alert's warning was in the channel, waiting for its link.

A page goes out at once, on its own conversation, without waiting for the channel's pace; so
it often reaches the person before the warning exists. The message names the channel then,
and these rows remember which alerts it named, so the message can be redrawn with a link to
each warning once it is posted (``bot.delivery.page_links``). The warning's link is asked of
Slack once and kept on its ``slack_message`` row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import col, select

from escalation.outbox_kinds import OutboxKind, PageLinkPayload
from storage import outbox
from storage.db import Database
from storage.tables import PageLinkRow, SlackMessageRow

KEPT = timedelta(days=1)
"""A page whose warning never came (silenced, folded into a storm) stops waiting after this."""


@dataclass(frozen=True, slots=True)
class NamedAlert:
    """An alert as one page message names it."""

    alert_id: int
    tier: int
    rule: str
    rotation: str | None
    linked: bool


async def remember(
    db: Database,
    *,
    lane: str,
    channel_id: str,
    ts: str,
    named: Sequence[NamedAlert],
    now: datetime,
) -> None:
    """Note what the page message ``(channel_id, ts)`` names, when some alert it names has no
    link yet (nothing is kept for a message that links every alert)."""
    if all(n.linked for n in named):
        return
    async with db.write() as session:
        await session.exec(delete(PageLinkRow).where(col(PageLinkRow.created_at) < now - KEPT))
        for position, n in enumerate(named):
            session.add(
                PageLinkRow(
                    alert_id=n.alert_id,
                    lane=lane,
                    channel_id=channel_id,
                    ts=ts,
                    position=position,
                    tier=n.tier,
                    rule=n.rule[:64],
                    rotation=n.rotation,
                    linked=n.linked,
                    created_at=now,
                )
            )


async def link_when_posted(
    db: Database, alert_id: int, *, now: datetime, message: tuple[str, str] | None = None
) -> int:
    """The alert's warning was posted: queue an edit of each page message that names it
    without its link (``page_link`` outbox rows, paced in the page's conversation like any
    other write there); with ``message`` (channel id, ts), of that one only (a page sent
    after the warning, before its link was known). Returns how many were queued."""
    query = (
        select(PageLinkRow.lane, PageLinkRow.channel_id, PageLinkRow.ts)
        .where(col(PageLinkRow.alert_id) == alert_id, col(PageLinkRow.linked).is_(False))
        .distinct()
    )
    if message is not None:
        query = query.where(
            col(PageLinkRow.channel_id) == message[0], col(PageLinkRow.ts) == message[1]
        )
    async with db.write() as session:
        rows = await session.exec(query)
        messages = [(str(lane), str(c), str(t)) for lane, c, t in rows.all()]
        for lane, channel_id, ts in messages:
            await outbox.enqueue(
                session,
                key=f"page_link:{channel_id}:{ts}:{alert_id}",
                kind=OutboxKind.PAGE_LINK,
                now=now,
                alert_id=alert_id,
                payload=PageLinkPayload(lane=lane, channel_id=channel_id, ts=ts),
            )
    return len(messages)


async def named_by(db: Database, channel_id: str, ts: str) -> list[NamedAlert]:
    """What the page message names, in its order."""
    async with db.read() as session:
        rows = await session.exec(
            select(PageLinkRow)
            .where(col(PageLinkRow.channel_id) == channel_id, col(PageLinkRow.ts) == ts)
            .order_by(col(PageLinkRow.position))
        )
        return [NamedAlert(r.alert_id, r.tier, r.rule, r.rotation, r.linked) for r in rows.all()]


async def mark_linked(db: Database, channel_id: str, ts: str, alert_ids: Sequence[int]) -> None:
    """The message now links these alerts; a message that links all it names is forgotten."""
    where = (col(PageLinkRow.channel_id) == channel_id, col(PageLinkRow.ts) == ts)
    async with db.write() as session:
        await session.exec(
            update(PageLinkRow)
            .where(*where, col(PageLinkRow.alert_id).in_(list(alert_ids)))
            .values(linked=True)
        )
        waiting = await session.exec(
            select(PageLinkRow.id).where(*where, col(PageLinkRow.linked).is_(False)).limit(1)
        )
        if waiting.first() is None:
            await session.exec(delete(PageLinkRow).where(*where))


async def keep_permalink(db: Database, alert_id: int, permalink: str) -> None:
    async with db.write() as session:
        await session.exec(
            update(SlackMessageRow)
            .where(col(SlackMessageRow.alert_id) == alert_id)
            .values(permalink=permalink[:500])
        )
