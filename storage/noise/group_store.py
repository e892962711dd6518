"""Alert groups in the database: open, join, hand the escalation over, resolve, summarise."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from escalation.events import AlertState, Transition
from escalation.model import GroupMember, GroupSummary, Status
from escalation.noise.grouping import as_member, take_lead
from storage.alerts import policy_of, state_of
from storage.effects import persist_transition
from storage.outbox import enqueue
from storage.tables import AlertGroupRow, AlertRow

GROUP_LIST = "group_list"
"""Outbox kind: post or update the thread message listing a group's members."""


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
    await enqueue(
        session,
        key=f"group:{group.id}:list:{uuid.uuid4().hex}",
        alert_id=group.anchor_id,
        kind=GROUP_LIST,
        payload={"group": group.id, **({"page": page} if page else {})},
        now=now,
    )


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


async def record_list_message(
    session: AsyncSession, group_id: int, *, channel_id: str, ts: str
) -> None:
    group = await session.get(AlertGroupRow, group_id)
    if group is not None:
        group.list_channel_id, group.list_ts = channel_id, ts
        session.add(group)


async def record_list_page(
    session: AsyncSession, group_id: int, *, page: int, ts: str, digest: str
) -> None:
    """A later message of the member list (``page`` 1, 2, …) posted or redrawn."""
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
