"""Follow-ups: kept with the resolution that asked for them, reminded until done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from escalation.outbox_kinds import FollowUpReminderPayload, OutboxKind
from escalation.record.follow_ups import next_reminder
from storage.db import Database
from storage.outbox import enqueue
from storage.tables import AlertRow, FollowUpRow
from storage.timeline import add_line


@dataclass(frozen=True, slots=True)
class NewFollowUp:
    text: str
    owner: str
    due_at: datetime


async def add_follow_up(
    session: AsyncSession, *, alert_id: int, follow_up: NewFollowUp, created_by: str, now: datetime
) -> int:
    """Keep a follow-up (in the caller's transaction); the first reminder is at ``due_at``."""
    row = FollowUpRow(
        alert_id=alert_id,
        text=follow_up.text,
        owner=follow_up.owner,
        due_at=follow_up.due_at,
        created_by=created_by,
        created_at=now,
        next_remind_at=follow_up.due_at,
    )
    session.add(row)
    await session.flush()
    assert row.id is not None
    await add_line(
        session,
        alert_id=alert_id,
        rule="FOLLOWUP-1",
        actor=created_by,
        summary=f"follow-up #{row.id} for <@{follow_up.owner}>, due "
        f"{follow_up.due_at:%Y-%m-%d %H:%M} UTC: {follow_up.text}",
        now=now,
    )
    return row.id


async def remind_due(db: Database, *, now: datetime, every_seconds: int, limit: int = 200) -> int:
    """Queue a reminder DM for each follow-up due now and move its next reminder on; returns
    how many were queued. Claimed with ``SKIP LOCKED`` on PostgreSQL so replicas share."""
    query = (
        select(FollowUpRow)
        .where(col(FollowUpRow.done_at).is_(None), col(FollowUpRow.next_remind_at) <= now)
        .order_by(col(FollowUpRow.next_remind_at))
        .limit(limit)
    )
    if not db.is_sqlite:
        query = query.with_for_update(skip_locked=True)
    async with db.write() as session:
        rows = list((await session.exec(query)).all())
        for row in rows:
            assert row.id is not None
            row.reminders += 1
            row.next_remind_at = next_reminder(row.due_at, now=now, every_seconds=every_seconds)
            session.add(row)
            await enqueue(
                session,
                key=f"follow_up:{row.id}:r{row.reminders}",
                alert_id=row.alert_id,
                kind=OutboxKind.FOLLOW_UP_REMINDER,
                payload=FollowUpReminderPayload(follow_up_id=row.id, user=row.owner),
                now=now,
            )
            await add_line(
                session,
                alert_id=row.alert_id,
                rule="FOLLOWUP-REMIND",
                actor=None,
                summary=f"follow-up #{row.id}: reminded <@{row.owner}> (reminder {row.reminders})",
                now=now,
            )
    return len(rows)


async def next_reminder_at(db: Database) -> datetime | None:
    async with db.read() as session:
        value = (
            await session.exec(
                select(func.min(FollowUpRow.next_remind_at)).where(
                    col(FollowUpRow.done_at).is_(None)
                )
            )
        ).one()
    return value if isinstance(value, datetime) else None


@dataclass(frozen=True, slots=True)
class FollowUpItem:
    id: int
    alert_id: int
    alert_title: str
    text: str
    owner: str
    due_at: datetime
    created_by: str
    done_at: datetime | None
    done_by: str | None


def _item(row: FollowUpRow, title: str) -> FollowUpItem:
    assert row.id is not None
    return FollowUpItem(
        id=row.id,
        alert_id=row.alert_id,
        alert_title=title,
        text=row.text,
        owner=row.owner,
        due_at=row.due_at,
        created_by=row.created_by,
        done_at=row.done_at,
        done_by=row.done_by,
    )


async def get_follow_up(db: Database, follow_up_id: int) -> FollowUpItem | None:
    async with db.read() as session:
        found = (
            await session.exec(
                select(FollowUpRow, AlertRow.title)
                .join(AlertRow, col(AlertRow.id) == FollowUpRow.alert_id)
                .where(FollowUpRow.id == follow_up_id)
            )
        ).first()
    return _item(*found) if found is not None else None


async def open_follow_ups(
    db: Database, *, owner: str | None = None, limit: int = 25
) -> tuple[list[FollowUpItem], int]:
    """Open follow-ups, earliest due first (at most ``limit``), and how many are open."""
    where: list[Any] = [col(FollowUpRow.done_at).is_(None)]
    if owner is not None:
        where.append(col(FollowUpRow.owner) == owner)
    async with db.read() as session:
        rows = (
            await session.exec(
                select(FollowUpRow, AlertRow.title)
                .join(AlertRow, col(AlertRow.id) == FollowUpRow.alert_id)
                .where(*where)
                .order_by(col(FollowUpRow.due_at), col(FollowUpRow.id))
                .limit(limit)
            )
        ).all()
        total = (
            await session.exec(select(func.count()).select_from(FollowUpRow).where(*where))
        ).one()
    return [_item(row, title) for row, title in rows], int(total)


async def complete(
    db: Database, *, follow_up_id: int, user: str, now: datetime
) -> FollowUpItem | None:
    """Mark a follow-up done (once: a second press changes nothing); ``None`` if unknown."""
    async with db.write() as session:
        row = await session.get(FollowUpRow, follow_up_id, with_for_update=not db.is_sqlite)
        if row is None:
            return None
        if row.done_at is None:
            row.done_at, row.done_by, row.next_remind_at = now, user, None
            session.add(row)
            await add_line(
                session,
                alert_id=row.alert_id,
                rule="FOLLOWUP-DONE",
                actor=user,
                summary=f"follow-up #{row.id} done by <@{user}>: {row.text}",
                now=now,
            )
        alert = await session.get(AlertRow, row.alert_id)
        return _item(row, alert.title if alert else "")
