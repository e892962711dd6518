"""Three replicas on one PostgreSQL share webhooks and button presses; one is SIGKILLed
mid-run. No alert is lost or doubled, no warning posted twice, no page sent twice."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from bot.sandbox import SandboxDriver, SlackWorld
from bot.sandbox.workspace.models import Message
from bot.slack import ids
from escalation.timeline import STEP_RULES
from tests.support.databases import database
from tests.support.harness import SIGNING_SECRET, WEBHOOK_TOKEN
from tests.support.tocsin_process import FakeSlack, TocsinProcess, fake_slack, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

POLICY = """
levels:
  1: {name: critical}
  2: {name: major}
  3: {name: minor}
integrations:
  - {name: generic, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}"}
storm: {enabled: false}  # one warning per alert, so each can be counted exactly once
default_route: {team: ops, channel: "#alerts", policy: two-tiers}
policies:
  two-tiers:
    tiers:
      - {notify: [{user: U0ALICE}], after: 0s}
      - {notify: [{user: U0BOB}], after: 4s}
"""
ALERTS = 24
TITLE = re.compile(r"replica-\d\d")


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with fake_slack(SlackWorld(rate_per_second=100, burst=100)) as found:
        yield found


def title_of(message: Message) -> str:
    return message.text.rsplit(" ", 1)[-1]


async def test_three_replicas_one_killed_lose_and_double_nothing(
    tmp_path: Path, slack: FakeSlack
) -> None:
    (tmp_path / "policy.yaml").write_text(POLICY)
    async with database("postgres", tmp_path) as url:
        env = {
            **slack.env(),
            "TOCSIN_DATABASE_URL": url,
            "TOCSIN_CONFIG": str(tmp_path / "policy.yaml"),
            "TOCSIN_ESCALATION_TICK_SECONDS": "0.5",
            "TOCSIN_OUTBOX_POLL_SECONDS": "0.2",
            "TOCSIN_INBOX_POLL_SECONDS": "0.2",
            "TOCSIN_SLACK_TIMEOUT_SECONDS": "2",
            "TOCSIN_CLAIM_LEASE_SECONDS": "16",  # a dead replica's claims return soon
        }
        replicas = [TocsinProcess(name=f"r{n}", workdir=tmp_path, env=env) for n in range(3)]
        try:
            await replicas[0].start()  # migrates
            await asyncio.gather(*(r.start() for r in replicas[1:]))
            await run_scenario(slack, replicas, url)
        finally:
            for replica in replicas:
                replica.stop()


async def run_scenario(slack: FakeSlack, replicas: list[TocsinProcess], url: str) -> None:
    turn = itertools.cycle(replicas)
    titles = [f"replica-{n:02d}" for n in range(ALERTS)]
    async with httpx.AsyncClient(timeout=5) as http:
        for title in titles:
            replica = next(r for r in turn if r.running)
            response = await http.post(
                f"{replica.base_url}/webhooks/generic",
                json={"title": title, "level": 2},
                headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
            )
            assert response.status_code == 202
            if title == titles[ALERTS // 2]:
                replicas[1].kill()  # mid-run: it may hold claims of inbox and outbox rows

    def warnings() -> list[Message]:
        return slack.top_level("#alerts")

    await wait_until(
        lambda: {title_of(m) for m in warnings()} >= set(titles), what="all warnings", seconds=90
    )
    # Half the alerts are acknowledged through the live replicas, in turn, before tier 2.
    acked = titles[::2]
    live = [r for r in replicas if r.running]
    for title, replica in zip(acked, itertools.cycle(live), strict=False):
        (message,) = (m for m in warnings() if title_of(m) == title)
        driver = SandboxDriver(
            slack.world,
            signing_secret=SIGNING_SECRET,
            events_url=f"{replica.base_url}/slack/events",
        )
        response = await driver.press_button(
            channel="#alerts", ts=message.ts, action_id=ids.ACKNOWLEDGE, user="U0CAROL"
        )
        assert response.status_code == 200

    def pages(user: str) -> Counter[str]:
        """How many DMs named each alert (a DM may name several alerts paged together)."""
        return Counter(t for m in slack.dms(user) for t in set(TITLE.findall(m.text)))

    unacked = set(titles) - set(acked)
    await wait_until(lambda: set(pages("U0ALICE")) >= set(titles), what="tier 1", seconds=90)
    await wait_until(lambda: set(pages("U0BOB")) >= unacked, what="tier 2", seconds=90)

    async def settled() -> bool:
        conn = await asyncpg.connect(url)
        try:
            pending = await conn.fetchval("SELECT count(*) FROM outbox WHERE status='pending'")
            due = await conn.fetchval(
                "SELECT count(*) FROM alert WHERE status = 'firing' AND next_action_at IS NOT NULL"
            )
        finally:
            await conn.close()
        return bool(pending == 0 and due == 0)

    await wait_until(settled, what="escalations and outbox to settle", seconds=120, every=0.5)

    warned = Counter(title_of(m) for m in warnings())
    assert {t: c for t, c in warned.items() if c != 1} == {}, "a warning was posted twice"
    assert set(warned) == set(titles)
    alice, bob = pages("U0ALICE"), pages("U0BOB")
    assert {t: c for t, c in alice.items() if c != 1} == {}, "a tier-1 page was sent twice"
    assert {t: c for t, c in bob.items() if c != 1} == {}, "a tier-2 page was sent twice"
    conn = await asyncpg.connect(url)
    try:
        per_title = await conn.fetch("SELECT title, count(*) AS n FROM alert GROUP BY title")
        steps = await conn.fetch(
            "SELECT alert_id, summary FROM alert_event WHERE rule = ANY($1::text[])",
            sorted(STEP_RULES),
        )
    finally:
        await conn.close()
    assert {r["title"]: r["n"] for r in per_title} == dict.fromkeys(titles, 1)
    per_step = Counter((r["alert_id"], r["summary"].split(":")[0]) for r in steps)
    assert set(per_step.values()) == {1}, "an escalation step ran twice"
    assert set(bob) >= set(titles) - set(acked), "an unacknowledged alert missed tier 2"
