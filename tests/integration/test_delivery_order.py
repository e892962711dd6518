"""Over real HTTP, on the real clock (the escalation engine pages by itself), against the
fake Slack at Slack's own pace (one write a second per
conversation, bursts of three): a page never waits for the channel, and a big group's joins
are drawn as one edit and one listing, not one per member."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox import SlackWorld
from tests.integration.test_group_list import am_alert, am_batch
from tests.support.harness import Harness, running_tocsin

POLICY = """
levels:
  1: {name: critical}
  2: {name: major}
  3: {name: minor}
integrations:
  - {name: alertmanager, format: alertmanager, token: "${TOCSIN_WEBHOOK_TOKEN}"}
  - {name: generic, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}"}
storm: {enabled: false}
default_route: {team: ops, channel: "#alerts", policy: page}
people:
  U0ALICE: {name: Alice}
policies:
  page: {tiers: [{notify: [{user: U0ALICE}], after: 0m}]}
"""
MEMBERS = 30


@pytest.fixture
async def tocsin(tmp_path: Path) -> AsyncIterator[Harness]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    async with running_tocsin(
        database_url=f"sqlite:///{tmp_path / 'tocsin.db'}",
        config_path=policy,
        world=SlackWorld(rate_per_second=1, burst=3),
    ) as harness:
        yield harness


async def test_a_page_goes_out_while_slack_holds_its_alerts_channel(tocsin: Harness) -> None:
    # Slack refuses the warning for a minute (429, Retry-After: 60): the page does not wait
    tocsin.world.fail_next("chat.postMessage", status=429, retry_after=60, channel="#alerts")
    response = await tocsin.webhook("generic", {"title": "Checkout down", "level": 1})
    assert response.status_code == 202
    await tocsin.world.wait_for(lambda: len(tocsin.dms("U0ALICE")) == 1, timeout=10)
    assert "Checkout down" in tocsin.dms("U0ALICE")[0].text
    assert tocsin.channel_messages("#alerts") == []  # its warning still waits for Slack


async def test_a_groups_joins_cost_a_few_channel_writes_and_its_page_does_not_wait(
    tocsin: Harness,
) -> None:
    batch = am_batch(*(am_alert(n) for n in range(1, MEMBERS + 1)))
    assert (await tocsin.webhook("alertmanager", batch)).status_code == 202
    [warning] = await tocsin.wait_for_messages(1)
    await tocsin.world.wait_for(lambda: len(tocsin.dms("U0ALICE")) == 1, timeout=10)

    def fully_listed() -> bool:
        text = "\n".join(m.text for m in tocsin.thread(warning))
        return all(f"#{n} Disk" in text for n in range(1, MEMBERS + 1))

    await tocsin.world.wait_for(fully_listed, timeout=20)
    channel = warning.channel
    writes = [w for w in tocsin.world.write_log.writes() if w.channel == channel]
    edits = [w for w in writes if w.method == "chat.update" and w.ts == warning.ts]
    # one post, an edit or two as members arrive, two listing messages (20 + 10 members)
    # and perhaps an edit of them — where each join once cost an edit and a listing
    assert len(edits) <= 2
    assert len(writes) <= 7
    assert f"{MEMBERS} of {MEMBERS} open" in tocsin.thread(warning)[0].text
