"""Noise control over real HTTP with a fake clock: silences (by command, by menu, scheduled,
ended by hand or by expiry), groups sharing one warning, flapping — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot.sandbox.workspace.models import Message
from bot.slack import ids
from storage.tables import AlertEventRow, AlertRow, ResolutionRow
from tests.support.databases import database
from tests.support.harness import FakeClock, Harness, running_tocsin

POLICY = """
levels:
  1: {name: critical, emoji: ":red_circle:"}
  2: {name: major, emoji: ":large_orange_circle:"}
  3: {name: minor, emoji: ":large_blue_circle:"}
integrations:
  - {name: generic, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}"}
  - {name: alertmanager, format: alertmanager, token: "${TOCSIN_WEBHOOK_TOKEN}"}
default_route: {team: ops, channel: "#alerts", policy: default}
teams:
  ops: {timezone: Europe/Berlin, members: [U0ALICE, U0BOB]}
  web: {members: [U0CAROL]}
people:
  U0ALICE: {name: Alice}
  U0BOB: {name: Bob}
  U0CAROL: {name: Carol}
  U0DAVE: {name: Dave, roles: [admin]}
policies:
  default:
    tiers:
      - {notify: [{user: U0BOB}], after: 0m}
      - {notify: [{user: U0DAVE}], after: 10m}
