"""A page to an outbound webhook (a phone bridge, a pager) is not Slack's: while Slack is
down and every Slack delivery waits, it still goes out."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request

from bot.sandbox import SlackWorld
from tests.support.harness import Harness, running_tocsin
from tests.support.servers import free_port, serving

POLICY = """
levels:
  1: {name: critical}
  2: {name: major}
  3: {name: minor}
integrations:
  - {name: generic, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}"}
default_route: {team: ops, channel: "#alerts", policy: page}
people:
  U0ALICE: {name: Alice}
webhooks:
  pager: {url: "%(url)s/page"}
policies:
  page: {tiers: [{notify: [{user: U0ALICE}, {webhook: pager}], after: 0m}]}
"""


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    app = FastAPI()

    @app.post("/page")
    async def page(request: Request) -> dict[str, bool]:
        received.append(json.loads(await request.body()))
        return {"ok": True}

    async with serving(app, free_port()) as url:
        yield url, received


@pytest.fixture
async def tocsin(
    tmp_path: Path, receiver: tuple[str, list[dict[str, Any]]]
) -> AsyncIterator[Harness]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY % {"url": receiver[0]})
    async with running_tocsin(
        database_url=f"sqlite:///{tmp_path / 'tocsin.db'}",
        config_path=policy,
        world=SlackWorld(),
        settings={"TOCSIN_SLACK_TIMEOUT_SECONDS": 1},
    ) as harness:
        yield harness


async def test_a_webhook_page_goes_out_while_slack_is_down(
    tocsin: Harness, receiver: tuple[str, list[dict[str, Any]]]
) -> None:
    _, received = receiver
    tocsin.world.start_outage(status=503)
    response = await tocsin.webhook("generic", {"title": "Payments down", "level": 1})
    assert response.status_code == 202
    await tocsin.until(lambda: _arrived(received), what="the webhook page", seconds=20)
    assert received[0]["alert"]["title"] == "Payments down"
    assert tocsin.channel_messages("#alerts") == []  # Slack is still down: nothing there
    assert tocsin.dms("U0ALICE") == []


async def _arrived(received: list[dict[str, Any]]) -> bool:
    return bool(received)
