"""Escalation over real HTTP with a fake clock: tiers paged by DM, approval by a manager
(and refused for anyone else), owners reminded and escalated past when they miss the
deadline, snoozes — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot.slack import ids
from storage.tables import AlertEventRow
from tests.support.databases import database
from tests.support.harness import FakeClock, Harness, running_tocsin

POLICY = """
levels:
  1: {name: critical, emoji: ":red_circle:", ack_within: 5m, resolve_within: 4h}
  2: {name: major, emoji: ":large_orange_circle:", ack_within: 30m, resolve_within: 1h}
  3: {name: minor, emoji: ":large_blue_circle:"}
integrations:
  - {name: generic, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}"}
default_route: {team: ops, channel: "#alerts", policy: default}
teams:
  ops: {timezone: Europe/Berlin}
people:
  U0ALICE: {name: Alice}
  U0DAVE: {name: Dave, roles: [approver]}
policies:
  default:
    tiers:
      - {notify: [{user: U0ALICE}], after: 0m}
      - {notify: [{user: U0BOB}, {channel: "#managers"}], after: 10m}
      - {notify: [{user: U0CAROL}], after: 20m, requires_approval: true}
    approvers: [U0DAVE]
    approval_timeout: 15m
    on_timeout: deny
    remind_every: 30m
    stand_down_needs_approval: true
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


async def fire(tocsin: Harness, title: str = "Orders stuck", level: int = 2) -> str:
    response = await tocsin.webhook("generic", {"title": title, "level": level})
    assert response.status_code == 202
    [message] = await tocsin.wait_for_messages(1)
    return message.ts


async def step(tocsin: Harness, **advance: float) -> int:
    """Move the clock and run the escalation engine once, as its timer would."""
    clock(tocsin).advance(**advance)
    return await tocsin.service.engine.drain()


async def wait_dm(tocsin: Harness, user: str, needle: str, count: int = 1) -> None:
    await tocsin.world.wait_for(
        lambda: sum(needle in json.dumps(m.blocks) + m.text for m in tocsin.dms(user)) >= count,
        timeout=10,
    )


async def rules(tocsin: Harness) -> list[str]:
    async with tocsin.service.db.read() as session:
        return list((await session.exec(select(AlertEventRow.rule))).all())


async def test_tiers_are_paged_in_order_and_a_manager_approves_the_top_tier(
    tocsin: Harness,
) -> None:
    await fire(tocsin)
    assert await step(tocsin, seconds=0) == 0  # tier 1 (after 0 s) paged as the alert opened
    await wait_dm(tocsin, "U0ALICE", "tier 1")

    assert await step(tocsin, minutes=5) == 0  # tier 2 is not due yet
    assert await step(tocsin, minutes=5) == 1
    await wait_dm(tocsin, "U0BOB", "tier 2")
    await tocsin.world.wait_for(lambda: bool(tocsin.channel_messages("#managers")))

    assert await step(tocsin, minutes=20) == 1  # tier 3 needs approval
    await wait_dm(tocsin, "U0DAVE", ids.APPROVE)
    [request] = tocsin.dms("U0DAVE")
    assert tocsin.dms("U0CAROL") == []

    # someone who is not an approver is refused, privately, and it is kept in the timeline
    await tocsin.driver.press_button(
        channel=request.channel, ts=request.ts, action_id=ids.APPROVE, user="U0BOB"
    )
    await tocsin.world.wait_for(
        lambda: any("not allowed" in e.text for e in tocsin.world.ephemerals_for("U0BOB"))
    )
    assert "AUTH-1" in await rules(tocsin)
    assert tocsin.dms("U0CAROL") == []

    await tocsin.driver.press_button(
        channel=request.channel, ts=request.ts, action_id=ids.APPROVE, user="U0DAVE"
    )
    await wait_dm(tocsin, "U0CAROL", "tier 3")
    await tocsin.world.wait_for(lambda: "approved by" in json.dumps(tocsin.dms("U0DAVE")[0].blocks))
    timeline = await rules(tocsin)
    assert timeline.count("STEP-1") == 2
    assert "APPROVAL-1" in timeline
    assert "APPROVE-1" in timeline


