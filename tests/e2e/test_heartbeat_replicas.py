"""Three `tocsin serve` replicas on one PostgreSQL watch one heartbeat: when it falls silent
one alert is opened (one warning, one page), however many replicas' timers find it due; a
ping to any replica resolves it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from bot.sandbox import SlackWorld
from tests.support.databases import database
from tests.support.harness import WEBHOOK_TOKEN
from tests.support.tocsin_process import FakeSlack, TocsinProcess, fake_slack, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

TICK = 0.3
POLICY = """
levels:
  1: {name: critical}
  2: {name: major}
  3: {name: minor}
integrations:
  - {name: am, format: alertmanager, token: "${TOCSIN_WEBHOOK_TOKEN}"}
default_route: {team: ops, channel: "#alerts", policy: page}
policies:
  page:
    tiers:
      - {notify: [{user: U0ALICE}], after: 0s}
heartbeats:
  - {name: e2e-beat, interval: 4s, grace: 2s, integrations: [am]}
"""
TITLE = "No heartbeat from `e2e-beat`"


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with fake_slack(SlackWorld(rate_per_second=100, burst=100)) as found:
        yield found


async def test_three_replicas_open_a_silent_heartbeats_alert_once(
    tmp_path: Path, slack: FakeSlack
) -> None:
    (tmp_path / "policy.yaml").write_text(POLICY)
    async with database("postgres", tmp_path) as url:
        env = {
            **slack.env(),
            "TOCSIN_DATABASE_URL": url,
            "TOCSIN_CONFIG": str(tmp_path / "policy.yaml"),
            "TOCSIN_ESCALATION_TICK_SECONDS": str(TICK),
            "TOCSIN_OUTBOX_POLL_SECONDS": "0.2",
        }
        replicas = [TocsinProcess(name=f"r{n}", workdir=tmp_path, env=env) for n in range(3)]
        try:
            await replicas[0].start(seconds=180)  # migrates
            await asyncio.gather(*(r.start(seconds=180) for r in replicas[1:]))
            await run_scenario(slack, replicas, url)
        finally:
            for replica in replicas:
                replica.stop()


async def run_scenario(slack: FakeSlack, replicas: list[TocsinProcess], url: str) -> None:
    async def heartbeat_alerts() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetch(
                "SELECT id, status FROM alert WHERE fingerprint = 'heartbeat:e2e-beat' ORDER BY id"
            )
        finally:
            await conn.close()

    def warnings() -> list[str]:
        return [m.text for m in slack.top_level("#alerts") if TITLE in m.text]

    def pages() -> int:
        return sum(TITLE in m.text for m in slack.dms("U0ALICE"))

    headers = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
    async with httpx.AsyncClient(timeout=5) as http:
        # the heartbeat's clock ran from the first start: a slow start may have let it go
        # missing already; this ping ends that spell, with all three replicas up
        ping = await http.post(f"{replicas[0].base_url}/heartbeats/e2e-beat", headers=headers)
        assert ping.status_code == 200
        earlier = 0 if ping.json()["resolved_alert"] is None else 1  # one spell at most
        await wait_until(
            lambda: len(warnings()) == earlier + 1, what="the missing warning", seconds=60
        )
        await wait_until(lambda: pages() == earlier + 1, what="the page", seconds=30)
        # every replica's timer comes round several more times while it is missing
        await asyncio.sleep(10 * TICK)
        opened = await heartbeat_alerts()
        assert len(opened) == earlier + 1, "the alert was opened more than once"
        assert len(warnings()) == earlier + 1
        assert pages() == earlier + 1

        answer = await http.get(
            f"{replicas[2].base_url}/heartbeats/e2e-beat", params={"token": WEBHOOK_TOKEN}
        )
        assert answer.json()["resolved_alert"] == opened[-1]["id"]