flapping: {fires: 3, window: 30m}
"""


@pytest.fixture(params=["sqlite", "postgres"])
async def tocsin(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    async with (
        database(request.param, tmp_path) as url,
        running_tocsin(database_url=url, config_path=policy, clock=FakeClock()) as harness,
    ):
        yield harness


def clock(tocsin: Harness) -> FakeClock:
    assert isinstance(tocsin.service.clock, FakeClock)
    return tocsin.service.clock


def text_of(message: Message) -> str:
    return json.dumps(message.blocks) + message.text


async def fire(tocsin: Harness, title: str, status: str = "firing", **labels: str) -> None:
    body = {"title": title, "level": 2, "labels": labels, "status": status, "fingerprint": title}
    response = await tocsin.webhook("generic", body)
    assert response.status_code == 202, response.text


async def command(tocsin: Harness, user: str, text: str) -> str:
    before = len(tocsin.world.ephemerals_for(user))
    await tocsin.driver.slash_command(text=text, user=user)
    await tocsin.world.wait_for(lambda: len(tocsin.world.ephemerals_for(user)) > before)
    answer = tocsin.world.ephemerals_for(user)[-1]
    return answer.text + json.dumps(answer.blocks or [])


async def alert(tocsin: Harness, title: str) -> AlertRow:
    async def exists() -> bool:
        async with tocsin.service.db.read() as session:
            return (
                await session.exec(select(AlertRow).where(AlertRow.title == title))
            ).first() is not None

    await tocsin.until(exists, what=f"alert {title!r}")
    async with tocsin.service.db.read() as session:
        rows = (
            await session.exec(
                select(AlertRow).where(AlertRow.title == title).order_by(col(AlertRow.id))
            )
        ).all()
    return rows[-1]


async def rules_of(tocsin: Harness, alert_id: int) -> list[str]:
    async with tocsin.service.db.read() as session:
        query = (
            select(AlertEventRow.rule)
            .where(AlertEventRow.alert_id == alert_id)
            .order_by(col(AlertEventRow.id))
        )
        return list((await session.exec(query)).all())


async def wait_status(tocsin: Harness, title: str, status: str) -> AlertRow:
    async def reached() -> bool:
        return (await alert(tocsin, title)).status == status

    await tocsin.until(reached, what=f"{title!r} {status}")
    return await alert(tocsin, title)


async def settled(tocsin: Harness) -> None:
    """Everything written so far has gone to Slack (or been found to need nothing)."""
    await tocsin.service.outbox_sender.drain()


async def test_silenced_alert_is_kept_not_posted_and_is_posted_when_the_silence_is_ended(
    tocsin: Harness,
) -> None:
    answer = await command(
        tocsin, "U0ALICE", "silence service=db,env=~prod.* 2h upgrading the primary"
    )
    assert "In force" in answer
    assert "#1" in answer

    await fire(tocsin, "DB slow", service="db", env="prod-eu")
    await fire(tocsin, "Web slow", service="web", env="prod-eu")
    [posted] = await tocsin.wait_for_messages(1)
    assert "Web slow" in text_of(posted)
    muted = await wait_status(tocsin, "DB slow", "silenced")
    assert muted.silence_id == 1
    await fire(tocsin, "DB slow", service="db", env="prod-eu")  # counted while silenced
    await tocsin.until(lambda: _count_is(tocsin, "DB slow", 2), what="the repeat count")
    await settled(tocsin)
    assert len(tocsin.channel_messages()) == 1
    assert await tocsin.service.engine.drain() == 0  # Web slow paged as it opened; DB slow waits
    assert "silence" in (await command(tocsin, "U0BOB", "silences")).lower()

    ended = await command(tocsin, "U0BOB", "unsilence 1")
    assert "ended" in ended
    assert "1 alert(s)" in ended
    messages = await tocsin.wait_for_messages(2)
    assert any("DB slow" in text_of(m) for m in messages)
    assert (await alert(tocsin, "DB slow")).status == "firing"
    assert (await rules_of(tocsin, muted.id or 0))[:5] == [
        "SILENCE-1",
        "GRADE-1",
        "ROUTE-1",
        "REFIRE-1",
        "SILENCE-END",
    ]


async def _count_is(tocsin: Harness, title: str, count: int) -> bool:
    return (await alert(tocsin, title)).count == count


async def test_silence_expiry_posts_what_still_fires_and_records_what_resolved_meanwhile(
    tocsin: Harness,
) -> None:
    await command(tocsin, "U0ALICE", "silence service=db 1h nightly vacuum")
    await fire(tocsin, "Vacuum slow", service="db")
    await fire(tocsin, "Locks held", service="db")
    await wait_status(tocsin, "Locks held", "silenced")
    await fire(tocsin, "Locks held", "resolved", service="db")
    locks = await wait_status(tocsin, "Locks held", "resolved")
    await settled(tocsin)
    assert tocsin.channel_messages() == []

    clock(tocsin).advance(minutes=61)
    await tocsin.service.engine.drain()
    [message] = await tocsin.wait_for_messages(1)
    assert "Vacuum slow" in text_of(message)
    async with tocsin.service.db.read() as session:
        [record] = (await session.exec(select(ResolutionRow))).all()
    assert (record.alert_id, record.by_source) == (locks.id, True)
    assert "SILENCE-END" not in await rules_of(tocsin, locks.id or 0)
    await tocsin.service.engine.drain()  # the released alert escalates from tier 1
    await tocsin.world.wait_for(lambda: bool(tocsin.dms("U0BOB")))


async def test_maintenance_window_mutes_a_posted_alert_when_it_starts_and_it_resolves_in_place(
    tocsin: Harness,
) -> None:
    await fire(tocsin, "Replica lag", service="db")
    [message] = await tocsin.wait_for_messages(1)
    answer = await command(tocsin, "U0ALICE", "silence service=db 1h starting +30m failover test")
    assert "Scheduled" in answer
    assert (await alert(tocsin, "Replica lag")).status == "firing"

    clock(tocsin).advance(minutes=31)
    await tocsin.service.engine.drain()
    await wait_status(tocsin, "Replica lag", "silenced")
    await tocsin.world.wait_for(lambda: "Silenced" in text_of(tocsin.channel_messages()[0]))
    assert ids.END_SILENCE in text_of(tocsin.channel_messages()[0])

    await fire(tocsin, "Replica lag", "resolved", service="db")
    await tocsin.world.wait_for(
        lambda: "Resolved* by the source" in text_of(tocsin.channel_messages()[0])
    )
    assert [m.ts for m in tocsin.channel_messages()] == [message.ts]


async def test_silence_menu_and_end_button_on_the_warning_and_refusals_for_other_teams(
    tocsin: Harness,
) -> None:
    await fire(tocsin, "Cache misses", service="cache")
    [message] = await tocsin.wait_for_messages(1)

    await tocsin.driver.select_option(
        channel=message.channel, ts=message.ts, action_id=ids.SILENCE, user="U0CAROL", value="60"
    )
    await tocsin.world.wait_for(lambda: bool(tocsin.world.ephemerals_for("U0CAROL")))
    assert "Only members of team ops" in tocsin.world.ephemerals_for("U0CAROL")[-1].text
    row = await alert(tocsin, "Cache misses")
    assert row.status == "firing"
    assert "AUTH-2" in await rules_of(tocsin, row.id or 0)
    refused = await command(tocsin, "U0CAROL", "silence team=ops,service=cache 1h not mine")
    assert "Only members of team ops" in refused

    await tocsin.driver.select_option(
        channel=message.channel, ts=message.ts, action_id=ids.SILENCE, user="U0ALICE", value="60"
    )
    await wait_status(tocsin, "Cache misses", "silenced")
    await tocsin.world.wait_for(lambda: ids.END_SILENCE in text_of(tocsin.channel_messages()[0]))
    await tocsin.driver.press_button(
        channel=message.channel, ts=message.ts, action_id=ids.END_SILENCE, user="U0DAVE"
    )
    await wait_status(tocsin, "Cache misses", "firing")
    await tocsin.world.wait_for(lambda: ids.ACKNOWLEDGE in text_of(tocsin.channel_messages()[0]))
    assert len(tocsin.channel_messages()) == 1


def am_alert(fingerprint: str, instance: str, status: str = "firing") -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "DiskFull", "severity": "warning", "instance": instance},
        "annotations": {"summary": f"Disk almost full on {instance}"},
        "startsAt": "2026-11-21T10:00:00Z",
        "fingerprint": fingerprint,
    }


def am_batch(*alerts: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "4",
        "status": "firing",
        "receiver": "tocsin",
        "groupKey": '{}:{alertname="DiskFull"}',
        "alerts": list(alerts),
    }


async def test_grouped_alerts_share_one_warning_one_escalation_and_resolve_together(
    tocsin: Harness,
) -> None:
    batch = am_batch(am_alert("f1", "db-1"), am_alert("f2", "db-2"), am_alert("f3", "db-3"))
    assert (await tocsin.webhook("alertmanager", batch)).status_code == 202
    [message] = await tocsin.wait_for_messages(1)
    await tocsin.world.wait_for(
        lambda: "Group of 3 alerts" in text_of(tocsin.channel_messages()[0])
    )
    await tocsin.world.wait_for(lambda: len(tocsin.thread(tocsin.channel_messages()[0])) >= 1)

    assert await tocsin.service.engine.drain() == 0  # the group's one escalation: done as it opened
    await tocsin.world.wait_for(lambda: len(tocsin.dms("U0BOB")) == 1)

    await tocsin.driver.press_button(
        channel=message.channel, ts=message.ts, action_id=ids.ACKNOWLEDGE, user="U0ALICE"
    )
    for instance in ("db-1", "db-2", "db-3"):
        acked = await wait_status(tocsin, f"Disk almost full on {instance}", "acknowledged")
        assert acked.acknowledged_by == "U0ALICE"

    gone = am_batch(am_alert("f1", "db-1", "resolved"), am_alert("f2", "db-2", "resolved"))
    await tocsin.webhook("alertmanager", gone)
    await wait_status(tocsin, "Disk almost full on db-2", "resolved")

    def listed() -> str:
        return "\n".join(m.text for m in tocsin.thread(tocsin.channel_messages()[0]))

    # the fake Slack allows about one message a second per channel, as Slack does, and the
    # warning, its member list and the thread lines share #alerts
    await tocsin.world.wait_for(lambda: "~#1 Disk almost full on db-1~" in listed(), timeout=15)
    assert "~#2" in listed()
    assert "#3 Disk almost full on db-3 — acknowledged" in listed()
    assert "Resolved" not in text_of(tocsin.channel_messages()[0])

    await tocsin.webhook("alertmanager", am_batch(am_alert("f3", "db-3", "resolved")))
    await tocsin.world.wait_for(
        lambda: "*Resolved* by the source" in text_of(tocsin.channel_messages()[0])
    )
    assert len(tocsin.channel_messages()) == 1
    async with tocsin.service.db.read() as session:
        records = (await session.exec(select(ResolutionRow))).all()
    assert len(records) == 3
    assert "GROUP-LEAD-1" in await rules_of(tocsin, 2)  # #1 resolved first: #2 took over


async def test_flapping_alert_reopens_its_warning_and_says_so(tocsin: Harness) -> None:
    for _ in range(2):
        await fire(tocsin, "Link flaps", service="net")
        await wait_status(tocsin, "Link flaps", "firing")
        await fire(tocsin, "Link flaps", "resolved", service="net")
        await wait_status(tocsin, "Link flaps", "resolved")
        clock(tocsin).advance(minutes=5)
    assert len(await tocsin.wait_for_messages(2)) == 2  # not flapping yet: two warnings

    await fire(tocsin, "Link flaps", service="net")
    third = await wait_status(tocsin, "Link flaps", "firing")
    await tocsin.world.wait_for(
        lambda: "flapping: fired 3 times in 30 min" in text_of(tocsin.channel_messages()[-1])
    )
    await settled(tocsin)
    assert len(tocsin.channel_messages()) == 2
    assert "FLAP-1" in await rules_of(tocsin, third.id or 0)
