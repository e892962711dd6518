"""SIGKILL at random moments and at exact fault points: every alert that got a 2xx reaches
Slack exactly once, and every page is sent exactly once.

The fake Slack is served by the test process itself, so it (and what it received) survives
each kill of the service; the service is `tocsin serve` on SQLite.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.sandbox import SlackWorld
from bot.sandbox.workspace.models import Message
from escalation.timeline import STEP_RULES
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
default_route: {team: ops, channel: "#alerts", policy: %(policy)s}
policies:
  quiet: {tiers: []}
  page-alice:
    tiers:
      - {notify: [{user: U0ALICE}], after: 0s}
  page-alice-in-1s:  # paged by the escalation engine, not as the alert opens
    tiers:
      - {notify: [{user: U0ALICE}], after: 1s}
"""


def service(tmp_path: Path, slack: FakeSlack, *, policy: str) -> TocsinProcess:
    (tmp_path / "policy.yaml").write_text(POLICY % {"policy": policy})
    return TocsinProcess(
        name="tocsin",
        workdir=tmp_path,
        env={
            **slack.env(),
            "TOCSIN_DATABASE_URL": f"sqlite:///{tmp_path / 'tocsin.db'}",
            "TOCSIN_CONFIG": str(tmp_path / "policy.yaml"),
            # the fake Slack here allows far more than Slack's 1/s per channel; pace to it
            "TOCSIN_SLACK_CHANNEL_RATE": "50",
            "TOCSIN_SLACK_CHANNEL_BURST": "50",
            "TOCSIN_ESCALATION_TICK_SECONDS": "0.5",
            "TOCSIN_OUTBOX_POLL_SECONDS": "0.2",
            "TOCSIN_INBOX_POLL_SECONDS": "0.2",
        },
    )


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    # Slack's per-channel limit scaled up, so the test is about crashes, not waiting.
    async with fake_slack(SlackWorld(rate_per_second=100, burst=100)) as found:
        yield found


def posts_of(messages: list[Message], title: str) -> int:
    return sum(1 for m in messages if m.text.endswith(f" {title}") or f"] {title}" in m.text)


def pending_outbox(db: Path) -> int:
    with sqlite3.connect(db, timeout=30) as conn:
        return int(conn.execute("SELECT count(*) FROM outbox WHERE status='pending'").fetchone()[0])


async def test_every_accepted_alert_reaches_slack_once_across_20_sigkills(
    tmp_path: Path, slack: FakeSlack
) -> None:
    tocsin = service(tmp_path, slack, policy="quiet")
    await tocsin.start()
    accepted: list[str] = []
    attempted: list[str] = []
    posting = True
    rng = random.Random(20261122)

    async def post_stream() -> None:
        async with httpx.AsyncClient(timeout=2) as http:
            n = 0
            while posting:
                title = f"ingest-{n:05d}"
                n += 1
                attempted.append(title)
                try:
                    response = await http.post(
                        f"{tocsin.base_url}/webhooks/generic",
                        json={"title": title, "level": 3},
                        headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
                    )
                except httpx.TransportError:
                    await asyncio.sleep(0.02)  # down: the tool would retry later
                    continue
                if 200 <= response.status_code < 300:
                    accepted.append(title)

    poster = asyncio.create_task(post_stream())
    try:
        for _ in range(20):
            await asyncio.sleep(rng.uniform(0.05, 1.2))
            tocsin.kill()
            await tocsin.start()
        await asyncio.sleep(0.5)
    finally:
        posting = False
        await poster
    db = tmp_path / "tocsin.db"
    await wait_until(
        lambda: pending_outbox(db) == 0, what="the outbox to drain", seconds=120, every=0.5
    )
    tocsin.stop()

    messages = slack.top_level("#alerts")
    counts = Counter(m.text.rsplit(" ", 1)[-1] for m in messages)
    assert tocsin.starts == 21
    assert len(accepted) > 100, "the stream should have been accepted most of the time"
    lost = [t for t in accepted if counts[t] == 0]
    doubled = {t: c for t, c in counts.items() if c > 1}
    assert lost == [], f"{len(lost)} accepted alerts never reached Slack: {lost[:10]}"
    assert doubled == {}, f"alerts posted more than once: {doubled}"
    assert set(counts) <= set(attempted)


@pytest.mark.parametrize(
    ("point", "policy"),
    [
        # alerts opened and paged in one transaction, not committed: all done again
        ("inbox_before_commit", "page-alice"),
        ("inbox_after_commit", "page-alice"),  # committed, nothing sent yet
        # the engine's steps (a first tier after 1 s) written, not committed: they run again
        ("escalation_before_commit", "page-alice-in-1s"),
        ("escalation_after_commit", "page-alice-in-1s"),  # committed, nothing sent yet
        ("outbox_after_claim", "page-alice"),  # a delivery claimed, Slack not called
        ("slack_after_post", "page-alice"),  # Slack has the message, Tocsin has not recorded it
    ],
)
async def test_a_crash_at_a_fault_point_sends_each_warning_and_page_once(
    tmp_path: Path, slack: FakeSlack, point: str, policy: str
) -> None:
    tocsin = service(tmp_path, slack, policy=policy)
    await tocsin.start(TOCSIN_FAULT_POINT=point)
    titles = [f"fault-{point}-{n}" for n in range(3)]
    async with httpx.AsyncClient(timeout=5) as http:
        # one webhook with all three: stored before the answer, and every fault point lies
        # after ingest — the kill may still beat the answer to the client
        try:
            response = await http.post(
                f"{tocsin.base_url}/webhooks/generic",
                json={"alerts": [{"title": title, "level": 2} for title in titles]},
                headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
            )
            assert response.status_code == 202
        except httpx.TransportError:
            pass
    assert await tocsin.died() == -9, "the fault point should have killed the service"
    assert [kill["point"] for kill in tocsin.logged("fault_point_kill")] == [point]
    await tocsin.start()  # no fault point this time

    def everything_delivered() -> bool:
        warnings = slack.top_level("#alerts")
        pages = slack.dms("U0ALICE")
        return all(posts_of(warnings, t) >= 1 and posts_of(pages, t) >= 1 for t in titles)

    await wait_until(everything_delivered, what="warnings and pages", seconds=60)
    db = tmp_path / "tocsin.db"
    await wait_until(lambda: pending_outbox(db) == 0, what="the outbox to drain", seconds=60)
    tocsin.stop()

    warnings = slack.top_level("#alerts")
    pages = slack.dms("U0ALICE")
    for title in titles:
        assert posts_of(warnings, title) == 1, f"warning of {title} posted twice"
        assert posts_of(pages, title) == 1, f"{title} paged twice"
        (warning,) = (m for m in warnings if posts_of([m], title))
        notes = [slack.world.messages[(warning.channel, ts)].text for ts in warning.replies]
        assert len([n for n in notes if "paged tier 1" in n]) == 1, notes
    with sqlite3.connect(db) as conn:
        lines = conn.execute("SELECT alert_id, rule FROM alert_event").fetchall()
    steps = Counter(alert_id for alert_id, rule in lines if rule in STEP_RULES)
    assert sorted(steps.values()) == [1, 1, 1]
