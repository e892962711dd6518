"""Alert groups in the database: open, join, hand the escalation over, resolve, summarise."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from escalation.events import AlertState, Transition
from escalation.model import GroupMember, GroupSummary, Status
from escalation.noise.grouping import as_member, take_lead
from escalation.outbox_kinds import GroupListPayload, OutboxKind
from storage.alerts import policy_of, state_of
from storage.db import Database
from storage.effects import persist_transition
from storage.outbox import enqueue
from storage.tables import AlertGroupRow, AlertRow


async def shape_for_group(session: AsyncSession, row: AlertRow, tr: Transition) -> Transition:
    """A member that does not carry the group's escalation gets no timers nor pages."""
    if row.group_id is None:
        return tr
    group = await session.get(AlertGroupRow, row.group_id)
    if group is None or group.lead_id == row.id:
        return tr
    return as_member(tr)


async def find_open_group(
    session: AsyncSession, key: str, *, now: datetime
) -> AlertGroupRow | None:
    query = (
        select(AlertGroupRow)
        .where(
            AlertGroupRow.key == key,
            col(AlertGroupRow.resolved_at).is_(None),
            col(AlertGroupRow.closes_at) > now,
        )
        .order_by(col(AlertGroupRow.id).desc())
        .limit(1)
    )
    return (await session.exec(query)).first()


async def start_group(
    session: AsyncSession, key: str, anchor: AlertRow, *, now: datetime, window_seconds: int
) -> AlertGroupRow:
    assert anchor.id is not None
    group = AlertGroupRow(
        key=key,
        anchor_id=anchor.id,
        lead_id=anchor.id,
        opened_at=now,
        closes_at=now + timedelta(seconds=window_seconds),
    )
    session.add(group)
    await session.flush()
    anchor.group_id = group.id
    session.add(anchor)
    return group


async def enqueue_list(
    session: AsyncSession, group: AlertGroupRow, *, now: datetime, page: int = 0
) -> None:
    """(Re)draw the members list in the group warning's thread, after the warning itself:
    its first message (``page`` 0, which then queues the later messages that changed), or
    one later message."""
    assert group.id is not None
    await enqueue(
        session,
        key=list_key(group.id),
        alert_id=group.anchor_id,
        kind=OutboxKind.GROUP_LIST,
        payload=GroupListPayload(group=group.id, page=page)
        if page
        else GroupListPayload(group=group.id),
        now=now,
    )


def list_key(group_id: int) -> str:
    """The outbox key of one (re)drawing of a group's member list: each its own row."""
    return f"group:{group_id}:list:{uuid.uuid4().hex}"


async def members(session: AsyncSession, group_id: int) -> list[AlertRow]:
    query = select(AlertRow).where(AlertRow.group_id == group_id).order_by(col(AlertRow.id))
    return list((await session.exec(query)).all())


async def after_resolved(
    session: AsyncSession, row: AlertRow, *, before: AlertState, now: datetime
) -> None:
    """A member resolved: the group resolves when all have; if it carried the escalation,
    the oldest open member takes it over."""
    if row.group_id is None:
        return
    group = await session.get(AlertGroupRow, row.group_id)
    if group is None:
        return
    still_open = [m for m in await members(session, group.id or 0) if m.status != Status.RESOLVED]
    if not still_open:
        group.resolved_at = now
        group.lead_id = row.id or group.lead_id
    elif group.lead_id == row.id:
        heir = still_open[0]
        assert row.id is not None
        assert heir.id is not None
        tr = take_lead(state_of(heir), before, policy=policy_of(heir), now=now, lead_id=row.id)
        group.lead_id = heir.id
        session.add(group)
        await session.flush()
        await persist_transition(session, heir, tr, kind="group_lead", actor=None, now=now)
    session.add(group)
    await enqueue_list(session, group, now=now)


