"""PostgreSQL gone and back under load (through a TCP proxy the test cuts; the machine's
shared server keeps running): webhooks get 503 + Retry-After rather than a 2xx for data not
stored, and the service recovers without a restart — nothing accepted is lost."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from bot.sandbox import SlackWorld
from tests.support.databases import database
from tests.support.harness import Harness, running_tocsin
from tests.support.tcp_proxy import TcpProxy, tcp_proxy

pytestmark = pytest.mark.postgres

POLICY = """
levels:
  1: {name: critical}
  2: {name: major}
  3: {name: minor}
integrations:
  - {name: generic, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}"}
storm: {enabled: false}  # one warning per alert, so each can be counted exactly once
rate_limit: {per_minute: 100000, burst: 10000}  # the load here is the test, not abuse
default_route: {team: ops, channel: "#alerts", policy: quiet}
policies:
  quiet: {tiers: []}
"""


@pytest.fixture
async def proxied(tmp_path: Path) -> AsyncIterator[tuple[Harness, TcpProxy]]:
    (tmp_path / "policy.yaml").write_text(POLICY)
    async with database("postgres", tmp_path) as url:
        parts = urlsplit(url)
        async with tcp_proxy(parts.hostname or "127.0.0.1", parts.port or 5432) as proxy:
            netloc = f"{parts.username or 'postgres'}@127.0.0.1:{proxy.port}"
            via_proxy = urlunsplit(parts._replace(netloc=netloc))
            async with running_tocsin(
                database_url=via_proxy,
                config_path=tmp_path / "policy.yaml",
                world=SlackWorld(rate_per_second=50, burst=50),
                # the database is what fails here: deliver at the fake Slack's pace, not at
                # the 1 message/s per channel Tocsin keeps to for real Slack (~60 s of drain)
                settings={"TOCSIN_SLACK_CHANNEL_RATE": 40, "TOCSIN_SLACK_CHANNEL_BURST": 40},
            ) as harness:
                yield harness, proxy


async def test_webhooks_get_503_while_the_database_is_away_and_nothing_accepted_is_lost(
    proxied: tuple[Harness, TcpProxy],
) -> None:
    tocsin, proxy = proxied
    outcomes: dict[str, list[int]] = {}
    sending = True

    async def stream(worker: int) -> None:
        n = 0
        while sending:
            title = f"db-{worker}-{n:04d}"
            n += 1
            try:
                status = (await tocsin.webhook("generic", {"title": title})).status_code
            except httpx.TransportError:
                status = 0
            outcomes.setdefault(title, []).append(status)
            await asyncio.sleep(0.02)

    senders = [asyncio.create_task(stream(w)) for w in range(3)]
    try:
        await tocsin.until(lambda: _accepted(outcomes, 20), what="20 accepted", seconds=20)
        proxy.cut()
        await tocsin.until(lambda: _refused(outcomes, 10), what="10 refused", seconds=30)
        ready = await tocsin.http.get(f"{tocsin.base_url}/readyz")
        assert ready.status_code == 503
        refused = await tocsin.webhook("generic", {"title": "while-cut"})
        assert refused.status_code == 503
        assert refused.headers["Retry-After"]
        proxy.restore()
        before = len(outcomes)
        await tocsin.until(
            lambda: _accepted_after(outcomes, before, 20), what="accepted again", seconds=30
        )
    finally:
        sending = False
        await asyncio.gather(*senders)

    assert all(code in (202, 503) for codes in outcomes.values() for code in codes), outcomes
    # A monitoring tool retries what got a 503: do that for every refused alert.
    retried = [t for t, codes in outcomes.items() if 202 not in codes]
    for title in retried:
        assert (await tocsin.webhook("generic", {"title": title})).status_code == 202
    everything = list(outcomes)
    await tocsin.world.wait_for(lambda: set(everything) <= set(_titles(tocsin)), timeout=60)
    counts = Counter(_titles(tocsin))
    assert {t: c for t, c in counts.items() if c > 1} == {}
    assert (await tocsin.http.get(f"{tocsin.base_url}/readyz")).status_code == 200


def _titles(tocsin: Harness) -> list[str]:
    return [m.text.rsplit(" ", 1)[-1] for m in tocsin.channel_messages("#alerts")]


async def _accepted(outcomes: dict[str, list[int]], count: int) -> bool:
    return sum(202 in codes for codes in outcomes.values()) >= count


async def _refused(outcomes: dict[str, list[int]], count: int) -> bool:
    return sum(503 in codes for codes in outcomes.values()) >= count


async def _accepted_after(outcomes: dict[str, list[int]], start: int, count: int) -> bool:
    later = list(outcomes.values())[start:]
    return sum(202 in codes for codes in later) >= count
