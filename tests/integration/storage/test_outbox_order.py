"""The outbox's claim order, on SQLite and PostgreSQL: order is kept where a reader sees it
(one person's pages of one alert, one warning's edits) and nowhere else — a page never waits
for its alert's channel — and the most urgent rows are claimed first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from config.settings import async_url
from escalation.model import AlertEvent, SourceStatus
from escalation.outbox_kinds import (
    GroupListPayload,
    NoPayload,
    OutboxKind,
    OutboxPayload,
    page_dm,
    thread_lines,
)
from escalation.policy import NO_POLICY
from escalation.state import open_alert
from storage import outbox
from storage.alerts import new_row
from storage.db import Database
from storage.noise import storms
from storage.tables import StormMemberRow
from tests.support.databases import database

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with database(request.param, tmp_path) as url:
        db = Database(async_url(url))
        await db.upgrade()
        try:
            yield db
        finally:
            await db.dispose()


async def new_alert(db: Database, name: str, *, level: int = 2, channel: str = "#alerts") -> int:
    event = AlertEvent(fingerprint=name, status=SourceStatus.FIRING, title=name, source="s")
    tr = open_alert(fired_at=NOW, policy=NO_POLICY, now=NOW)
    row = new_row(
        event,
        tr.state,
        integration="generic",
        level=level,
        grade_reason="test",
        team="ops",
        channel=channel,
        policy=NO_POLICY,
    )
    async with db.write() as session:
        session.add(row)
        await session.flush()
        assert row.id is not None
        return row.id


async def add(db: Database, alert_id: int, kind: OutboxKind, payload: OutboxPayload) -> int:
    async with db.write() as session:
        await outbox.enqueue(
            session,
            key=f"{alert_id}:{kind}:{id(payload)}",
            kind=kind,
            alert_id=alert_id,
            payload=payload,
            now=NOW,
        )
    rows = await outbox.pending_of(db, alert_id, kind, after_id=0)
    return rows[-1][0]


def page(tier: int, user: str = "U0ALICE") -> OutboxPayload:
    return page_dm(tier=tier, cycle=0, rule="STEP-1", user=user)


async def test_a_page_goes_while_its_alerts_warning_waits_but_tier_2_waits_for_tier_1(
    db: Database,
) -> None:
    alert = await new_alert(db, "a")
    warning = await add(db, alert, OutboxKind.POST_WARNING, NoPayload())
    tier_1 = await add(db, alert, OutboxKind.PAGE_DM, page(0))
    tier_2 = await add(db, alert, OutboxKind.PAGE_DM, page(1, "U0BOB"))

    [first] = await outbox.claim_due(db, now=NOW)
    assert first.id == warning  # picked up first, so that a storm could fold the page too
    # the warning's channel is busy: it goes back, and the pages go on without it
    await outbox.defer(db, [warning], at=NOW.replace(hour=13))
    [second] = await outbox.claim_due(db, now=NOW)
    assert second.id == tier_1
    await outbox.mark_done(db, [tier_1], now=NOW)
    [third] = await outbox.claim_due(db, now=NOW)
    assert third.id == tier_2


async def test_pages_come_first_then_new_warnings_by_level_then_edits_then_thread_lines(
    db: Database,
) -> None:
    lines = await add(
        db,
        await new_alert(db, "old-lines"),
        OutboxKind.THREAD_LINES,
        thread_lines(rule="R", text="x", now=NOW, notes=[]),
    )
    edit = await add(db, await new_alert(db, "old-edit"), OutboxKind.UPDATE_WARNING, NoPayload())
    listing = await add(
        db, await new_alert(db, "old-list"), OutboxKind.GROUP_LIST, GroupListPayload(group=1)
    )
    minor = await add(
        db, await new_alert(db, "minor", level=3), OutboxKind.POST_WARNING, NoPayload()
    )
    critical = await add(
        db, await new_alert(db, "critical", level=1), OutboxKind.POST_WARNING, NoPayload()
    )
    paged = await add(db, await new_alert(db, "paged", level=3), OutboxKind.PAGE_DM, page(0))

    claimed = await outbox.claim_due(db, now=NOW)
    assert [c.id for c in claimed] == [paged, critical, minor, edit, lines, listing]


async def test_a_level_1_warning_overtakes_a_backlog_larger_than_one_claim(db: Database) -> None:
    backlog = [await new_alert(db, f"minor-{n}", level=3) for n in range(5)]
    for alert in backlog:
        await add(db, alert, OutboxKind.POST_WARNING, NoPayload())
    critical = await add(
        db, await new_alert(db, "critical", level=1), OutboxKind.POST_WARNING, NoPayload()
    )
    [first] = await outbox.claim_due(db, now=NOW, limit=1)
    assert first.id == critical


async def test_channel_rows_of_a_storming_channel_come_last_but_its_pages_do_not(
    db: Database,
) -> None:
    stormy_warning = await add(
        db, await new_alert(db, "storm-1", level=1), OutboxKind.POST_WARNING, NoPayload()
    )
    stormy_page = await add(db, await new_alert(db, "storm-2"), OutboxKind.PAGE_DM, page(0))
    claimed = await outbox.claim_due(db, now=NOW, last=["#alerts"])
    assert [c.id for c in claimed] == [stormy_page, stormy_warning]


async def test_a_claim_leaves_out_the_channel_rows_of_a_waiting_lane_but_not_its_pages(
    db: Database,
) -> None:
    waiting = await new_alert(db, "busy", level=1)
    waiting_warning = await add(db, waiting, OutboxKind.POST_WARNING, NoPayload())
    waiting_page = await add(db, await new_alert(db, "busy-2"), OutboxKind.PAGE_DM, page(0))
    elsewhere = await new_alert(db, "quiet", level=3, channel="#db-alerts")
    elsewhere_warning = await add(db, elsewhere, OutboxKind.POST_WARNING, NoPayload())

    claimed = await outbox.claim_due(db, now=NOW, skip=["#alerts"])

    assert [c.id for c in claimed] == [waiting_page, elsewhere_warning]
    assert [c.id for c in await outbox.claim_due(db, now=NOW)] == [waiting_warning]


SHARE = outbox.StormShare(
    channels=["#alerts"],
    kinds={OutboxKind.POST_WARNING, OutboxKind.PAGE_DM},
    member_kinds={OutboxKind.UPDATE_WARNING, OutboxKind.THREAD_LINES},
)


async def test_a_storm_s_rows_are_taken_oldest_first_each_after_its_stream_s_earlier_rows(
    db: Database,
) -> None:
    """What the sender folds into a storm apart from its claims: the storming channel's
    rows of the kinds asked for, by age and not by level (the storm folds them all), never
    another channel's; a page still waits for its alert's warning to be picked up."""
    calm = await new_alert(db, "calm", channel="#db-alerts")
    await add(db, calm, OutboxKind.POST_WARNING, NoPayload())
    minor = await new_alert(db, "storm-minor", level=3)
    minor_warning = await add(db, minor, OutboxKind.POST_WARNING, NoPayload())
    minor_page = await add(db, minor, OutboxKind.PAGE_DM, page(0))
    await add(db, minor, OutboxKind.PAGE_WEBHOOK, NoPayload())  # not a kind asked for
    critical = await new_alert(db, "storm-critical", level=1)
    critical_warning = await add(db, critical, OutboxKind.POST_WARNING, NoPayload())

    def take(limit: int = 10) -> Any:
        return outbox.claim_storm_rows(db, SHARE, now=NOW, limit=limit)

    assert [c.id for c in await take()] == [minor_warning, critical_warning]
    # the warning was picked up: its page may go now; the rest are leased or not asked for
    assert [c.id for c in await take()] == [minor_page]
    assert await take() == []


async def test_a_storm_s_rows_are_taken_no_more_than_asked(db: Database) -> None:
    alerts = [await new_alert(db, f"storm-{n}", level=3) for n in range(3)]
    warnings = [await add(db, a, OutboxKind.POST_WARNING, NoPayload()) for a in alerts]
    taken = await outbox.claim_storm_rows(db, SHARE, now=NOW, limit=2)
    assert [c.id for c in taken] == warnings[:2]
    # leased as a claim leases: a first attempt, not in doubt before it
    assert all(c.attempts == 1 and not c.in_doubt and c.channel == "#alerts" for c in taken)
    [rest] = await outbox.claim_due(db, now=NOW)  # the two taken are leased
    assert rest.id == warnings[2]


async def test_a_storm_takes_the_edits_and_lines_of_its_members_only(db: Database) -> None:
    """An alert whose warning was posted before the storm keeps its edits for that warning
    (in the claims' order); a member's edits are the storm's to fold."""
    before = await new_alert(db, "before-the-storm")
    member = await new_alert(db, "member")
    storm = await storms.open_storm(db, "#alerts", now=NOW)
    async with db.write() as session:
        session.add(
            StormMemberRow(alert_id=member, storm_id=storm.id, level=2, name="m", joined_at=NOW)
        )
    await add(db, before, OutboxKind.UPDATE_WARNING, NoPayload())
    member_edit = await add(db, member, OutboxKind.UPDATE_WARNING, NoPayload())
    taken = await outbox.claim_storm_rows(db, SHARE, now=NOW, limit=10)
    assert [c.id for c in taken] == [member_edit]
