"""Approval request messages, kept so they can be updated once the request is decided."""

from __future__ import annotations

from sqlmodel import select

from storage.db import Database
from storage.tables import ApprovalMessageRow


async def record_approval_message(
    db: Database, *, alert_id: int, seq: int, approver: str, channel_id: str, ts: str
) -> None:
    async with db.write() as session:
        session.add(
            ApprovalMessageRow(
                alert_id=alert_id, seq=seq, approver=approver, channel_id=channel_id, ts=ts
            )
        )


async def approval_messages(db: Database, *, alert_id: int, seq: int) -> list[ApprovalMessageRow]:
    async with db.read() as session:
        query = select(ApprovalMessageRow).where(
            ApprovalMessageRow.alert_id == alert_id, ApprovalMessageRow.seq == seq
        )
        return list((await session.exec(query)).all())
