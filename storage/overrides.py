"""On-call overrides made from Slack: saved, listed, cancelled, and read back per rotation for
on-call resolution (bot.policy.stored_overrides) and the calendar feeds.

Nothing is deleted: cancelling sets ``cancelled_by`` / ``cancelled_at``, so the table is the
record of who changed the on-call schedule, when. Ordered by ``id`` (the order they were
made), so the later one wins where two overlap (escalation.oncall: the last listed wins).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from escalation.cover_rules import ExistingOverride
from escalation.oncall import Override
from storage.db import Database
from storage.requests import fit_key
from storage.tables import OnCallOverrideRow, ProcessedRequestRow


@dataclass(frozen=True, slots=True)
class StoredOverride:
    id: int
    rotation: str
    user: str
    start: datetime
    end: datetime
    kind: str
    replaces: str | None
    made_by: str
    made_at: datetime
    cancelled_by: str | None = None
    cancelled_at: datetime | None = None

    def as_override(self) -> Override:
        return Override(user=self.user, start=self.start, end=self.end)

    def as_existing(self) -> ExistingOverride:
        return ExistingOverride(id=self.id, user=self.user, start=self.start, end=self.end)


@dataclass(frozen=True, slots=True)
class NewOverride:
    rotation: str
    user: str
    start: datetime
    end: datetime
    kind: str
    made_by: str
    replaces: str | None = None


def _stored(row: OnCallOverrideRow) -> StoredOverride:
    assert row.id is not None
    return StoredOverride(
        id=row.id,
        rotation=row.rotation,
        user=row.user,
        start=row.start,
        end=row.end,
        kind=row.kind,
        replaces=row.replaces,
        made_by=row.made_by,
        made_at=row.made_at,
        cancelled_by=row.cancelled_by,
        cancelled_at=row.cancelled_at,
    )


async def save_override(
    db: Database, new: NewOverride, *, now: datetime, request_key: str
) -> StoredOverride | None:
    """Save ``new`` once per request (a Slack retry or a second press is ``None``)."""
    try:
        async with db.write() as session:
            session.add(ProcessedRequestRow(key=fit_key(request_key), received_at=now))
            row = OnCallOverrideRow(
                rotation=new.rotation,
                user=new.user,
                start=new.start,
                end=new.end,
                kind=new.kind,
                replaces=new.replaces,
                made_by=new.made_by,
                made_at=now,
            )
            session.add(row)
            await session.flush()
            return _stored(row)
    except IntegrityError:
        return None


async def overrides_ending_after(
    db: Database, when: datetime, *, rotation: str | None = None
) -> list[StoredOverride]:
    """Overrides in force or to come after ``when`` (not cancelled), oldest made first."""
    query = (
        select(OnCallOverrideRow)
        .where(col(OnCallOverrideRow.end) > when, col(OnCallOverrideRow.cancelled_at).is_(None))
        .order_by(col(OnCallOverrideRow.id))
    )
    if rotation is not None:
        query = query.where(OnCallOverrideRow.rotation == rotation)
    async with db.read() as session:
        rows = (await session.exec(query)).all()
    return [_stored(r) for r in rows]


def by_rotation(stored: Sequence[StoredOverride]) -> Mapping[str, tuple[Override, ...]]:
    """Overrides per rotation, in the order they were made (the later one wins)."""
    found: dict[str, list[Override]] = {}
    for o in stored:
        found.setdefault(o.rotation, []).append(o.as_override())
    return {name: tuple(items) for name, items in found.items()}


async def find_override(db: Database, override_id: int) -> StoredOverride | None:
    async with db.read() as session:
        row = await session.get(OnCallOverrideRow, override_id)
    return None if row is None else _stored(row)


async def cancel_override(
    db: Database, override_id: int, *, by: str, now: datetime
) -> StoredOverride | None:
    """Cancel an override not yet cancelled; the cancelled override, or ``None`` if it was
    already cancelled (or never existed)."""
    async with db.write() as session:
        row = await session.get(OnCallOverrideRow, override_id, with_for_update=True)
        if row is None or row.cancelled_at is not None:
            return None
        row.cancelled_by = by
        row.cancelled_at = now
        session.add(row)
        await session.flush()
        return _stored(row)
