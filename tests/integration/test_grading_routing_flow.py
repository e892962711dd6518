"""Grading and routing end to end over real HTTP: metric webhooks graded by deviation (noise
dropped and counted, worse re-graded up, better shown), a route with ``continue`` mirroring
the warning to a second channel, and business-hours routes in the team's time zone."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import select

from bot.sandbox.workspace.models import Message
from config.settings import EXAMPLE_POLICY
from storage.tables import AlertEventRow, AlertMirrorRow, AlertRow, NoiseDropRow, OutboxRow
from tests.support.databases import database
from tests.support.harness import FakeClock, Harness, running_tocsin

# Wednesday 1 May 2024, 07:30 UTC = 09:30 in Berlin (the ops team's zone): office hours
START = datetime(2024, 5, 1, 7, 30, tzinfo=UTC)
ROUTES = [
    {
        "match": {"metric": "orders_per_minute"},
        "continue": True,
        "team": "ops",
        "channel": "#alerts",
    },
    {"match": {"metric": "orders_per_minute"}, "team": "ops", "channel": "#growth"},
    {
        "match": {"service": "db"},
        "when": {"days": "mon-fri", "between": "09:00-18:00"},
        "team": "ops",
        "channel": "#db-day",
    },
    {"match_re": {"service": "db|postgres"}, "team": "ops", "channel": "#db-night"},
    {"match": {"service": "lost"}, "continue": True, "team": "ops", "channel": "#alerts"},
    {"match": {"service": "lost"}, "team": "ops", "channel": "C0NOWHERE1"},
]


@pytest.fixture(params=["sqlite", "postgres"])
async def tocsin(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    doc: dict[str, Any] = yaml.safe_load(EXAMPLE_POLICY.read_text(encoding="utf-8"))
    doc["routes"] = ROUTES
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    async with (
        database(request.param, tmp_path) as url,
        running_tocsin(database_url=url, config_path=policy, clock=FakeClock(START)) as harness,
    ):
        yield harness


def orders(value: float) -> dict[str, Any]:
    return {
        "title": "Orders per minute dropped",
        "fingerprint": "orders-per-minute",
        "category": "customer",
        "metric": "orders_per_minute",
        "value": value,
        "baseline": 100,
        "unit": "/min",
        "window": "15m",
    }


def text_of(message: Message) -> str:
    return json.dumps(message.blocks) + message.text


async def until_text(harness: Harness, channel: str, needle: str) -> Message:
    def found() -> bool:
        return any(needle in text_of(m) for m in harness.channel_messages(channel))

    await harness.world.wait_for(found, timeout=10)
    [message] = harness.channel_messages(channel)
    return message


async def until_in_thread(harness: Harness, channel: str, needle: str) -> None:
    def found() -> bool:
        return any(
            needle in reply.text
            for message in harness.channel_messages(channel)
            for reply in harness.thread(message)
        )

    await harness.world.wait_for(found, timeout=10)


async def test_metric_alert_is_dropped_as_noise_then_graded_regraded_up_and_shown_improving(
    tocsin: Harness,
) -> None:
    # 3 % off the baseline: noise, counted, shown nowhere
    assert (await tocsin.webhook("generic", orders(97))).status_code == 202

    async def dropped() -> bool:
        async with tocsin.service.db.read() as session:
            row = await session.get(NoiseDropRow, ("orders-per-minute", "generic"))
        return row is not None and row.count == 1

    await tocsin.until(dropped, what="the noise drop to be counted")
    assert tocsin.channel_messages("#alerts") == []
    await tocsin.driver.slash_command(text="list", user="U0CAROL")
    await tocsin.world.wait_for(lambda: bool(tocsin.world.ephemerals_for("U0CAROL")))
    [answer] = tocsin.world.ephemerals_for("U0CAROL")
    assert "1 metric event(s) of 1 alert(s) dropped as noise" in answer.text

    # 7 %: level 3, in #alerts, mirrored to #growth by the route after the continue
    await tocsin.webhook("generic", orders(93))
    warning = await until_text(tocsin, "#alerts", "deviation *7% below*")
    assert "MINOR: Orders per minute dropped" in text_of(warning)
    mirror = await until_text(tocsin, "#growth", "MINOR: Orders per minute dropped")
    assert "Copy of the warning in #alerts" in text_of(mirror)

    # 23 %: worse, so re-graded up to level 1; the warning and its mirror are redrawn
    await tocsin.webhook("generic", orders(77))
    warning = await until_text(tocsin, "#alerts", "CRITICAL: Orders per minute dropped")
    assert "deviation *23% below*" in text_of(warning)
    await until_in_thread(tocsin, "#alerts", "Re-graded from level 3 (minor) to *level 1")
    await until_text(tocsin, "#growth", "CRITICAL: Orders per minute dropped")

    # back to 7 %: shown, but the level stays 1
    await tocsin.webhook("generic", orders(93))
    await until_in_thread(tocsin, "#alerts", "Value back to 7% from 23%")
    await until_text(tocsin, "#alerts", "deviation *7% below*")
    assert "CRITICAL" in text_of(tocsin.channel_messages("#alerts")[0])

    async with tocsin.service.db.read() as session:
        [alert] = (await session.exec(select(AlertRow))).all()
        rules = [
            e.rule
            for e in (
                await session.exec(select(AlertEventRow).where(AlertEventRow.alert_id == alert.id))
            ).all()
        ]
        [mirror_row] = (await session.exec(select(AlertMirrorRow))).all()
    assert alert.level == 1
    assert alert.policy_snapshot["ack_within"] == 300  # the level 1 deadline now applies
    assert {"ROUTE-1", "ROUTE-2", "REGRADE-1", "REGRADE-2"} <= set(rules)
    assert (mirror_row.channel, mirror_row.ts is not None) == ("#growth", True)


async def test_business_hours_route_in_the_teams_zone_and_night_route_after_hours(
    tocsin: Harness,
) -> None:
    await tocsin.webhook("generic", {"title": "Replica lag", "labels": {"service": "db"}})
    await tocsin.wait_for_messages(1, channel="#db-day")

    assert isinstance(tocsin.service.clock, FakeClock)
    tocsin.service.clock.advance(hours=9)  # 18:30 in Berlin
    await tocsin.webhook("generic", {"title": "Vacuum stuck", "labels": {"service": "db"}})
    [night] = await tocsin.wait_for_messages(1, channel="#db-night")
    assert "Vacuum stuck" in text_of(night)
    assert len(tocsin.channel_messages("#db-day")) == 1


async def test_a_mirror_slack_refuses_never_holds_up_the_alerts_own_messages(
    tocsin: Harness,
) -> None:
    alert = {"title": "Lost mirror", "fingerprint": "lost-1", "labels": {"service": "lost"}}
    await tocsin.webhook("generic", alert)
    [warning] = await tocsin.wait_for_messages(1)

    await tocsin.webhook("generic", alert)  # the repeat's redraw comes after the failed copy
    await until_text(tocsin, "#alerts", "Fired 2 times")

    async with tocsin.service.db.read() as session:
        [mirror] = (await session.exec(select(AlertMirrorRow))).all()
        draws = (
            await session.exec(select(OutboxRow).where(OutboxRow.alert_id == mirror.alert_id))
        ).all()
    assert (mirror.channel, mirror.ts) == ("C0NOWHERE1", None)
    assert "Lost mirror" in text_of(warning)
    # delivered first time: no error, no retry waiting in the alert's queue
    assert [(d.kind, d.attempts, d.last_error) for d in draws if d.kind == "post_warning"] == [
        ("post_warning", 1, None)
    ]


async def test_a_copy_slack_took_without_answering_is_found_not_posted_twice(
    tocsin: Harness,
) -> None:
    # Slack posts the copy in #growth but answers 503: the outcome looks unknown
    tocsin.world.fail_next("chat.postMessage", status=503, channel="#growth", apply=True)
    await tocsin.webhook("generic", orders(93))
    [copy] = await tocsin.wait_for_messages(1, channel="#growth")

    async def recorded() -> bool:
        async with tocsin.service.db.read() as session:
            mirrors = (await session.exec(select(AlertMirrorRow))).all()
        return [m.ts for m in mirrors] == [copy.ts]

    await tocsin.until(recorded, what="the copy found and recorded", seconds=30)
    await tocsin.webhook("generic", orders(91))  # a redraw: the copy is updated, not posted
    await until_text(tocsin, "#growth", "Fired 2 times")
    assert [m.ts for m in tocsin.channel_messages("#growth")] == [copy.ts]