async def test_denied_escalation_keeps_the_current_tier_and_says_why(tocsin: Harness) -> None:
    await fire(tocsin)
    assert await step(tocsin, seconds=0) == 0  # tier 1 paged as the alert opened
    assert await step(tocsin, minutes=10) == 1
    assert await step(tocsin, minutes=20) == 1
    await wait_dm(tocsin, "U0DAVE", ids.DENY)
    [request] = tocsin.dms("U0DAVE")
    await tocsin.driver.press_button(
        channel=request.channel, ts=request.ts, action_id=ids.DENY, user="U0DAVE"
    )
    await tocsin.world.wait_for(lambda: bool(tocsin.world.open_views("U0DAVE")))
    [view] = tocsin.world.open_views("U0DAVE")
    await tocsin.driver.submit_view(
        view_id=view.id,
        user="U0DAVE",
        values={ids.REASON_BLOCK: {ids.REASON_ACTION: "Bob is handling it"}},
    )
    await tocsin.world.wait_for(lambda: "denied by" in json.dumps(tocsin.dms("U0DAVE")[0].blocks))
    assert await step(tocsin, hours=3) == 0  # held: nothing more is paged
    assert tocsin.dms("U0CAROL") == []
    assert "DENY-1" in await rules(tocsin)


async def test_an_owner_is_reminded_and_escalated_past_when_the_deadline_passes(
    tocsin: Harness,
) -> None:
    ts = await fire(tocsin)
    await step(tocsin, seconds=0)
    [warning] = tocsin.channel_messages()
    await tocsin.driver.press_button(
        channel=warning.channel, ts=ts, action_id=ids.CLAIM, user="U0ALICE"
    )
    await tocsin.world.wait_for(lambda: "owner <@U0ALICE>" in json.dumps(warning.blocks))
    assert await step(tocsin, minutes=10) == 0  # claimed: tier 2 is not paged
    assert tocsin.dms("U0BOB") == []

    assert await step(tocsin, minutes=20) == 1  # 30 min after the claim: a reminder
    await wait_dm(tocsin, "U0ALICE", "Reminder")

    assert await step(tocsin, minutes=30) == 1  # 1 h after the claim: deadline missed
    await wait_dm(tocsin, "U0BOB", "tier 2")
    assert "OWNER-LATE-1" in await rules(tocsin)


async def test_a_snoozed_alert_comes_back_when_the_snooze_ends(tocsin: Harness) -> None:
    ts = await fire(tocsin)
    await step(tocsin, seconds=0)
    await wait_dm(tocsin, "U0ALICE", "tier 1")
    [warning] = tocsin.channel_messages()
    await tocsin.driver.select_option(
        channel=warning.channel, ts=ts, action_id=ids.SNOOZE, user="U0ALICE", value="60"
    )
    await tocsin.world.wait_for(lambda: "*Snoozed* until" in json.dumps(warning.blocks))
    assert await step(tocsin, minutes=30) == 0
    assert await step(tocsin, minutes=30) == 1
    await wait_dm(tocsin, "U0ALICE", "tier 1", count=2)
    assert "SNOOZE-END" in await rules(tocsin)


async def test_only_an_approver_may_stand_down_a_level_1_alert(tocsin: Harness) -> None:
    ts = await fire(tocsin, "Payments down", level=1)
    [warning] = tocsin.channel_messages()
    await tocsin.driver.press_button(
        channel=warning.channel, ts=ts, action_id=ids.RESOLVE, user="U0ALICE"
    )
    await tocsin.world.wait_for(
        lambda: any("needs an approver" in e.text for e in tocsin.world.ephemerals_for("U0ALICE"))
    )
    assert tocsin.world.open_views("U0ALICE") == []
    assert "AUTH-1" in await rules(tocsin)

    await tocsin.driver.press_button(
        channel=warning.channel, ts=ts, action_id=ids.RESOLVE, user="U0DAVE"
    )
    await tocsin.world.wait_for(lambda: bool(tocsin.world.open_views("U0DAVE")))
    [view] = tocsin.world.open_views("U0DAVE")
    await tocsin.driver.submit_view(
        view_id=view.id,
        user="U0DAVE",
        values={
            ids.RESOLVE_NOTE_BLOCK: {ids.RESOLVE_NOTE_ACTION: "Failed over to the standby PSP"},
            ids.RESOLVE_CAUSE_BLOCK: {ids.RESOLVE_CAUSE_ACTION: "third party"},
        },
    )
    await tocsin.world.wait_for(lambda: "*Resolved* by <@U0DAVE>" in json.dumps(warning.blocks))
