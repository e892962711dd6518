"""The record over real HTTP with a fake clock: timeline lines in the alert's thread, the
resolve modal with a follow-up and its reminders, Add note, "last time", /tocsin show and
/tocsin followups — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from bot.sandbox.workspace.models import Message
from bot.slack import ids
from storage.tables import AlertEventRow, AlertRow, FollowUpRow, ResolutionRow
from tests.support.databases import database
from tests.support.harness import FakeClock, Harness, running_tocsin

POLICY = """
levels:
  1: {name: critical, emoji: ":red_circle:"}
  2: {name: major, emoji: ":large_orange_circle:"}
  3: {name: minor, emoji: ":large_blue_circle:"}
integrations:
  - {name: generic, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}"}
default_route: {team: ops, channel: "#alerts", policy: default}
teams:
  ops: {timezone: Europe/Berlin, members: [U0ALICE, U0BOB, U0CAROL]}
root_causes: [capacity, software change, unknown]
policies:
  default:
    tiers:
      - {notify: [{user: U0ALICE}], after: 0m}
      - {notify: [{user: U0BOB}], after: 10m}
last_time: {key_labels: [instance]}
follow_ups: {due_time: "09:00", remind_every: 1d}
"""


@pytest.fixture(params=["sqlite", "postgres"])
async def tocsin(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    async with (
        database(request.param, tmp_path) as url,
        running_tocsin(database_url=url, config_path=policy, clock=FakeClock()) as harness,
    ):
        yield harness


def clock(tocsin: Harness) -> FakeClock:
    assert isinstance(tocsin.service.clock, FakeClock)
    return tocsin.service.clock


def text_of(message: Message) -> str:
    return json.dumps(message.blocks) + message.text


async def fire(tocsin: Harness, payload: dict[str, Any], count: int = 1) -> Any:
    response = await tocsin.webhook("generic", payload)
    assert response.status_code == 202, response.text
    messages = await tocsin.wait_for_messages(count)
    return messages[count - 1]


def replies(tocsin: Harness, warning: Any) -> list[str]:
    return [m.text for m in tocsin.thread(tocsin.world.message(warning.channel, warning.ts))]


async def wait_reply(tocsin: Harness, warning: Any, needle: str) -> str:
    await tocsin.world.wait_for(
        lambda: any(needle in r for r in replies(tocsin, warning)), timeout=10
    )
    return next(r for r in replies(tocsin, warning) if needle in r)


async def resolve(tocsin: Harness, warning: Any, user: str, values: dict[str, Any]) -> Any:
    await tocsin.driver.press_button(
        channel=warning.channel, ts=warning.ts, action_id=ids.RESOLVE, user=user
    )
    await tocsin.world.wait_for(lambda: bool(tocsin.world.open_views(user)))
    [view] = tocsin.world.open_views(user)
    return await tocsin.driver.submit_view(view_id=view.id, user=user, values=values)


def resolve_values(note: str, cause: str = "capacity", **more: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        ids.RESOLVE_NOTE_BLOCK: {ids.RESOLVE_NOTE_ACTION: note},
        ids.RESOLVE_CAUSE_BLOCK: {ids.RESOLVE_CAUSE_ACTION: cause},
    }
    fields = {
        "follow_up": (ids.RESOLVE_FOLLOW_UP_BLOCK, ids.RESOLVE_FOLLOW_UP_ACTION),
        "owner": (ids.RESOLVE_FOLLOW_UP_OWNER_BLOCK, ids.RESOLVE_FOLLOW_UP_OWNER_ACTION),
        "due": (ids.RESOLVE_FOLLOW_UP_DUE_BLOCK, ids.RESOLVE_FOLLOW_UP_DUE_ACTION),
        "notes": (ids.RESOLVE_NOTES_BLOCK, ids.RESOLVE_NOTES_ACTION),
    }
    for name, value in more.items():
        block, action = fields[name]
        values[block] = {action: value}
    return values


async def timeline(tocsin: Harness) -> list[tuple[str, str]]:
    async with tocsin.service.db.read() as session:
        rows = (await session.exec(select(AlertEventRow).order_by(col(AlertEventRow.id)))).all()
    return [(row.kind, row.rule) for row in rows]


async def test_the_thread_tells_the_story_and_sums_up_repeats_instead_of_repeating(
    tocsin: Harness,
) -> None:
    payload = {"title": "Orders stuck", "fingerprint": "orders-1", "level": 2}
    warning = await fire(tocsin, payload)
    assert await tocsin.service.engine.drain() == 0  # tier 1 paged as the alert opened
    paged = await wait_reply(tocsin, warning, "STEP-1")
    assert "<@U0ALICE>" in paged  # the page's line names (and notifies) who it reached

    for _ in range(3):
        await tocsin.webhook("generic", payload)
    await tocsin.world.wait_for(lambda: "Fired 4 times" in text_of(warning), timeout=10)
    assert len(replies(tocsin, warning)) == 1  # only the page line: repeats add no replies

    await tocsin.driver.press_button(
        channel=warning.channel, ts=warning.ts, action_id=ids.ACKNOWLEDGE, user="U0BOB"
    )
    acked = await wait_reply(tocsin, warning, "ACK-1")
    assert "fired again 3 times (4 in all)" in acked
    assert "acknowledged by <@U0BOB>" in acked

    await resolve(tocsin, warning, "U0BOB", resolve_values("Restarted the consumer"))
    resolved = await wait_reply(tocsin, warning, "RESOLVE-1")
    assert "resolved by <@U0BOB> (capacity)" in resolved
    assert "fired again" not in resolved

    kinds = [kind for kind, _ in await timeline(tocsin)]
    assert kinds[:3] == ["fired", "graded", "routed"]
    for kind in ("posted", "paged", "refired", "acknowledged", "resolved"):
        assert kind in kinds
    assert kinds.count("refired") == 3


async def test_a_user_note_cannot_ring_the_channel_from_the_thread(tocsin: Harness) -> None:
    warning = await fire(tocsin, {"title": "Cache cold", "level": 3})
    await resolve(tocsin, warning, "U0ALICE", resolve_values("Warmed it", notes="<!here>"))
    line = await wait_reply(tocsin, warning, "RESOLVE-1")
    assert "<!here>" not in line
    assert "&lt;!here&gt;" in line


async def test_resolve_with_a_follow_up_reminds_its_owner_daily_until_done(
    tocsin: Harness,
) -> None:
    warning = await fire(tocsin, {"title": "Disk full", "labels": {"instance": "db-1"}})
    berlin = ZoneInfo("Europe/Berlin")
    tomorrow = (clock(tocsin)().astimezone(berlin) + timedelta(days=1)).date()
    await resolve(
        tocsin,
        warning,
        "U0ALICE",
        resolve_values(
            "Deleted old WAL files",
            follow_up="Add disk usage alert at 80%",
            owner="U0CAROL",
            due=tomorrow.isoformat(),
            notes="Happened during the backup window",
        ),
    )
    line = await wait_reply(tocsin, warning, "FOLLOWUP-1")
    assert "follow-up #1 for <@U0CAROL>" in line
    assert "NOTE-1" in line
    async with tocsin.service.db.read() as session:
        [follow_up] = (await session.exec(select(FollowUpRow))).all()
    assert follow_up.owner == "U0CAROL"
    assert follow_up.created_by == "U0ALICE"
    assert follow_up.due_at.astimezone(berlin).date() == tomorrow
    assert follow_up.due_at.astimezone(berlin).hour == 9

    listing = await tocsin.driver.slash_command(text="followups", user="U0BOB")
    assert listing.status_code == 200
    await tocsin.world.wait_for(
        lambda: any("Add disk usage alert" in e.text for e in tocsin.world.ephemerals_for("U0BOB"))
    )

    reminders = tocsin.service.follow_ups
    assert reminders is not None
    assert await reminders.drain() == 0  # not due yet
    until_due = follow_up.due_at - clock(tocsin)()
    clock(tocsin).advance(seconds=until_due.total_seconds() + 60)
    assert await reminders.drain() == 1
    await tocsin.world.wait_for(
        lambda: any("Follow-up #1" in m.text for m in tocsin.dms("U0CAROL")), timeout=10
    )
    assert await reminders.drain() == 0  # once per day
    clock(tocsin).advance(hours=23)
    assert await reminders.drain() == 0
    clock(tocsin).advance(hours=1)
    assert await reminders.drain() == 1
    await tocsin.world.wait_for(lambda: len(tocsin.dms("U0CAROL")) == 2, timeout=10)
    assert "overdue by 1 day" in text_of(tocsin.dms("U0CAROL")[1])

    dm = tocsin.dms("U0CAROL")[1]
    await tocsin.driver.press_button(
        channel=dm.channel, ts=dm.ts, action_id=ids.FOLLOW_UP_DONE, user="U0CAROL"
    )
    await tocsin.world.wait_for(
        lambda: "done by <@U0CAROL>" in text_of(tocsin.world.message(dm.channel, dm.ts)),
        timeout=10,
    )
    await wait_reply(tocsin, warning, "FOLLOWUP-DONE")
    clock(tocsin).advance(days=3)
    assert await reminders.drain() == 0  # done: no more reminders
    await tocsin.driver.slash_command(text="followups", user="U0BOB")
    await tocsin.world.wait_for(
        lambda: any("No open follow-ups" in e.text for e in tocsin.world.ephemerals_for("U0BOB"))
    )


async def test_a_follow_up_without_owner_or_date_is_refused_on_the_modal(tocsin: Harness) -> None:
    warning = await fire(tocsin, {"title": "Queue slow"})
    response = await resolve(
        tocsin, warning, "U0ALICE", resolve_values("Scaled up", follow_up="Autoscale it")
    )
    errors = response.json()["errors"]
    assert set(errors) == {ids.RESOLVE_FOLLOW_UP_OWNER_BLOCK, ids.RESOLVE_FOLLOW_UP_DUE_BLOCK}
    [view] = tocsin.world.open_views("U0ALICE")
    response = await tocsin.driver.submit_view(
        view_id=view.id,
        user="U0ALICE",
        values=resolve_values(
            "Scaled up", follow_up="Autoscale it", owner="U0BOB", due="2001-01-01"
        ),
    )
    assert response.json()["errors"] == {
        ids.RESOLVE_FOLLOW_UP_DUE_BLOCK: "Pick today or a later day."
    }
    async with tocsin.service.db.read() as session:
        assert (await session.exec(select(ResolutionRow))).all() == []


async def test_add_note_annotates_a_resolution_by_the_source(tocsin: Harness) -> None:
    payload = {"title": "Latency high", "fingerprint": "lat-1"}
    warning = await fire(tocsin, payload)
    await tocsin.webhook("generic", {**payload, "status": "resolved"})
    await tocsin.world.wait_for(lambda: "*Resolved* by the source" in text_of(warning))
    assert ids.ADD_NOTE in text_of(warning)

    await tocsin.driver.press_button(
        channel=warning.channel, ts=warning.ts, action_id=ids.ADD_NOTE, user="U0DAVE"
    )
    await tocsin.world.wait_for(
        lambda: any("may add notes" in e.text for e in tocsin.world.ephemerals_for("U0DAVE"))
    )
    assert ("refused", "AUTH-1") in await timeline(tocsin)

    await tocsin.driver.press_button(
        channel=warning.channel, ts=warning.ts, action_id=ids.ADD_NOTE, user="U0BOB"
    )
    await tocsin.world.wait_for(lambda: bool(tocsin.world.open_views("U0BOB")))
    [view] = tocsin.world.open_views("U0BOB")
    await tocsin.driver.submit_view(
        view_id=view.id,
        user="U0BOB",
        values={
            ids.NOTE_BLOCK: {ids.NOTE_ACTION: "A noisy neighbour on the host; moved the VM"},
            ids.NOTE_CAUSE_BLOCK: {ids.NOTE_CAUSE_ACTION: "capacity"},
        },
    )
    await tocsin.world.wait_for(lambda: "moved the VM" in text_of(warning), timeout=10)
    assert "*What was done*" in text_of(warning)
    await wait_reply(tocsin, warning, "NOTE-1")
    async with tocsin.service.db.read() as session:
        [record] = (await session.exec(select(ResolutionRow))).all()
    assert record.by_source
    assert record.note == "A noisy neighbour on the host; moved the VM"
    assert record.root_cause == "capacity"


async def test_last_time_shows_the_previous_resolution_and_the_30_day_count(
    tocsin: Harness,
) -> None:
    first = await fire(
        tocsin, {"title": "Disk full", "fingerprint": "a-1", "labels": {"instance": "db-1"}}
    )
    await resolve(tocsin, first, "U0ALICE", resolve_values("Grew the volume"))
    await tocsin.world.wait_for(lambda: "*Resolved*" in text_of(first))
    clock(tocsin).advance(days=3)
    # another fingerprint, same alert name and key label: the same problem
    second = await fire(
        tocsin,
        {"title": "Disk full", "fingerprint": "b-2", "labels": {"instance": "db-1"}},
        count=2,
    )
    text = text_of(second)
    assert "*Last time*" in text
    assert "resolved by <@U0ALICE>" in text
    assert "Grew the volume" in text
    assert "capacity" in text
    assert "*Fired 2 times* in the last 30 days" in text
    async with tocsin.service.db.read() as session:
        earlier = (await session.exec(select(AlertRow).where(AlertRow.fingerprint == "a-1"))).one()
    assert f"/tocsin show {earlier.id}" in text

    other = await fire(
        tocsin,
        {"title": "Disk full", "fingerprint": "c-3", "labels": {"instance": "db-2"}},
        count=3,
    )
    assert "Last time" not in text_of(other)


async def test_show_answers_privately_with_the_whole_timeline(tocsin: Harness) -> None:
    warning = await fire(tocsin, {"title": "Payments slow", "level": 2})
    await tocsin.driver.press_button(
        channel=warning.channel, ts=warning.ts, action_id=ids.CLAIM, user="U0ALICE"
    )
    await wait_reply(tocsin, warning, "CLAIM-1")
    async with tocsin.service.db.read() as session:
        [alert] = (await session.exec(select(AlertRow))).all()
    await tocsin.driver.slash_command(text=f"show {alert.id}", user="U0CAROL")
    await tocsin.world.wait_for(lambda: bool(tocsin.world.ephemerals_for("U0CAROL")))
    [answer] = tocsin.world.ephemerals_for("U0CAROL")
    shown = json.dumps(answer.blocks)
    for rule in ("FIRE-1", "GRADE-1", "ROUTE-1", "POST-1", "CLAIM-1"):
        assert rule in shown
    assert "Payments slow" in shown

    await tocsin.driver.slash_command(text="show 999", user="U0CAROL")
    await tocsin.world.wait_for(
        lambda: any("no alert #999" in e.text for e in tocsin.world.ephemerals_for("U0CAROL"))
    )
