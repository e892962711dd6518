"""Slack requests act once: replays, Events API retries, slash commands, Slack failures."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot.sandbox.signing import sign_request
from bot.slack import ids
from storage.tables import AlertEventRow, OutboxRow, ProcessedRequestRow
from tests.support.databases import database
from tests.support.harness import SIGNING_SECRET, Harness, running_tocsin


@pytest.fixture
async def tocsin(tmp_path: Path) -> AsyncIterator[Harness]:
    async with database("sqlite", tmp_path) as url, running_tocsin(database_url=url) as harness:
        yield harness


async def post_signed(tocsin: Harness, body: str, **headers: str) -> int:
    signed = sign_request(signing_secret=SIGNING_SECRET, body=body, timestamp=int(time.time()))
    signed["Content-Type"] = (
        "application/json" if body.startswith("{") else "application/x-www-form-urlencoded"
    )
    response = await tocsin.http.post(
        f"{tocsin.base_url}/slack/events", content=body, headers={**signed, **headers}
    )
    return response.status_code


async def test_a_replayed_button_press_acts_once(tocsin: Harness) -> None:
    await tocsin.webhook("generic", {"title": "Replay me", "level": 2})
    [message] = await tocsin.wait_for_messages(1)
    payload = {
        "type": "block_actions",
        "user": {"id": "U0ALICE", "username": "alice", "name": "alice", "team_id": "T0TOCSIN"},
        "api_app_id": "A0TOCSIN",
        "token": "x",
        "team": {"id": "T0TOCSIN", "domain": "tocsin-sandbox"},
        "trigger_id": "1111.2222.replayed",
        "container": {"type": "message", "message_ts": message.ts, "channel_id": message.channel},
        "channel": {"id": message.channel, "name": "alerts"},
        "response_url": f"{tocsin.slack_url}/response/none",
        "actions": [
            {
                "type": "button",
                "action_id": ids.ACKNOWLEDGE,
                "block_id": f"{ids.ACTIONS_BLOCK_PREFIX}1",
                "value": "1",
                "action_ts": "1700000000.000001",
            }
        ],
    }
    body = "payload=" + urllib.parse.quote(json.dumps(payload))
    assert await post_signed(tocsin, body) == 200
    assert await post_signed(tocsin, body) == 200
    await tocsin.world.wait_for(
        lambda: any("Acknowledged" in json.dumps(m.blocks) for m in tocsin.channel_messages())
    )
    async with tocsin.service.db.read() as session:
        acks = (
            await session.exec(select(AlertEventRow).where(AlertEventRow.rule == "ACK-1"))
        ).all()
        keys = (await session.exec(select(ProcessedRequestRow.key))).all()
    assert len(acks) == 1
    assert "action:1111.2222.replayed" in keys


async def test_events_api_retry_is_acknowledged_and_recorded_once(tocsin: Harness) -> None:
    event = {
        "type": "event_callback",
        "token": "x",
        "team_id": "T0TOCSIN",
        "api_app_id": "A0TOCSIN",
        "event_id": "Ev0RETRY1",
        "event_time": int(time.time()),
        "event": {"type": "app_mention", "user": "U0ALICE", "text": "hi", "ts": "1.2"},
    }
    body = json.dumps(event)
    assert await post_signed(tocsin, body) == 200
    assert await post_signed(tocsin, body, **{"X-Slack-Retry-Num": "1"}) == 200
    async with tocsin.service.db.read() as session:
        keys = (await session.exec(select(ProcessedRequestRow.key))).all()
    assert keys.count("event:Ev0RETRY1") == 1


async def test_slash_command_lists_open_alerts_privately(tocsin: Harness) -> None:
    await tocsin.webhook("generic", {"title": "Payments lagging", "level": 1})
    await tocsin.wait_for_messages(1)
    response = await tocsin.driver.slash_command(text="list", user="U0BOB")
    assert response.status_code == 200
    await tocsin.world.wait_for(
        lambda: any("Payments lagging" in e.text for e in tocsin.world.ephemerals_for("U0BOB"))
    )
    assert not tocsin.world.ephemerals_for("U0ALICE")


async def test_a_failing_slack_call_stays_in_the_outbox_and_is_delivered_later(
    tocsin: Harness,
) -> None:
    tocsin.world.fail_next("chat.postMessage", status=500, count=1)
    await tocsin.webhook("generic", {"title": "Retry me", "level": 3})
    [message] = await tocsin.wait_for_messages(1, seconds=15)
    assert "Retry me" in message.text

    async def post_row() -> OutboxRow:
        async with tocsin.service.db.read() as session:
            query = select(OutboxRow).where(OutboxRow.kind == "post_warning")
            return (await session.exec(query)).one()

    async def delivered() -> bool:
        return (await post_row()).status == "done"

    await tocsin.until(delivered, what="the outbox row to be marked done")
    row = await post_row()
    assert row.attempts >= 2
    assert row.last_error is None
