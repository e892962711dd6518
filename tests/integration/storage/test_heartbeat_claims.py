"""A missing heartbeat's alert is opened exactly once: three replicas checking at the same
moment on PostgreSQL (and SQLite's single writer) open one alert per heartbeat; a ping racing
a check leaves either no alert or a resolved one, never an open alert for a live heartbeat."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.policy.rules import build_rules
from config.policy import parse_policy
from config.settings import async_url
from escalation.model import Status
from storage.db import Database
from storage.heartbeats import next_due, open_missing, record_ping, states, sync
from storage.intake.ingest import IngestRules
from storage.tables import AlertRow
from tests.support.databases import database

NOW = datetime(2026, 12, 6, 3, 12, tzinfo=UTC)
BEATS = 8
POLICY = """
levels:
  1: {name: critical}
  2: {name: major}
  3: {name: minor}
integrations:
  - {name: am, format: alertmanager, token: "am-token-1234"}
default_route: {team: ops, channel: "#alerts"}
heartbeats:
""" + "".join(
    f"  - {{name: beat-{n}, interval: 5m, grace: 1m, integrations: [am]}}\n" for n in range(BEATS)
)


@pytest.fixture(params=["sqlite", "postgres"])
async def url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with database(request.param, tmp_path) as found:
        yield async_url(found)


def rules() -> IngestRules:
    return build_rules(parse_policy(POLICY, env={})).ingest


async def open_alerts(db: Database) -> list[AlertRow]:
    async with db.read() as session:
        query = select(AlertRow).where(AlertRow.status != Status.RESOLVED.value)
        return list((await session.exec(query)).all())


async def test_three_replicas_checking_at_once_open_each_missing_heartbeat_once(url: str) -> None:
    ingest = rules()
    replicas = [Database(url) for _ in range(3)]
    await replicas[0].upgrade()
    try:
        await asyncio.gather(*(sync(db, ingest.heartbeats, now=NOW) for db in replicas))
        later = NOW + timedelta(minutes=6)
        opened = await asyncio.gather(
            *(open_missing(db, ingest.heartbeats, ingest, now=later) for db in replicas)
        )
        assert sorted(a for found in opened for a in found) == list(range(1, BEATS + 1))
        assert len(await open_alerts(replicas[0])) == BEATS
        # and again, later, from every replica: nothing more
        again = await asyncio.gather(
            *(
                open_missing(db, ingest.heartbeats, ingest, now=later + timedelta(hours=1))
                for db in replicas
            )
        )
        assert again == [[], [], []]
        assert len(await open_alerts(replicas[0])) == BEATS
        assert await next_due(replicas[1], list(ingest.heartbeats)) is None  # all missing
    finally:
        for db in replicas:
            await db.dispose()


async def test_a_ping_racing_a_check_never_leaves_a_live_heartbeat_with_an_open_alert(
    url: str,
) -> None:
    ingest = rules()
    replicas = [Database(url) for _ in range(2)]
    await replicas[0].upgrade()
    try:
        await sync(replicas[0], ingest.heartbeats, now=NOW)
        at = NOW + timedelta(minutes=6)
        checker, pinger = replicas
        await asyncio.gather(
            open_missing(checker, ingest.heartbeats, ingest, now=at),
            *(record_ping(pinger, spec, ingest, now=at) for spec in ingest.heartbeats.values()),
        )
        stored = await states(checker)
        assert all(s.missing_since is None for s in stored.values())
        assert all(s.pings == 1 for s in stored.values())
        assert await open_alerts(checker) == []  # opened then resolved by the ping, or never
    finally:
        for db in replicas:
            await db.dispose()


async def test_sync_follows_a_changed_interval_but_keeps_the_last_ping(url: str) -> None:
    db = Database(url)
    await db.upgrade()
    try:
        ingest = rules()
        spec = ingest.heartbeats["beat-0"]
        await sync(db, ingest.heartbeats, now=NOW)
        await record_ping(db, spec, ingest, now=NOW + timedelta(minutes=1))
        longer = {"beat-0": dataclasses.replace(spec, interval_seconds=3600)}
        await sync(db, longer, now=NOW + timedelta(minutes=2))
        row = (await states(db))["beat-0"]
        assert row.first_seen_at == NOW
        assert row.due_at == NOW + timedelta(minutes=1, hours=1, seconds=60)
    finally:
        await db.dispose()
