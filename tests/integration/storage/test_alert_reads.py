"""The reads the Slack listeners call instead of opening sessions: the open alerts for
``/tocsin list``, an alert in brief, an alert with its timeline — SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config.settings import async_url
from escalation.model import AlertEvent, LevelSpec, SourceStatus, Status
from escalation.policy import NO_POLICY
from escalation.state import open_alert
from storage.alerts import alert_brief, new_row, open_alerts, read_view
from storage.db import Database
from storage.timeline import add_line, view_and_timeline
from tests.support.databases import database

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
LEVELS = {2: LevelSpec(number=2, name="Major", emoji=":large_orange_circle:")}


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with database(request.param, tmp_path) as url:
        db = Database(async_url(url))
        await db.upgrade()
        try:
            yield db
        finally:
            await db.dispose()


async def add_alert(
    db: Database, *, fingerprint: str, level: int, fired_at: datetime, resolved: bool = False
) -> int:
    event = AlertEvent(
        fingerprint=fingerprint,
        status=SourceStatus.FIRING,
        title=f"title {fingerprint}",
        source="s",
        labels={"service": fingerprint},
    )
    tr = open_alert(fired_at=fired_at, policy=NO_POLICY, now=fired_at)
    row = new_row(
        event,
        tr.state,
        integration="generic",
        level=level,
        grade_reason="test",
        team="ops",
        channel="#alerts",
        policy=NO_POLICY,
    )
    if resolved:
        row.status = Status.RESOLVED.value
        row.resolved_at = fired_at + timedelta(minutes=5)
    async with db.write() as session:
        session.add(row)
        await session.flush()
        assert row.id is not None
        return row.id


async def test_open_alerts_are_the_unresolved_ones_most_severe_first_then_oldest(
    db: Database,
) -> None:
    minute = timedelta(minutes=1)
    late_major = await add_alert(db, fingerprint="a", level=2, fired_at=NOW)
    early_major = await add_alert(db, fingerprint="b", level=2, fired_at=NOW - 10 * minute)
    critical = await add_alert(db, fingerprint="c", level=1, fired_at=NOW - minute)
    await add_alert(db, fingerprint="d", level=1, fired_at=NOW - 20 * minute, resolved=True)

    found = await open_alerts(db, limit=25)
    assert [a.id for a in found] == [critical, early_major, late_major]
    assert [a.id for a in await open_alerts(db, limit=2)] == [critical, early_major]
    first = found[0]
    assert (first.status, first.level, first.title, first.team, first.channel, first.owner) == (
        Status.FIRING,
        1,
        "title c",
        "ops",
        "#alerts",
        None,
    )
    assert first.labels == {"service": "c"}
    assert first.fingerprint == "c"


async def test_an_alert_in_brief_or_none_when_there_is_no_such_alert(db: Database) -> None:
    resolved = await add_alert(db, fingerprint="r", level=3, fired_at=NOW, resolved=True)
    brief = await alert_brief(db, alert_id=resolved)
    assert brief is not None
    assert (brief.id, brief.status, brief.team) == (resolved, Status.RESOLVED, "ops")
    assert await alert_brief(db, alert_id=resolved + 1000) is None


async def test_an_alert_with_its_timeline_read_together_oldest_line_first(db: Database) -> None:
    alert_id = await add_alert(db, fingerprint="t", level=2, fired_at=NOW)
    async with db.write() as session:
        for n in (1, 2):
            await add_line(
                session,
                alert_id=alert_id,
                rule="NOTE-1",
                actor="U0ME",
                summary=f"note {n}",
                now=NOW + timedelta(minutes=n),
            )

    found = await view_and_timeline(db, alert_id=alert_id, levels=LEVELS, recent_days=30)
    assert found is not None
    view, timeline = found
    assert (view.id, view.level.name, view.recent_days) == (alert_id, "Major", 30)
    assert [line.summary for line in timeline] == ["note 1", "note 2"]
    assert await view_and_timeline(db, alert_id=alert_id + 1, levels=LEVELS, recent_days=30) is None
    same = await read_view(db, alert_id=alert_id, levels=LEVELS, recent_days=30)
    assert same == view
