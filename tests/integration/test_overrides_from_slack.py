"""Overrides and swaps from Slack over real HTTP, signed slash commands and button presses
against the fake Slack, on SQLite and PostgreSQL: a cover confirmed sends the next page in its
period to the covering person; swaps accepted, declined and refused; the list and Cancel; the
rules answered privately; every change posted in the rotation's channel."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.sandbox.workspace.models import Ephemeral
from bot.slack import ids
from storage.tables import OnCallOverrideRow
from tests.support.databases import database
from tests.support.harness import FakeClock, Harness, running_tocsin

POLICY = """
levels:
  1: {name: critical}
  2: {name: major}
  3: {name: minor}
integrations:
  - {name: generic, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}"}
default_route: {team: ops, channel: "#alerts", policy: default}
people:
  U0DAVE: {name: Dave, roles: [admin]}
teams:
  ops: {members: [U0ALICE, U0BOB, U0CAROL, U0ERIN]}
rotations:
  primary:
    members: [U0ALICE, U0BOB, U0CAROL]
    timezone: Europe/Berlin
    handoff: "09:00"
    shift: daily
    start: 2026-11-02
    channel: "#ops"
policies:
  default:
    tiers:
      - {notify: [{oncall: primary}], after: 0m}
"""
# Wednesday 2026-12-02 11:00 in Berlin: Alice's day (09:00 CET = 08:00 UTC to the next 08:00)
START = datetime(2026, 12, 2, 10, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
async def tocsin(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    async with (
        database(request.param, tmp_path) as url,
        running_tocsin(database_url=url, config_path=policy, clock=FakeClock(START)) as harness,
    ):
        harness.world.add_user("U0ERIN", "erin", "Erin Evans")
        yield harness


def clock(tocsin: Harness) -> FakeClock:
    assert isinstance(tocsin.service.clock, FakeClock)
    return tocsin.service.clock


async def command(tocsin: Harness, text: str, user: str) -> Ephemeral:
    """Type ``/tocsin text`` and wait for the private answer."""
    before = len(tocsin.world.ephemerals_for(user))
    await tocsin.driver.slash_command(text=text, user=user)
    await tocsin.world.wait_for(lambda: len(tocsin.world.ephemerals_for(user)) > before)
    return tocsin.world.ephemerals_for(user)[-1]


async def press(tocsin: Harness, on: Ephemeral, action_id: str, user: str, **kw: str) -> None:
    response = await tocsin.driver.press_button(
        channel=on.channel, ts=on.ts, action_id=action_id, user=user, **kw
    )
    assert response.status_code == 200, response.text


async def stored(tocsin: Harness) -> list[OnCallOverrideRow]:
    async with tocsin.service.db.read() as session:
        return list((await session.exec(select(OnCallOverrideRow))).all())


async def ops_says(tocsin: Harness, needle: str) -> str:
    await tocsin.world.wait_for(
        lambda: any(needle in m.text for m in tocsin.channel_messages("#ops")), timeout=10
    )
    return next(m.text for m in tocsin.channel_messages("#ops") if needle in m.text)


async def page_goes_to(tocsin: Harness, user: str, *, title: str) -> None:
    before = len(tocsin.channel_messages())
    await tocsin.webhook("generic", {"title": title, "level": 2})
    await tocsin.wait_for_messages(before + 1)
    assert await tocsin.service.engine.drain() == 0  # paged as it opened
    await tocsin.world.wait_for(
        lambda: any(title in json.dumps(m.blocks) + m.text for m in tocsin.dms(user)),
        timeout=10,
    )


async def test_a_confirmed_cover_sends_the_next_page_in_its_period_to_the_covering_person(
    tocsin: Harness,
) -> None:
    preview = await command(tocsin, "cover primary today 18:00 for 4h", "U0BOB")
    assert (
        "You will be on call for *primary* from Wed 2026-12-02 18:00 CET until "
        "Wed 2026-12-02 22:00 CET (4h)" in preview.text
    )
    assert await stored(tocsin) == []  # echoed back, nothing saved before Confirm
    await press(tocsin, preview, ids.COVER_CONFIRM, "U0BOB")
    notice = await ops_says(tocsin, "Override saved")
    assert "<@U0BOB>" in notice
    assert "made by <@U0BOB>" in notice
    await tocsin.world.wait_for(lambda: "Saved override #" in preview.text)
    [row] = await stored(tocsin)
    assert (row.user, row.kind, row.made_by) == ("U0BOB", "cover", "U0BOB")
    assert row.start == datetime(2026, 12, 2, 17, tzinfo=UTC)

    assert "Confirm" not in json.dumps(preview.blocks)  # replaced: no second save

    clock(tocsin).advance(hours=7, minutes=30)  # 18:30 in Berlin
    await page_goes_to(tocsin, "U0BOB", title="Disk full")
    assert tocsin.dms("U0ALICE") == []
    oncall = await command(tocsin, "oncall primary", "U0CAROL")
    assert "<@U0BOB> (override)" in oncall.text


async def test_cancel_dismisses_the_preview_and_saves_nothing(tocsin: Harness) -> None:
    preview = await command(tocsin, "cover primary <@U0CAROL> tomorrow 09:00 for 1d", "U0DAVE")
    assert "<@U0CAROL> will be on call" in preview.text
    await press(tocsin, preview, ids.COVER_DISMISS, "U0DAVE")
    await tocsin.world.wait_for(lambda: preview.text == "Nothing saved.")
    assert await stored(tocsin) == []


@pytest.mark.parametrize(
    ("text", "user", "answer"),
    [
        ("cover primary today 18:00 for 1h", "U0ERIN", "You are not a member of rotation"),
        ("cover primary <@U0ERIN> today 18:00 for 1h", "U0DAVE", "<@U0ERIN> is not a member"),
        ("cover primary <@U0BOB> today 18:00 for 1h", "U0ERIN", "Only members of *primary*"),
        ("cover primary 2026-11-30 for 1d", "U0BOB", "already over"),
        ("cover primary fri 18:00 until 2026-12-03", "U0BOB", "not after its start"),
        ("cover primary tomorrow for 40d", "U0BOB", "longer than 31 days"),
        ("cover primary tomorrow at noon", "U0BOB", "I do not understand `at`"),
        ("cover nightly tomorrow for 1d", "U0BOB", "No rotation *nightly*"),
    ],
)
async def test_the_rules_are_answered_privately_and_nothing_is_saved(
    tocsin: Harness, text: str, user: str, answer: str
) -> None:
    reply = await command(tocsin, text, user)
    assert answer in reply.text
    assert "Confirm" not in json.dumps(reply.blocks)
    assert await stored(tocsin) == []


async def test_an_overlapping_cover_says_the_later_one_wins(tocsin: Harness) -> None:
    first = await command(tocsin, "cover primary today 18:00 for 4h", "U0BOB")
    await press(tocsin, first, ids.COVER_CONFIRM, "U0BOB")
    await ops_says(tocsin, "Override saved")
    second = await command(tocsin, "cover primary today 20:00 for 4h", "U0CAROL")
    assert "It overlaps #" in second.text
    assert "The later override wins" in second.text
    await press(tocsin, second, ids.COVER_CONFIRM, "U0CAROL")
    await tocsin.world.wait_for(lambda: len(tocsin.channel_messages("#ops")) == 2)
    clock(tocsin).advance(hours=11)  # 21:00 in Berlin: both cover it, Carol's is later
    await page_goes_to(tocsin, "U0CAROL", title="Replica lag")
    assert tocsin.dms("U0BOB") == []


async def test_overrides_are_listed_and_cancelled_by_those_allowed(tocsin: Harness) -> None:
    preview = await command(tocsin, "cover primary now for 2h", "U0BOB")
    await press(tocsin, preview, ids.COVER_CONFIRM, "U0BOB")
    await ops_says(tocsin, "Override saved")
    listing = await command(tocsin, "overrides primary", "U0ALICE")
    assert "<@U0BOB>" in json.dumps(listing.blocks)
    assert "made by <@U0BOB>" in json.dumps(listing.blocks)
    [row] = await stored(tocsin)
    before = len(tocsin.world.ephemerals_for("U0ALICE"))
    await press(tocsin, listing, ids.OVERRIDE_CANCEL, "U0ALICE", value=str(row.id))
    await tocsin.world.wait_for(lambda: len(tocsin.world.ephemerals_for("U0ALICE")) > before)
    assert "Only whoever made this override" in tocsin.world.ephemerals_for("U0ALICE")[-1].text
    assert (await stored(tocsin))[0].cancelled_at is None

    mine = await command(tocsin, "overrides", "U0BOB")
    await press(tocsin, mine, ids.OVERRIDE_CANCEL, "U0BOB", value=str(row.id))
    notice = await ops_says(tocsin, "cancelled override")
    assert f"<@U0BOB> cancelled override #{row.id}" in notice
    [cancelled] = await stored(tocsin)
    assert cancelled.cancelled_by == "U0BOB"
    assert cancelled.cancelled_at is not None
    assert cancelled.cancelled_at >= START
    await page_goes_to(tocsin, "U0ALICE", title="Queue backlog")
    assert tocsin.dms("U0BOB") == []
    empty = await command(tocsin, "overrides", "U0BOB")
    assert "No overrides" in empty.text


async def ask_swap(tocsin: Harness, colleague: str) -> None:
    offer = await command(tocsin, "oncall", "U0ALICE")
    assert "Swap with" in json.dumps(offer.blocks)
    response = await tocsin.driver.select_user(
        channel=offer.channel,
        ts=offer.ts,
        action_id=ids.SWAP_ASK,
        user="U0ALICE",
        selected_user=colleague,
    )
    assert response.status_code == 200, response.text


async def test_a_swap_accepted_is_saved_both_are_told_and_the_hand_off_names_the_colleague(
    tocsin: Harness,
) -> None:
    await ask_swap(tocsin, "U0CAROL")
    await tocsin.world.wait_for(lambda: bool(tocsin.dms("U0CAROL")))
    [request] = tocsin.dms("U0CAROL")
    assert "<@U0ALICE> asks you to take their *primary* shift" in request.text
    await tocsin.world.wait_for(
        lambda: "Asked <@U0CAROL>" in tocsin.world.ephemerals_for("U0ALICE")[-1].text
    )
    response = await tocsin.driver.press_button(
        channel=request.channel, ts=request.ts, action_id=ids.SWAP_ACCEPT, user="U0CAROL"
    )
    assert response.status_code == 200
    await tocsin.world.wait_for(lambda: bool(tocsin.dms("U0ALICE")))
    assert "<@U0CAROL> accepted" in tocsin.dms("U0ALICE")[0].text
    await tocsin.world.wait_for(lambda: "You take <@U0ALICE>'s shift" in request.text)
    await ops_says(tocsin, "Override saved")
    [row] = await stored(tocsin)
    assert (row.user, row.kind, row.replaces, row.made_by) == (
        "U0CAROL",
        "swap",
        "U0ALICE",
        "U0ALICE",
    )
    assert row.end == datetime(2026, 12, 3, 8, tzinfo=UTC)  # the end of Alice's shift

    handoffs = tocsin.service.engine._handoffs
    assert handoffs is not None
    assert await handoffs.check() == 1  # the swap began within the last minute
    notice = await ops_says(tocsin, "is now on call")
    assert "<@U0CAROL> is now on call (taking over from <@U0ALICE>)" in notice
    await page_goes_to(tocsin, "U0CAROL", title="Cache misses")


async def test_a_swap_declined_tells_the_asker_and_saves_nothing(tocsin: Harness) -> None:
    await ask_swap(tocsin, "U0BOB")
    await tocsin.world.wait_for(lambda: bool(tocsin.dms("U0BOB")))
    [request] = tocsin.dms("U0BOB")
    response = await tocsin.driver.press_button(
        channel=request.channel, ts=request.ts, action_id=ids.SWAP_DECLINE, user="U0BOB"
    )
    assert response.status_code == 200
    await tocsin.world.wait_for(lambda: bool(tocsin.dms("U0ALICE")))
    assert "<@U0BOB> declined to take your shift" in tocsin.dms("U0ALICE")[0].text
    assert await stored(tocsin) == []


async def test_a_swap_with_someone_outside_the_rotation_is_refused(tocsin: Harness) -> None:
    await ask_swap(tocsin, "U0ERIN")
    await tocsin.world.wait_for(
        lambda: "not a member" in tocsin.world.ephemerals_for("U0ALICE")[-1].text
    )
    assert "<@U0ERIN> is not a member of rotation *primary*" in (
        tocsin.world.ephemerals_for("U0ALICE")[-1].text
    )
    assert tocsin.dms("U0ERIN") == []
    assert await stored(tocsin) == []


async def test_the_calendar_feed_shows_a_cover(tocsin: Harness) -> None:
    preview = await command(tocsin, "cover primary tomorrow 18:00 for 3h", "U0BOB")
    await press(tocsin, preview, ids.COVER_CONFIRM, "U0BOB")
    await ops_says(tocsin, "Override saved")
    shifts = await calendar_shifts(tocsin)
    covered = [s for s in shifts if s.shift.user == "U0BOB" and s.shift.override is not None]
    assert [(s.shift.start, s.shift.end) for s in covered] == [
        (START + timedelta(days=1, hours=7), START + timedelta(days=1, hours=10))
    ]


async def calendar_shifts(tocsin: Harness) -> list:  # type: ignore[type-arg]
    from bot.schedule.feeds import OnCallCalendars
    from bot.schedule.web import stored_calendar_overrides

    calendars = OnCallCalendars.from_policy(tocsin.service.policy)
    feed = calendars.feed("rotation", "primary")
    assert feed is not None
    extra = await stored_calendar_overrides(tocsin.service.stored_overrides)()
    return calendars.shifts(feed, now=clock(tocsin)(), extra=extra)
