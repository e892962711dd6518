"""The alert's timeline: append-only lines in ``alert_event``, and the rows that show them
in the alert's Slack thread (outbox kind ``thread_lines``, written in the same transaction).

A ``thread_lines`` row holds the line as it was decided (who was paged is resolved then);
the sender posts every pending row of an alert in one thread message, so a burst of
changes becomes one reply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from escalation.model import AlertView, LevelSpec
from escalation.outbox_kinds import OutboxKind, ThreadLinesPayload, read_thread_lines, thread_lines
from escalation.timeline import shown_in_thread, timeline_kind
from storage.alerts import load_view
from storage.db import Database
from storage.outbox import PENDING, enqueue
from storage.tables import AlertEventRow, OutboxRow, SlackMessageRow

THREAD_DELAY = timedelta(seconds=2)
"""Thread lines wait this long, so lines decided close together go out as one reply (they
never hold up the alert's other deliveries)."""


def line_values(
    alert_id: int, *, kind: str, rule: str, actor: str | None, summary: str, now: datetime
) -> dict[str, Any]:
    """The columns of one timeline line."""
    return {
        "alert_id": alert_id,
        "at": now,
        "kind": kind,
        "rule": rule,
        "actor": actor,
        "summary": summary,
    }


async def add_line(
    session: AsyncSession,
    *,
    alert_id: int,
    rule: str,
    actor: str | None,
    summary: str,
    now: datetime,
    kind: str | None = None,
) -> int:
    """Append a line the shell decides (a note, a follow-up…); shown in the thread when its
    kind is. Returns the line's id."""
    line_kind = kind or timeline_kind(rule, default="note")
    row = AlertEventRow(
        **line_values(alert_id, kind=line_kind, rule=rule, actor=actor, summary=summary, now=now)
    )
    session.add(row)
    await session.flush()
    assert row.id is not None
    if shown_in_thread(line_kind):
        await enqueue(
            session,
            key=f"line:{row.id}",
            alert_id=alert_id,
            kind=OutboxKind.THREAD_LINES,
            payload=thread_lines(rule=rule, text=summary, now=now),
            now=now,
            delay=THREAD_DELAY,
        )
    return row.id


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    id: int
    at: datetime
    kind: str
    rule: str
    actor: str | None
    summary: str


async def timeline_of(session: AsyncSession, alert_id: int) -> list[TimelineEntry]:
    """Every line of an alert's timeline, oldest first (for /tocsin show and the review)."""
    rows = (
        await session.exec(
            select(AlertEventRow)
            .where(AlertEventRow.alert_id == alert_id)
            .order_by(col(AlertEventRow.id))
        )
    ).all()
    return [
        TimelineEntry(
            id=row.id or 0,
            at=row.at,
            kind=row.kind,
            rule=row.rule,
            actor=row.actor,
            summary=row.summary,
        )
        for row in rows
    ]


async def view_and_timeline(
    db: Database, *, alert_id: int, levels: Mapping[int, LevelSpec], recent_days: int
) -> tuple[AlertView, list[TimelineEntry]] | None:
    """The alert and its whole timeline, read together (``/tocsin show``); ``None`` when there
    is no such alert."""
    async with db.read() as session:
        view = await load_view(session, alert_id, levels, recent_days=recent_days)
        if view is None:
            return None
        return view, await timeline_of(session, alert_id)


async def pending_thread_lines(
    db: Database, alert_id: int, *, after_id: int
) -> list[tuple[int, ThreadLinesPayload]]:
    """Later ``thread_lines`` rows of the same alert, not yet sent: posted together with the
    one being delivered."""
    async with db.read() as session:
        rows = (
            await session.exec(
                select(OutboxRow.id, OutboxRow.payload)
                .where(
                    OutboxRow.alert_id == alert_id,
                    OutboxRow.status == PENDING,
                    OutboxRow.kind == OutboxKind.THREAD_LINES.value,
                    col(OutboxRow.id) > after_id,
                )
                .order_by(col(OutboxRow.id))
            )
        ).all()
    return [(row_id, read_thread_lines(payload)) for row_id, payload in rows if row_id is not None]


async def set_thread_count(db: Database, alert_id: int, count: int) -> None:
    """The fire count the alert's thread has now reported."""
    async with db.write() as session:
        await session.exec(
            update(SlackMessageRow)
            .where(col(SlackMessageRow.alert_id) == alert_id)
            .values(thread_count=count)
        )
