"""`tocsin serve` as a process, its policy file edited under it and SIGHUP sent: a good file
takes effect without a restart (same process, new route), a broken one is refused and the
process keeps serving the old one (log line, /readyz, the admin's DM)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.sandbox import SlackWorld
from tests.support.harness import WEBHOOK_TOKEN
from tests.support.tocsin_process import FakeSlack, TocsinProcess, fake_slack, wait_until

pytestmark = pytest.mark.e2e

POLICY = """\
levels:
  1: {name: critical}
  2: {name: major}
  3: {name: minor}
integrations:
  - {name: generic, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}"}
default_route: {team: ops, channel: "#alerts", policy: quiet}
policies:
  quiet: {tiers: []}
people:
  alice@example.com: {name: Alice, roles: [admin]}
"""
WITH_ROUTE = (
    POLICY
    + """\
routes:
  - {match: {service: db}, team: ops, channel: "#db", policy: quiet}
"""
)
BROKEN = (
    POLICY
    + """\
routes:
  - {match: {service: db}, team: ops, channel: "#db", policy: loud}
"""
)


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with fake_slack(SlackWorld(rate_per_second=100, burst=100)) as found:
        yield found


async def test_sighup_reloads_the_policy_of_a_running_process(
    tmp_path: Path, slack: FakeSlack
) -> None:
    policy = tmp_path / "policy.yaml"
    await asyncio.to_thread(policy.write_text, POLICY)
    tocsin = TocsinProcess(
        name="tocsin",
        workdir=tmp_path,
        env={
            **slack.env(),
            "TOCSIN_DATABASE_URL": f"sqlite:///{tmp_path / 'tocsin.db'}",
            "TOCSIN_CONFIG": str(policy),
            "TOCSIN_POLICY_WATCH": "false",  # only the signal reloads here
        },
    )
    await tocsin.start()
    try:
        async with httpx.AsyncClient(timeout=10) as http:

            async def config() -> dict[str, Any]:
                found: dict[str, Any] = (await http.get(f"{tocsin.base_url}/readyz")).json()
                return dict(found["config"])

            async def alert(title: str) -> None:
                response = await http.post(
                    f"{tocsin.base_url}/webhooks/generic",
                    json={"title": title, "level": 2, "labels": {"service": "db"}},
                    headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
                )
                assert response.status_code == 202, response.text

            first = await config()
            assert first["status"] == "current"
            assert tocsin.process is not None
            pid = tocsin.process.pid

            await asyncio.to_thread(policy.write_text, WITH_ROUTE)
            tocsin.process.send_signal(signal.SIGHUP)

            async def switched() -> bool:
                return bool((await config())["version"] != first["version"])

            await wait_until(switched, what="the new version in /readyz", seconds=20)
            await alert("Replication lag")
            await wait_until(
                lambda: slack.top_level("#db"), what="the alert on the new route", seconds=20
            )
            assert tocsin.running  # the same process: no restart
            assert tocsin.process.pid == pid
            # the service's log lines are written by a thread of their own: waited for
            await wait_until(
                lambda: tocsin.logged("policy_reloaded"), what="the reload's log line", seconds=20
            )
            [reloaded] = tocsin.logged("policy_reloaded")
            assert reloaded["reason"] == "SIGHUP"

            await asyncio.to_thread(policy.write_text, BROKEN)
            tocsin.process.send_signal(signal.SIGHUP)

            async def stale() -> bool:
                return bool((await config())["status"] == "stale")

            await wait_until(stale, what="the broken file refused", seconds=20)
            refused = await config()
            assert refused["version"] != first["version"]  # the good file still runs
            assert refused["errors"] == ['line 13: routes[0].policy: "loud" is not in policies']
            await wait_until(
                lambda: tocsin.logged("policy_reload_refused"),
                what="the refusal's log line",
                seconds=20,
            )
            [line] = tocsin.logged("policy_reload_refused")
            assert line["problems"] == refused["errors"]
            await wait_until(
                lambda: slack.dms("U0ALICE"), what="the admin's DM about it", seconds=20
            )
            await alert("Disk full")
            await wait_until(
                lambda: len(slack.top_level("#db")) == 2,
                what="the old file routing the next alert",
                seconds=20,
            )
    finally:
        tocsin.stop()
