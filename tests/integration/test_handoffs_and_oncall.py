"""Rotations over real HTTP: hand-off notices posted once, `/tocsin oncall`, and a page to
whoever is on call at that moment."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.workers.handoffs import Handoffs
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
rotations:
  primary:
    members: [U0ALICE, U0BOB]
    timezone: UTC
    handoff: "09:00"
    shift: daily
    start: 2026-11-02
    channel: "#ops"
policies:
  default:
    tiers:
      - {notify: [{oncall: primary}], after: 0m}
"""
# 2026-11-02 is Alice's day; 2026-11-03 Bob's; 2026-11-04 Alice's again.
START = datetime(2026, 11, 3, 8, 58, tzinfo=UTC)


@pytest.fixture
async def tocsin(tmp_path: Path) -> AsyncIterator[Harness]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    async with (
        database("sqlite", tmp_path) as url,
        running_tocsin(database_url=url, config_path=policy, clock=FakeClock(START)) as harness,
    ):
        yield harness


def handoffs(tocsin: Harness) -> Handoffs:
    found = tocsin.service.engine._handoffs
    assert found is not None
    return found


async def test_a_hand_off_is_announced_once_in_the_rotation_channel(tocsin: Harness) -> None:
    assert isinstance(tocsin.service.clock, FakeClock)
    assert await handoffs(tocsin).check() == 0
    tocsin.service.clock.advance(minutes=3)
    assert await handoffs(tocsin).check() == 1
    assert await handoffs(tocsin).check() == 0
    [notice] = tocsin.channel_messages("#ops")
    assert "<@U0BOB> is now on call (taking over from <@U0ALICE>)" in notice.text


async def test_oncall_command_shows_who_is_on_call_now_and_next(tocsin: Harness) -> None:
    await tocsin.driver.slash_command(text="oncall", user="U0CAROL")
    await tocsin.world.wait_for(lambda: bool(tocsin.world.ephemerals_for("U0CAROL")))
    [answer] = tocsin.world.ephemerals_for("U0CAROL")
    assert "*primary*: <@U0ALICE>" in answer.text
    assert "then <@U0BOB>" in answer.text


async def test_a_page_goes_to_whoever_is_on_call_when_it_is_sent(tocsin: Harness) -> None:
    assert isinstance(tocsin.service.clock, FakeClock)
    tocsin.service.clock.advance(minutes=5)  # Bob's shift has started
    await tocsin.webhook("generic", {"title": "Replica lag", "level": 2})
    await tocsin.wait_for_messages(1)
    assert await tocsin.service.engine.drain() == 0  # paged as it opened, to Bob
    await tocsin.world.wait_for(lambda: bool(tocsin.dms("U0BOB")))
    assert "on call for *primary*" in json.dumps(tocsin.dms("U0BOB")[0].blocks)
    assert tocsin.dms("U0ALICE") == []