async def summary(session: AsyncSession, group_id: int) -> GroupSummary | None:
    group = await session.get(AlertGroupRow, group_id)
    if group is None or group.id is None:
        return None
    found = tuple(
        GroupMember(m.id or 0, m.title, Status(m.status)) for m in await members(session, group.id)
    )
    return GroupSummary(id=group.id, key=group.key.rsplit("|", 1)[-1], members=found)


async def warning_of(session: AsyncSession, alert_id: int) -> tuple[int, int, int | None]:
    """Whose warning shows ``alert_id``, and whose state it shows: ``(message alert, view
    alert, group id)`` — the group's anchor and lead for a grouped alert, else itself."""
    row = await session.get(AlertRow, alert_id)
    if row is None or row.group_id is None:
        return alert_id, alert_id, None
    group = await session.get(AlertGroupRow, row.group_id)
    if group is None:
        return alert_id, alert_id, None
    return group.anchor_id, group.lead_id, group.id


async def message_alert_of(db: Database, *, alert_id: int) -> int:
    """The alert whose warning shows ``alert_id`` (``warning_of``'s first part)."""
    async with db.read() as session:
        message_id, _, _ = await warning_of(session, alert_id)
    return message_id


async def warning_for(db: Database, *, alert_id: int) -> tuple[int, int, GroupSummary | None]:
    """``warning_of`` with the group's summary instead of its id, read together: what a
    warning showing ``alert_id`` is drawn from."""
    async with db.read() as session:
        message_id, view_id, group_id = await warning_of(session, alert_id)
        group = await summary(session, group_id) if group_id is not None else None
    return message_id, view_id, group


async def anchors_of(db: Database, alert_ids: Collection[int]) -> dict[int, int]:
    """The group anchor (whose warning shows them) of each grouped alert of ``alert_ids``."""
    if not alert_ids:
        return {}
    query = (
        select(AlertRow.id, AlertGroupRow.anchor_id)
        .join(AlertGroupRow, col(AlertGroupRow.id) == col(AlertRow.group_id))
        .where(col(AlertRow.id).in_(sorted(set(alert_ids))))
    )
    async with db.read() as session:
        return {int(a): int(b) for a, b in (await session.exec(query)).all() if a is not None}


@dataclass(frozen=True, slots=True)
class GroupList:
    """A group's member list: where its warning is, where the list's first message was posted
    (if it was), the later messages drawn (``ts`` and ``digest`` of each), and the members."""

    anchor_id: int
    list_channel_id: str | None
    list_ts: str | None
    list_more: tuple[dict[str, str], ...]
    summary: GroupSummary


async def group_list_of(db: Database, *, group_id: int) -> GroupList | None:
    async with db.read() as session:
        group = await session.get(AlertGroupRow, group_id)
        found = await summary(session, group_id)
    if group is None or found is None:
        return None
    drawn = tuple(dict(entry) for entry in group.list_more)
    return GroupList(group.anchor_id, group.list_channel_id, group.list_ts, drawn, found)


async def record_list_message(db: Database, *, group_id: int, channel_id: str, ts: str) -> None:
    async with db.write() as session:
        group = await session.get(AlertGroupRow, group_id)
        if group is not None:
            group.list_channel_id, group.list_ts = channel_id, ts
            session.add(group)


async def record_list_page(db: Database, *, group_id: int, page: int, ts: str, digest: str) -> None:
    """A later message of the member list (``page`` 1, 2, …) posted or redrawn."""
    async with db.write() as session:
        group = await session.get(AlertGroupRow, group_id)
        if group is None or page < 1 or page - 1 > len(group.list_more):
            return
        pages = [dict(entry) for entry in group.list_more]
        entry = {"ts": ts, "digest": digest}
        if page - 1 < len(pages):
            pages[page - 1] = entry
        else:
            pages.append(entry)
        group.list_more = pages  # a new list, so the JSON column is written
        session.add(group)


async def enqueue_list_page(db: Database, *, group_id: int, page: int, now: datetime) -> None:
    """Queue the drawing of the member list's message ``page``."""
    async with db.write() as session:
        group = await session.get(AlertGroupRow, group_id)
        if group is not None:
            await enqueue_list(session, group, now=now, page=page)
