"""A big group's thread lists every member, in several messages drawn one delivery at a
time; a change redraws only the messages it concerns."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox import SlackWorld
from bot.sandbox.workspace.models import Message
from bot.slack.blocks.render_noise import LISTED_PER_MESSAGE
from tests.support.harness import FakeClock, Harness, running_tocsin

POLICY = """
levels:
  1: {name: critical}
  2: {name: major}
  3: {name: minor}
integrations:
  - {name: alertmanager, format: alertmanager, token: "${TOCSIN_WEBHOOK_TOKEN}"}
storm: {enabled: false}
default_route: {team: ops, channel: "#alerts", policy: quiet}
policies:
  quiet: {tiers: []}
"""
MEMBERS = 55  # more than the 50 a single message used to list: three messages of 20, 20, 15


@pytest.fixture
async def tocsin(tmp_path: Path) -> AsyncIterator[Harness]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    async with running_tocsin(
        database_url=f"sqlite:///{tmp_path / 'tocsin.db'}",
        config_path=policy,
        world=SlackWorld(rate_per_second=50, burst=50),
        clock=FakeClock(),
        settings={"TOCSIN_SLACK_CHANNEL_RATE": 50, "TOCSIN_SLACK_CHANNEL_BURST": 50},
    ) as harness:
        yield harness


def am_alert(n: int, status: str = "firing") -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "DiskFull", "instance": f"db-{n}"},
        "annotations": {"summary": f"Disk almost full on db-{n}"},
        "startsAt": "2026-11-21T10:00:00Z",
        "fingerprint": f"f{n}",
    }


def am_batch(*alerts: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "4",
        "status": "firing",
        "receiver": "tocsin",
        "groupKey": '{}:{alertname="DiskFull"}',
        "alerts": list(alerts),
    }


def listed(tocsin: Harness, warning: Message) -> list[Message]:
    return [m for m in tocsin.thread(warning) if m.text.startswith("*Alerts in this group*")]


async def test_every_member_is_listed_and_a_change_redraws_only_its_message(
    tocsin: Harness,
) -> None:
    batch = am_batch(*(am_alert(n) for n in range(1, MEMBERS + 1)))
    assert (await tocsin.webhook("alertmanager", batch)).status_code == 202
    [warning] = await tocsin.wait_for_messages(1)

    def all_listed() -> bool:
        text = "\n".join(m.text for m in listed(tocsin, warning))
        return len(set(re.findall(r"#(\d+) Disk", text))) == MEMBERS

    await tocsin.world.wait_for(all_listed, timeout=20)
    first, second, third = listed(tocsin, warning)
    assert f"({MEMBERS} of {MEMBERS} open)" in first.text
    assert "more" not in first.text
    assert LISTED_PER_MESSAGE == 20
    assert [len(m.text.splitlines()) - 1 for m in (first, second, third)] == [20, 20, 15]

    # a member listed in the second message resolves: that message and the counts change
    resolved = LISTED_PER_MESSAGE + 3
    await tocsin.webhook("alertmanager", am_batch(am_alert(resolved, "resolved")))

    def struck() -> bool:
        return f"~#{resolved} Disk" in tocsin.world.messages[(second.channel, second.ts)].text

    await tocsin.world.wait_for(struck, timeout=20)
    await tocsin.world.wait_for(
        lambda: f"({MEMBERS - 1} of {MEMBERS} open)" in listed(tocsin, warning)[0].text
    )
    writes = [w.method for w in tocsin.world.write_log.writes() if w.ts == third.ts]
    assert writes == ["chat.postMessage"]  # never redrawn: nothing in it changed
    assert len(listed(tocsin, warning)) == 3
