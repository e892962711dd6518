"""Heartbeats over real HTTP with a fake clock, on SQLite and PostgreSQL: a silent heartbeat
opens an alert (a warning in the fake Slack, a page), the next ping resolves it and says so
in the thread; Alertmanager's Watchdog counts as a ping and never opens an alert; a heartbeat
missing while Tocsin was down is noticed on start, and is not opened twice after a restart;
the ping's authentication; ``/tocsin heartbeats``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from bot.sandbox.workspace.models import Message
from escalation.model import Status
from storage.tables import AlertEventRow, AlertRow, HeartbeatRow
from tests.support.databases import database
from tests.support.harness import WEBHOOK_TOKEN, FakeClock, Harness, running_tocsin

CRON_TOKEN = "cron-token-12345"
POLICY = f"""
levels:
  1: {{name: critical, emoji: ":red_circle:"}}
  2: {{name: major, emoji: ":large_orange_circle:"}}
  3: {{name: minor, emoji: ":large_blue_circle:"}}
integrations:
  - {{name: am, format: alertmanager, token: "${{TOCSIN_WEBHOOK_TOKEN}}"}}
  - {{name: cron, format: generic, token: "{CRON_TOKEN}", rate_limit: {{per_minute: 1, burst: 3}}}}
default_route: {{team: ops, channel: "#alerts", policy: default}}
teams:
  ops: {{timezone: UTC}}
people:
  U0ALICE: {{name: Alice}}
policies:
  default:
    tiers:
      - {{notify: [{{user: U0ALICE}}], after: 0m}}
heartbeats:
  - name: prometheus-watchdog
    interval: 5m
    grace: 1m
    level: 1
    integrations: [am]
    alertname: Watchdog
  - name: nightly-backup
    interval: 1d
    grace: 1h
    level: 2
    integrations: [cron]
    route: {{team: ops, channel: "#backups"}}
"""
WATCHDOG = "prometheus-watchdog"


def watchdog_body(*others: dict[str, Any]) -> dict[str, Any]:
    """Alertmanager's notification with the always-firing Watchdog (and ``others``)."""
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": "Watchdog", "severity": "none"},
            "annotations": {"summary": "An alert that should always be firing"},
            "startsAt": "2026-12-06T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "fingerprint": "e1a2b3c4d5e6f708",
        },
        *others,
    ]
    return {
        "version": "4",
        "groupKey": '{}:{alertname="Watchdog"}',
        "status": "firing",
        "receiver": "tocsin-watchdog",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example.com:9093",
        "alerts": alerts,
    }


def write_policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    return path


@pytest.fixture(params=["sqlite", "postgres"])
async def url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with database(request.param, tmp_path) as found:
        yield found


