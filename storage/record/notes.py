"""Notes on an alert: a timeline line each; the first note on a resolution by the source
becomes its "what was done". Also what a resolve modal writes besides the resolution."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from escalation.model import Status
from escalation.outbox_kinds import OutboxKind
from escalation.record.notes import annotate
from storage.db import Database
from storage.outbox import enqueue
from storage.record.follow_ups import NewFollowUp, add_follow_up
from storage.requests import Also
from storage.tables import AlertRow, ProcessedRequestRow, ResolutionRow
from storage.timeline import add_line


@dataclass(frozen=True, slots=True)
class NoteResult:
    ok: bool
    message: str


async def add_note(
    db: Database,
    *,
    alert_id: int,
    author: str,
    text: str,
    root_cause: str | None,
    request_key: str,
    now: datetime,
) -> NoteResult:
    """Append ``text`` by ``author`` to the alert's record; acted on once per request key."""
    try:
        async with db.write() as session:
            session.add(ProcessedRequestRow(key=request_key, received_at=now))
            await session.flush()
            row = await session.get(AlertRow, alert_id, with_for_update=not db.is_sqlite)
            if row is None or row.id is None:
                return NoteResult(False, f"Alert #{alert_id} does not exist.")
            summary = f"note by <@{author}>: {text}"
            if root_cause:
                summary += f" (root cause: {root_cause})"
            await add_line(
                session, alert_id=row.id, rule="NOTE-1", actor=author, summary=summary, now=now
            )
            record = annotate(
                resolved=row.status == Status.RESOLVED.value,
                by_source=row.resolved_by_source,
                note=row.resolution_note,
                root_cause=row.root_cause,
                text=text,
                cause=root_cause,
            )
            if record.changed:
                row.resolution_note, row.root_cause = record.note, record.root_cause
                row.version += 1
                session.add(row)
                resolution = (
                    await session.exec(
                        select(ResolutionRow).where(ResolutionRow.alert_id == row.id)
                    )
                ).first()
                if resolution is not None:
                    resolution.note, resolution.root_cause = record.note, record.root_cause
                    session.add(resolution)
                await enqueue(
                    session,
                    key=f"alert:{row.id}:v{row.version}:0",
                    alert_id=row.id,
                    kind=OutboxKind.UPDATE_WARNING,
                    now=now,
                )
            return NoteResult(True, f"Your note is kept with alert #{alert_id}.")
    except IntegrityError:
        return NoteResult(False, "This note was already added.")


def resolution_extras(
    *, follow_up: NewFollowUp | None, notes: str, user: str, now: datetime
) -> Also:
    """The follow-up and notes of a resolve modal, written with the resolution (in its
    transaction, once it is applied)."""

    async def write(session: AsyncSession, alert_id: int) -> None:
        if follow_up is not None:
            await add_follow_up(
                session, alert_id=alert_id, follow_up=follow_up, created_by=user, now=now
            )
        if notes:
            await add_line(
                session,
                alert_id=alert_id,
                rule="NOTE-1",
                actor=user,
                summary=f"note by <@{user}>: {notes}",
                now=now,
            )

    return write
