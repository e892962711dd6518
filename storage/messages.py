"""Where each alert's warning lives in Slack."""

from __future__ import annotations

from datetime import datetime

from storage.db import Database
from storage.tables import AlertEventRow, SlackMessageRow


async def find_message(db: Database, alert_id: int) -> SlackMessageRow | None:
    async with db.read() as session:
        return await session.get(SlackMessageRow, alert_id)


async def record_posted(
    db: Database, *, alert_id: int, channel_id: str, ts: str, now: datetime
) -> None:
    async with db.write() as session:
        session.add(SlackMessageRow(alert_id=alert_id, channel_id=channel_id, ts=ts, posted_at=now))
        session.add(
            AlertEventRow(
                alert_id=alert_id,
                at=now,
                kind="posted",
                rule="POST-1",
                summary=f"warning posted to <#{channel_id}>",
            )
        )
