"""Bad webhooks and forged Slack requests are refused with clear answers (SQLite)."""

from __future__ import annotations

import asyncio
import json
import platform
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner, Result

from bot.cli import app as cli
from bot.runtime.version import tocsin_version
from bot.sandbox.signing import sign_request
from storage.tables import InboxRow
from tests.support.databases import database
from tests.support.harness import SIGNING_SECRET, WEBHOOK_TOKEN, Harness, running_tocsin


@pytest.fixture
async def tocsin(tmp_path: Path) -> AsyncIterator[Harness]:
    async with database("sqlite", tmp_path) as url, running_tocsin(database_url=url) as harness:
        yield harness


async def inbox_size(tocsin: Harness) -> int:
    async with tocsin.service.db.read() as session:
        return len((await session.exec(select(InboxRow))).all())


async def test_wrong_token_is_401_and_stores_nothing(tocsin: Harness) -> None:
    response = await tocsin.webhook("generic", {"title": "x"}, token="not-the-token")
    assert response.status_code == 401
    assert await inbox_size(tocsin) == 0


async def test_token_in_query_string_is_accepted(tocsin: Harness) -> None:
    response = await tocsin.http.post(
        f"{tocsin.base_url}/webhooks/generic?token={WEBHOOK_TOKEN}", json={"title": "x"}
    )
    assert response.status_code == 202


async def test_unknown_integration_is_404(tocsin: Harness) -> None:
    response = await tocsin.webhook("nagios", {"title": "x"})
    assert response.status_code == 404
    assert "nagios" in response.json()["error"]


async def test_body_over_one_mebibyte_is_413(tocsin: Harness) -> None:
    response = await tocsin.webhook("generic", {"title": "x", "description": "a" * (1 << 20)})
    assert response.status_code == 413
    assert await inbox_size(tocsin) == 0


async def test_body_that_is_not_json_is_400(tocsin: Harness) -> None:
    response = await tocsin.http.post(
        f"{tocsin.base_url}/webhooks/generic",
        content=b"{not json",
        headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
    )
    assert response.status_code == 400
    assert "not JSON" in response.json()["error"]


async def test_body_of_the_wrong_shape_is_422_naming_the_field(tocsin: Harness) -> None:
    response = await tocsin.webhook("alertmanager", {"version": "4", "alerts": [{"labels": {}}]})
    assert response.status_code == 422
    assert response.json()["field"].startswith("alerts[0]")
    response = await tocsin.webhook("generic", {"title": "x", "level": 7})
    assert response.status_code == 422
    assert response.json()["field"] == "level"
    assert await inbox_size(tocsin) == 0


async def test_forged_slack_signature_is_401(tocsin: Harness) -> None:
    body = "payload=" + json.dumps({"type": "block_actions"})
    headers = sign_request(signing_secret="wrong-secret", body=body, timestamp=int(time.time()))
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    response = await tocsin.http.post(
        f"{tocsin.base_url}/slack/events", content=body, headers=headers
    )
    assert response.status_code == 401


async def test_stale_slack_request_is_401(tocsin: Harness) -> None:
    body = "payload=" + json.dumps({"type": "block_actions"})
    stale = int(time.time()) - 10 * 60
    headers = sign_request(signing_secret=SIGNING_SECRET, body=body, timestamp=stale)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    response = await tocsin.http.post(
        f"{tocsin.base_url}/slack/events", content=body, headers=headers
    )
    assert response.status_code == 401


async def test_alert_text_cannot_mention_anyone(tocsin: Harness) -> None:
    hostile = {
        "title": "<!channel> wake up <@U0ALICE>",
        "description": "<!here> see <https://evil.example|https://good.example> @everyone",
        "labels": {"team": "<#C123>"},
    }
    assert (await tocsin.webhook("generic", hostile)).status_code == 202
    [message] = await tocsin.wait_for_messages(1)
    rendered = json.dumps(message.blocks) + message.text
    for live in ("<!channel>", "<!here>", "<@U0ALICE>", "<#C123>", "<https://evil"):
        assert live not in rendered


async def test_health_and_readiness(tocsin: Harness) -> None:
    assert (await tocsin.http.get(f"{tocsin.base_url}/healthz")).status_code == 200
    ready = await tocsin.http.get(f"{tocsin.base_url}/readyz")
    assert ready.status_code == 200
    assert ready.json()["ready"] is True


async def test_metrics_count_webhooks_by_outcome_and_show_open_alerts(tocsin: Harness) -> None:
    await tocsin.webhook("generic", {"title": "counted", "level": 2})
    await tocsin.webhook("generic", {"title": "x"}, token="wrong-token-value")
    await tocsin.wait_for_messages(1)
    response = await tocsin.http.get(f"{tocsin.base_url}/metrics")
    assert response.status_code == 200
    text = response.text
    assert 'tocsin_webhooks_received_total{integration="generic",outcome="accepted"} 1.0' in text
    assert 'tocsin_webhooks_received_total{integration="generic",outcome="unauthorized"} 1.0' in (
        text
    )
    assert 'tocsin_alerts_open{level="2",status="firing"} 1.0' in text
    assert 'tocsin_slack_calls_total{method="chat.postMessage",outcome="ok"}' in text
    assert "tocsin_outbox_depth" in text


async def test_every_response_carries_a_request_id(tocsin: Harness) -> None:
    given = await tocsin.http.get(f"{tocsin.base_url}/healthz", headers={"X-Request-ID": "abc"})
    assert given.headers["X-Request-ID"] == "abc"
    made = await tocsin.http.get(f"{tocsin.base_url}/healthz")
    assert len(made.headers["X-Request-ID"]) == 16


async def test_send_test_posts_a_sample_of_each_format_that_is_accepted(tocsin: Harness) -> None:
    def run() -> Result:
        return CliRunner().invoke(
            cli, ["send-test", "--url", tocsin.base_url, "--token", WEBHOOK_TOKEN]
        )

    result = await asyncio.to_thread(run)
    assert result.exit_code == 0, result.output

    def titles() -> str:
        return " ".join(m.text for m in tocsin.channel_messages("#alerts"))

    # one warning per format, at the channel's pace of Slack (a message a second after a
    # burst of three): wait for both named here, whichever order they are drawn in
    await tocsin.world.wait_for(
        lambda: "Alertmanager format" in titles() and "generic format" in titles(), timeout=30
    )


async def test_metrics_say_which_tocsin_runs_and_how_the_process_fares(tocsin: Harness) -> None:
    text = (await tocsin.http.get(f"{tocsin.base_url}/metrics")).text
    build = f'python="{platform.python_version()}",version="{tocsin_version()}"'
    assert f"tocsin_build_info{{{build}}} 1.0" in text
    assert tocsin_version() != "unknown"
    for figure in ("process_resident_memory_bytes", "process_cpu_seconds_total", "python_info"):
        assert f"\n{figure}" in text, figure
