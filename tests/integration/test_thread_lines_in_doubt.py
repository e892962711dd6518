"""A thread reply Slack took without answering, then more lines queued before the retry: the
retry finds the reply it posted and posts the later lines after it — the timeline in the
thread loses nothing and says nothing twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import func, select

from storage.tables import OutboxRow
from tests.support.harness import FakeClock, Harness, running_tocsin

POLICY = """
levels:
  1: {name: critical}
  2: {name: major}
  3: {name: minor}
integrations:
  - {name: generic, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}"}
storm: {enabled: false}
default_route: {team: ops, channel: "#alerts", policy: two-tiers}
policies:
  two-tiers:
    tiers:
      - {notify: [{user: U0ALICE}], after: 1s}  # paged by the engine, after fail_next is set
      - {notify: [{user: U0BOB}], after: 4s}
"""


@pytest.fixture
async def tocsin(tmp_path: Path) -> AsyncIterator[Harness]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    async with running_tocsin(
        database_url=f"sqlite:///{tmp_path / 'tocsin.db'}",
        config_path=policy,
        clock=FakeClock(),
        settings={"TOCSIN_SLACK_TIMEOUT_SECONDS": 1},
    ) as harness:
        yield harness


def clock(tocsin: Harness) -> FakeClock:
    assert isinstance(tocsin.service.clock, FakeClock)
    return tocsin.service.clock


async def pending(tocsin: Harness) -> int:
    async with tocsin.service.db.read() as session:
        query = select(func.count()).select_from(OutboxRow).where(OutboxRow.status == "pending")
        return int((await session.exec(query)).one())


async def test_a_thread_reply_found_in_doubt_does_not_swallow_lines_queued_after_it(
    tocsin: Harness,
) -> None:
    response = await tocsin.webhook("generic", {"title": "Orders stuck", "level": 2})
    assert response.status_code == 202
    [warning] = await tocsin.wait_for_messages(1)

    # Tier 1's thread reply: Slack posts it, but its answer never arrives (503 after applying)
    tocsin.world.fail_next("chat.postMessage", status=503, channel=warning.channel, apply=True)
    clock(tocsin).advance(seconds=1)
    assert await tocsin.service.engine.drain() == 1  # tier 1 at 1 s
    await tocsin.world.wait_for(lambda: len(tocsin.thread(warning)) == 1, timeout=10)
    # Slack then stays down, so the row in doubt waits while tier 2 steps
    tocsin.world.start_outage(status=503)
    clock(tocsin).advance(seconds=4)
    assert await tocsin.service.engine.drain() == 1  # tier 2 at 4 s
    tocsin.world.end_outage()
    clock(tocsin).advance(minutes=2)  # every backoff has run out

    async def drained() -> bool:
        return await pending(tocsin) == 0

    await tocsin.until(drained, what="the outbox to drain", seconds=30)
    replies = "\n".join(m.text for m in tocsin.thread(warning))
    assert replies.count("paged tier 1") == 1, replies  # found, not posted again
    assert replies.count("paged tier 2") == 1, replies  # posted after it, not marked done
    async with tocsin.service.db.read() as session:
        rows = (await session.exec(select(OutboxRow).where(OutboxRow.kind == "thread_lines"))).all()
    assert [row.attempts for row in rows] == [2, 1]
