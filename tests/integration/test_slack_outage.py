"""Slack down (5xx, timeouts, long 429s): nothing is lost or doubled, the state shows on
/readyz and /metrics, deliveries wait without hammering Slack and resume in order."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import func, select

from bot.sandbox import SlackWorld
from bot.sandbox.workspace.models import Message
from storage.tables import OutboxRow
from tests.support.harness import FakeClock, Harness, running_tocsin

POLICY = """
levels:
  1: {name: critical}
  2: {name: major}
  3: {name: minor}
integrations:
  - {name: generic, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}"}
storm: {enabled: false}  # one warning per alert, so each can be counted exactly once
routes:
  - {match: {team: other}, team: other, channel: "#other", policy: quiet}
default_route: {team: ops, channel: "#alerts", policy: quiet}
policies:
  quiet: {tiers: []}
"""


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    return path


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def tocsin(tmp_path: Path, policy: Path, clock: FakeClock) -> AsyncIterator[Harness]:
    world = SlackWorld(rate_per_second=20, burst=20)
    async with running_tocsin(
        database_url=f"sqlite:///{tmp_path / 'tocsin.db'}",
        config_path=policy,
        world=world,
        clock=clock,
        settings={"TOCSIN_SLACK_TIMEOUT_SECONDS": 1},
    ) as harness:
        yield harness


async def fire(tocsin: Harness, title: str, **labels: str) -> None:
    response = await tocsin.webhook("generic", {"title": title, "labels": labels})
    assert response.status_code == 202


def titled(messages: list[Message]) -> Counter[str]:
    return Counter(m.text.rsplit(" ", 1)[-1] for m in messages)


async def metric(tocsin: Harness, name: str, **labels: str) -> float:
    text = (await tocsin.http.get(f"{tocsin.base_url}/metrics")).text
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{name}(\{{{re.escape(wanted)}\}})? (\S+)$" if wanted else rf"^{name} (\S+)$"
    for line in text.splitlines():
        if found := re.match(pattern, line):
            return float(found.groups()[-1])
    return 0.0


async def slack_state(tocsin: Harness) -> str:
    body = (await tocsin.http.get(f"{tocsin.base_url}/readyz")).json()
    return str(body["slack"]["status"])


async def pending(tocsin: Harness) -> int:
    async with tocsin.service.db.read() as session:
        query = select(func.count()).select_from(OutboxRow).where(OutboxRow.status == "pending")
        return int((await session.exec(query)).one())


async def degraded(tocsin: Harness) -> bool:
    return await slack_state(tocsin) == "degraded"


async def test_a_5xx_outage_is_shown_waited_out_and_drained_in_order_without_loss(
    tocsin: Harness,
) -> None:
    await fire(tocsin, "before-outage")
    await tocsin.wait_for_messages(1)
    assert await slack_state(tocsin) == "ok"
    tocsin.world.start_outage(status=503)
    titles = [f"during-outage-{n}" for n in range(6)]
    for title in titles[:3]:
        await fire(tocsin, title)
    await fire(tocsin, "other-channel", team="other")
    await tocsin.until(lambda: degraded(tocsin), what="Slack degraded on /readyz", seconds=20)
    assert await metric(tocsin, "tocsin_slack_degraded") == 1.0
    for title in titles[3:]:
        await fire(tocsin, title)
    # one alert changes twice more while Slack is down: its post must come before its edits
    await fire(tocsin, titles[0])
    response = await tocsin.webhook("generic", {"title": titles[0], "status": "resolved"})
    assert response.status_code == 202
    # While degraded, rows wait in the outbox instead of being sent into the outage: the
    # sender probes Slack with auth.test (the batch in hand when it tripped may finish).
    await tocsin.until(lambda: _probed(tocsin, times=1), what="a probe", seconds=20)
    posts_when_degraded = await metric(
        tocsin, "tocsin_slack_calls_total", method="chat.postMessage", outcome="service_unavailable"
    )
    await tocsin.until(lambda: _probed(tocsin, times=4), what="more probes", seconds=30)
    posts_later = await metric(
        tocsin, "tocsin_slack_calls_total", method="chat.postMessage", outcome="service_unavailable"
    )
    assert posts_later == posts_when_degraded, "pending rows were sent into the outage"
    assert await pending(tocsin) >= len(titles)

    tocsin.world.end_outage()
    await tocsin.wait_for_messages(1 + len(titles), seconds=20)
    await tocsin.wait_for_messages(1, channel="#other", seconds=20)
    await tocsin.until(lambda: _drained(tocsin), what="the outbox to drain", seconds=20)
    assert await slack_state(tocsin) == "ok"
    assert await metric(tocsin, "tocsin_slack_degraded") == 0.0
    counts = titled(tocsin.channel_messages("#alerts"))
    assert all(counts[t] == 1 for t in ["before-outage", *titles]), counts
    assert titled(tocsin.channel_messages("#other"))["other-channel"] == 1
    # in order per alert: posted first (drawn from its latest state: resolved), never edited
    # back to an older state
    (changed,) = (m for m in tocsin.channel_messages("#alerts") if m.text.endswith(titles[0]))
    assert "[resolved]" in changed.text
    writes = [w.method for w in tocsin.world.write_log.writes() if w.ts == changed.ts]
    assert writes[0] == "chat.postMessage"
    assert set(writes[1:]) <= {"chat.update"}


async def test_timeouts_where_slack_did_post_do_not_post_twice(tocsin: Harness) -> None:
    # Slack takes each message but its answer never arrives in time (client timeout 1 s).
    tocsin.world.start_outage(hang=2.0, apply=True)
    for n in range(3):
        await fire(tocsin, f"timeout-{n}")
    await tocsin.until(lambda: degraded(tocsin), what="Slack degraded", seconds=30)
    assert 1 <= len(tocsin.channel_messages("#alerts")) <= 3  # posted, though unanswered
    tocsin.world.end_outage()
    await tocsin.until(lambda: _drained(tocsin), what="the outbox to drain", seconds=30)
    counts = titled(tocsin.channel_messages("#alerts"))
    assert counts == Counter({"timeout-0": 1, "timeout-1": 1, "timeout-2": 1})
    assert await metric(tocsin, "tocsin_outbox_in_doubt_lookups_total", result="found") >= 1


async def test_a_long_rate_limit_is_honoured_then_deliveries_resume(
    tocsin: Harness, clock: FakeClock
) -> None:
    tocsin.world.start_outage(status=429, retry_after=120)
    for n in range(4):
        await fire(tocsin, f"limited-{n}")
    await tocsin.until(lambda: degraded(tocsin), what="Slack degraded", seconds=20)
    # Slack's health turns degraded when the call fails; the row's error is committed just
    # after: wait for that, not only for the health flag.
    await tocsin.until(lambda: _refused_rows(tocsin), what="a refused row recorded", seconds=20)
    async with tocsin.service.db.read() as session:
        rows = (await session.exec(select(OutboxRow).where(OutboxRow.status == "pending"))).all()
    waits = [(r.next_attempt_at - clock()).total_seconds() for r in rows if r.last_error]
    assert waits
    assert all(w > 100 for w in waits), "Retry-After: 120 must be honoured"
    tocsin.world.end_outage()
    clock.advance(seconds=121)  # Retry-After has passed
    await tocsin.until(lambda: _drained(tocsin), what="the outbox to drain", seconds=30)
    counts = titled(tocsin.channel_messages("#alerts"))
    assert counts == Counter({f"limited-{n}": 1 for n in range(4)})
    assert tocsin.world.max_writes_per_second("#alerts") <= 20


async def _probed(tocsin: Harness, *, times: int) -> bool:
    probes = await metric(
        tocsin, "tocsin_slack_calls_total", method="auth.test", outcome="service_unavailable"
    )
    return probes >= times


async def _refused_rows(tocsin: Harness) -> bool:
    async with tocsin.service.db.read() as session:
        rows = (await session.exec(select(OutboxRow).where(OutboxRow.status == "pending"))).all()
    return any(row.last_error for row in rows)


async def _drained(tocsin: Harness) -> bool:
    return await pending(tocsin) == 0
