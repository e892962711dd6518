"""The policy file reloaded while Tocsin runs, over real HTTP and the fake Slack: a good file
takes effect (a new route sends the next alert elsewhere), a broken one is refused and says
so everywhere (log, /readyz, metrics, a DM to the admins), SIGHUP and an edit both reload —
on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from tests.support.databases import database
from tests.support.harness import Harness, running_tocsin
from tests.support.tocsin_process import wait_until

POLICY = """\
levels:
  1: {name: critical}
  2: {name: major}
  3: {name: minor}
integrations:
  - {name: generic, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}"}
default_route: {team: ops, channel: "#alerts", policy: default}
people:
  U0ALICE: {name: Alice, roles: [admin]}
  U0BOB: {name: Bob}
"""
WITH_ROUTE = (
    POLICY
    + """\
routes:
  - {match: {service: db}, team: ops, channel: "#db", policy: default}
"""
)
BROKEN = (
    POLICY.replace("  3: {name: minor}\n", "")
    + """\
routes:
  - {match: {service: db}, team: ops, policy: default, chanel: "#db"}
"""
)


@pytest.fixture(params=["sqlite", "postgres"])
async def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy" / "policy.yaml"
    path.parent.mkdir()
    path.write_text(POLICY)
    return path


@pytest.fixture
async def tocsin(backend: str, policy: Path, tmp_path: Path) -> AsyncIterator[Harness]:
    async with (
        database(backend, tmp_path) as url,
        running_tocsin(
            database_url=url, config_path=policy, settings={"TOCSIN_POLICY_WATCH": False}
        ) as harness,
    ):
        yield harness


async def db_alert(tocsin: Harness, title: str) -> None:
    payload = {"title": title, "level": 2, "labels": {"service": "db"}}
    response = await tocsin.webhook("generic", payload)
    assert response.status_code == 202, response.text


async def readyz_config(tocsin: Harness) -> dict[str, Any]:
    response = await tocsin.http.get(f"{tocsin.base_url}/readyz")
    assert response.status_code == 200
    config: dict[str, Any] = response.json()["config"]
    return config


async def metric_lines(tocsin: Harness, name: str) -> list[str]:
    body = (await tocsin.http.get(f"{tocsin.base_url}/metrics")).text
    return [line for line in body.splitlines() if line.startswith(name)]


async def test_sighup_switches_to_a_valid_file_and_its_new_route_takes_effect(
    tocsin: Harness, policy: Path
) -> None:
    await db_alert(tocsin, "Replication lag 1")
    await tocsin.wait_for_messages(1, channel="#alerts")
    before = (await readyz_config(tocsin))["version"]

    await asyncio.to_thread(policy.write_text, WITH_ROUTE)
    os.kill(os.getpid(), signal.SIGHUP)  # the service's handler runs on this event loop

    async def switched() -> bool:
        return bool((await readyz_config(tocsin))["version"] != before)

    await wait_until(switched, what="the reloaded version in /readyz", seconds=10)
    await db_alert(tocsin, "Replication lag 2")
    [moved] = await tocsin.wait_for_messages(1, channel="#db")
    assert "Replication lag 2" in moved.text + str(moved.blocks)
    assert len(tocsin.channel_messages("#alerts")) == 1
    config = await readyz_config(tocsin)
    assert config["status"] == "current"
    assert 'tocsin_config_reloads_total{result="applied"} 1.0' in await metric_lines(
        tocsin, "tocsin_config_reloads_total"
    )
    assert f'tocsin_config_info{{version="{config["version"]}"}} 1.0' in await metric_lines(
        tocsin, "tocsin_config_info"
    )


async def test_a_broken_file_keeps_the_old_one_and_reports_every_problem(
    tocsin: Harness, policy: Path
) -> None:
    running = (await readyz_config(tocsin))["version"]
    await asyncio.to_thread(policy.write_text, BROKEN)

    with capture_logs() as logs:
        assert await tocsin.service.reloader.reload("test") == "refused"

    config = await readyz_config(tocsin)
    assert config["status"] == "stale"
    assert config["version"] == running
    assert config["errors"] == [
        "line 1: levels: levels [3] are missing; define 1, 2 and 3",
        "line 11: routes[0].channel: is required",
        "line 11: routes[0].chanel: is not a known setting; did you mean channel?",
    ]
    [line] = [e for e in logs if e["event"] == "policy_reload_refused"]
    assert line["log_level"] == "error"
    assert line["problems"] == config["errors"]
    assert line["path"] == str(policy)
    assert "tocsin_config_stale 1.0" in await metric_lines(tocsin, "tocsin_config_stale")
    assert 'tocsin_config_reloads_total{result="refused"} 1.0' in await metric_lines(
        tocsin, "tocsin_config_reloads_total"
    )
    [dm] = tocsin.dms("U0ALICE")  # the admin of the running policy
    assert "keeps running the previous one" in dm.text
    for problem in config["errors"]:
        assert problem in dm.text
    assert tocsin.dms("U0BOB") == []

    # the old configuration still routes alerts; the same broken file is not DMed twice
    await db_alert(tocsin, "Replication lag 3")
    await tocsin.wait_for_messages(1, channel="#alerts")
    assert await tocsin.service.reloader.reload("test") == "refused"
    assert len(tocsin.dms("U0ALICE")) == 1

    await asyncio.to_thread(policy.write_text, WITH_ROUTE)
    assert await tocsin.service.reloader.reload("test") == "applied"
    config = await readyz_config(tocsin)
    assert config["status"] == "current"
    assert "errors" not in config
    assert "tocsin_config_stale 0.0" in await metric_lines(tocsin, "tocsin_config_stale")


async def test_an_unchanged_file_is_not_switched_again(tocsin: Harness) -> None:
    before = tocsin.service.live.current
    assert await tocsin.service.reloader.reload("test") == "unchanged"
    assert tocsin.service.live.current is before


async def test_an_edited_file_is_reloaded_by_the_watcher(
    backend: str, policy: Path, tmp_path: Path
) -> None:
    async with (
        database(backend, tmp_path) as url,
        running_tocsin(database_url=url, config_path=policy) as tocsin,
    ):
        before = (await readyz_config(tocsin))["version"]
        await asyncio.to_thread(policy.write_text, WITH_ROUTE)

        async def switched() -> bool:
            return bool((await readyz_config(tocsin))["version"] != before)

        await wait_until(switched, what="the watcher's reload", seconds=15)
        await db_alert(tocsin, "Replication lag 4")
        await tocsin.wait_for_messages(1, channel="#db")

        # an editor's save by rename (a new file in place of the old) is seen as well
        fresh = policy.with_name("policy.yaml.new")
        await asyncio.to_thread(fresh.write_text, BROKEN)
        await asyncio.to_thread(fresh.replace, policy)

        async def refused() -> bool:
            return bool((await readyz_config(tocsin))["status"] == "stale")

        await wait_until(refused, what="the broken file refused", seconds=15)
        await db_alert(tocsin, "Replication lag 5")
        await tocsin.wait_for_messages(2, channel="#db")  # the running file still routes