@pytest.fixture
async def tocsin(url: str, tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_tocsin(
        database_url=url, config_path=write_policy(tmp_path), clock=FakeClock()
    ) as harness:
        yield harness


def clock(harness: Harness) -> FakeClock:
    assert isinstance(harness.service.clock, FakeClock)
    return harness.service.clock


async def ping(
    harness: Harness, name: str, *, token: str | None = WEBHOOK_TOKEN, method: str = "POST"
) -> httpx.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return await harness.http.request(
        method, f"{harness.base_url}/heartbeats/{name}", headers=headers
    )


async def alerts(harness: Harness) -> list[AlertRow]:
    async with harness.service.db.read() as session:
        return list((await session.exec(select(AlertRow).order_by(col(AlertRow.id)))).all())


async def heartbeat(harness: Harness, name: str) -> HeartbeatRow:
    async with harness.service.db.read() as session:
        return (await session.exec(select(HeartbeatRow).where(HeartbeatRow.name == name))).one()


async def opened_after_drain(harness: Harness) -> int:
    """Run the escalation engine once, as its timer would; the alerts open afterwards."""
    await harness.service.engine.drain()
    return sum(a.status != Status.RESOLVED.value for a in await alerts(harness))


def text_of(message: Message) -> str:
    return json.dumps(message.blocks) + message.text


async def test_a_silent_heartbeat_opens_a_graded_routed_paged_alert_and_a_ping_resolves_it(
    tocsin: Harness,
) -> None:
    assert (await ping(tocsin, WATCHDOG)).status_code == 200
    pinged = (await heartbeat(tocsin, WATCHDOG)).last_ping_at
    assert pinged is not None
    clock(tocsin).advance(minutes=5, seconds=30)  # within interval + grace (6 min)
    assert await opened_after_drain(tocsin) == 0
    opened = clock(tocsin).advance(seconds=31)
    assert await opened_after_drain(tocsin) == 1
    [warning] = await tocsin.wait_for_messages(1)
    # with its date when the ping was the day before (the run straddles midnight UTC)
    day = "" if opened.date() == pinged.date() else f"{pinged:%b} {pinged.day} "
    expected = f"No heartbeat from `{WATCHDOG}` since {day}{pinged:%H:%M} UTC"
    assert expected in text_of(warning)
    [alert] = await alerts(tocsin)
    assert (alert.level, alert.channel, alert.source) == (1, "#alerts", "heartbeat")
    await tocsin.world.wait_for(lambda: bool(tocsin.dms("U0ALICE")), timeout=10)  # paged
    clock(tocsin).advance(minutes=30)
    assert await opened_after_drain(tocsin) == 1, "a missing spell opens one alert"
    assert len(await alerts(tocsin)) == 1

    answer = await ping(tocsin, WATCHDOG)
    assert answer.status_code == 200
    assert answer.json()["resolved_alert"] == alert.id
    [resolved] = await alerts(tocsin)
    assert resolved.status == Status.RESOLVED.value
    await tocsin.world.wait_for(
        lambda: any("pinged again" in text_of(m) for m in tocsin.thread(warning)), timeout=10
    )
    assert (await heartbeat(tocsin, WATCHDOG)).missing_since is None


async def test_a_heartbeat_never_pinged_is_missing_once_its_time_from_the_first_start_passes(
    tocsin: Harness,
) -> None:
    clock(tocsin).advance(hours=25)
    assert await opened_after_drain(tocsin) == 2  # both heartbeats: never pinged
    [backup] = await tocsin.wait_for_messages(1, channel="#backups")  # its own route
    assert "No heartbeat from `nightly-backup` since" in text_of(backup)
    assert "never pinged" in text_of(backup)
    levels = {a.title.split("`")[1]: a.level for a in await alerts(tocsin)}
    assert levels == {WATCHDOG: 1, "nightly-backup": 2}


async def test_alertmanagers_watchdog_is_a_ping_and_never_an_alert(tocsin: Harness) -> None:
    other = {
        "status": "firing",
        "labels": {"alertname": "DiskFull", "severity": "critical"},
        "annotations": {"summary": "Disk full on db-1"},
        "startsAt": "2026-12-06T10:00:00Z",
        "fingerprint": "0a0b0c0d0e0f0102",
    }
    clock(tocsin).advance(minutes=4)
    assert (await tocsin.webhook("am", watchdog_body())).status_code == 202
    assert (await heartbeat(tocsin, WATCHDOG)).pings == 1
    assert (await tocsin.webhook("am", watchdog_body(other))).status_code == 202
    [warning] = await tocsin.wait_for_messages(1)  # DiskFull only
    assert "Disk full on db-1" in text_of(warning)
    assert (await heartbeat(tocsin, WATCHDOG)).pings == 2
    clock(tocsin).advance(minutes=4)  # 8 min after start, 4 after the last Watchdog
    assert await opened_after_drain(tocsin) == 1  # DiskFull
    assert [a.title for a in await alerts(tocsin)] == ["Disk full on db-1"]


async def test_a_watchdog_ends_a_missing_spell(tocsin: Harness) -> None:
    clock(tocsin).advance(minutes=7)
    assert await opened_after_drain(tocsin) == 1
    assert (await tocsin.webhook("am", watchdog_body())).status_code == 202
    [alert] = await alerts(tocsin)
    assert alert.status == Status.RESOLVED.value


async def test_pings_need_one_of_the_heartbeats_integrations_tokens(tocsin: Harness) -> None:
    assert (await ping(tocsin, WATCHDOG, token=None)).status_code == 401
    assert (await ping(tocsin, WATCHDOG, token="not-the-token")).status_code == 401
    # a real token, of an integration the heartbeat does not list
    assert (await ping(tocsin, WATCHDOG, token=CRON_TOKEN)).status_code == 401
    assert (await heartbeat(tocsin, WATCHDOG)).pings == 0
    assert (await ping(tocsin, "no-such-beat")).status_code == 404
    good = await ping(tocsin, "nightly-backup", token=CRON_TOKEN, method="GET")
    assert good.status_code == 200
    by_query = await tocsin.http.get(
        f"{tocsin.base_url}/heartbeats/{WATCHDOG}", params={"token": WEBHOOK_TOKEN}
    )
    assert by_query.status_code == 200
    assert (await heartbeat(tocsin, WATCHDOG)).pings == 1


async def test_the_heartbeats_command_lists_last_ping_expected_and_status(
    tocsin: Harness,
) -> None:
    assert (await ping(tocsin, WATCHDOG)).status_code == 200
    clock(tocsin).advance(hours=25)
    assert (await ping(tocsin, WATCHDOG)).status_code == 200
    await opened_after_drain(tocsin)
    await tocsin.driver.slash_command(text="heartbeats", user="U0ALICE")
    await tocsin.world.wait_for(lambda: bool(tocsin.world.ephemerals_for("U0ALICE")), timeout=10)
    text = tocsin.world.ephemerals_for("U0ALICE")[0].text
    watchdog_line, backup_line = [line for line in text.splitlines() if line.startswith("•")]
    assert f"`{WATCHDOG}`" in watchdog_line
    assert ":large_green_circle: ok" in watchdog_line
    assert "`nightly-backup`" in backup_line
    assert ":red_circle: missing" in backup_line
    assert "last ping never" in backup_line


async def test_a_heartbeat_missing_while_tocsin_was_down_is_opened_on_start_and_only_once(
    url: str, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path)
    fake = FakeClock()
    async with running_tocsin(database_url=url, config_path=policy, clock=fake) as first:
        assert (await ping(first, WATCHDOG)).status_code == 200
        assert await opened_after_drain(first) == 0
    fake.advance(minutes=20)  # down for 20 minutes
    async with running_tocsin(database_url=url, config_path=policy, clock=fake) as second:
        assert await opened_after_drain(second) == 1
        [warning] = await second.wait_for_messages(1)
        assert f"No heartbeat from `{WATCHDOG}`" in text_of(warning)
    fake.advance(minutes=5)
    async with running_tocsin(database_url=url, config_path=policy, clock=fake) as third:
        assert await opened_after_drain(third) == 1
        assert len(await alerts(third)) == 1, "opened again after a restart"
        assert (await ping(third, WATCHDOG)).json()["resolved_alert"] is not None
        async with third.service.db.read() as session:
            rules = (await session.exec(select(AlertEventRow.rule))).all()
        assert "HEARTBEAT-1" in rules


async def test_pings_count_against_their_integrations_rate_limit(tocsin: Harness) -> None:
    answers = [
        (await ping(tocsin, "nightly-backup", token=CRON_TOKEN)).status_code for _ in range(4)
    ]
    assert answers == [200, 200, 200, 429]
    assert (await heartbeat(tocsin, "nightly-backup")).pings == 3
