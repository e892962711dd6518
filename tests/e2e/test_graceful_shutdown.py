"""SIGTERM: new connections are refused, the request in flight is answered, the workers
finish what they hold, and the process exits cleanly within 10 seconds."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.sandbox import SlackWorld
from tests.support.harness import WEBHOOK_TOKEN
from tests.support.tocsin_process import FakeSlack, TocsinProcess, fake_slack, wait_until

pytestmark = pytest.mark.e2e

POLICY = """
levels:
  1: {name: critical}
  2: {name: major}
  3: {name: minor}
integrations:
  - {name: generic, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}"}
storm: {enabled: false}  # one warning per alert, so each can be counted exactly once
default_route: {team: ops, channel: "#alerts", policy: quiet}
policies:
  quiet: {tiers: []}
"""


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with fake_slack(SlackWorld(rate_per_second=100, burst=100)) as found:
        yield found


async def test_sigterm_answers_the_request_in_flight_and_exits_within_10_seconds(
    tmp_path: Path, slack: FakeSlack
) -> None:
    (tmp_path / "policy.yaml").write_text(POLICY)
    tocsin = TocsinProcess(
        name="tocsin",
        workdir=tmp_path,
        env={
            **slack.env(),
            "TOCSIN_DATABASE_URL": f"sqlite:///{tmp_path / 'tocsin.db'}",
            "TOCSIN_CONFIG": str(tmp_path / "policy.yaml"),
        },
    )
    await tocsin.start()
    body_sent = asyncio.Event()
    terminated = asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        yield b'{"title": "in-flight'
        body_sent.set()
        await terminated.wait()  # the rest of the body arrives after SIGTERM
        yield b' at shutdown", "level": 2}'

    try:
        async with httpx.AsyncClient(timeout=15) as http:
            in_flight = asyncio.create_task(
                http.post(
                    f"{tocsin.base_url}/webhooks/generic",
                    content=slow_body(),
                    headers={
                        "Authorization": f"Bearer {WEBHOOK_TOKEN}",
                        "Content-Type": "application/json",
                    },
                )
            )
            await body_sent.wait()
            # a full round trip on another connection: by then the server has read the
            # in-flight request's headers, sent before it
            assert (await http.get(f"{tocsin.base_url}/healthz")).status_code == 200
            assert tocsin.process is not None
            tocsin.process.send_signal(signal.SIGTERM)
            sent_at = time.monotonic()

            async def refused() -> bool:
                try:
                    await http.get(f"{tocsin.base_url}/healthz", timeout=1)
                except httpx.TransportError:
                    return True
                return False

            await wait_until(refused, what="new connections refused", seconds=8)
            terminated.set()
            response = await in_flight
        code = await tocsin.died(seconds=12)
        took = time.monotonic() - sent_at
    finally:
        terminated.set()
        tocsin.stop()

    assert response.status_code == 202, response.text
    # uvicorn shuts down cleanly, then re-raises the SIGTERM it caught, as a process
    # manager expects
    assert code in (0, -signal.SIGTERM), tocsin.tail()
    assert took < 10, f"took {took:.1f} s to exit"
    log = tocsin.tail(20000)
    assert "workers_stopped" in log
    # What was accepted is posted — before the exit, or by the next start.
    if not any(m.text.endswith("in-flight at shutdown") for m in slack.top_level("#alerts")):
        await tocsin.start()
        try:
            await wait_until(
                lambda: any(m.text.endswith("shutdown") for m in slack.top_level("#alerts")),
                what="the accepted alert posted after restart",
                seconds=30,
            )
        finally:
            tocsin.stop()
    assert [m.text for m in slack.top_level("#alerts")] == ["[major] in-flight at shutdown"]
