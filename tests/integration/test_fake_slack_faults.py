"""The fake Slack's message metadata, conversations.list and whole-API outages, as the real
slack_sdk client sees them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest
from slack_sdk.errors import SlackApiError

from bot.sandbox import SlackWorld
from tests.integration.test_fake_slack_api import FakeClock, Sandbox, start

META = {"event_type": "tocsin_delivery", "event_payload": {"outbox_key": "alert:1:v1:0"}}


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with AsyncExitStack() as stack:
        yield await start(stack, SlackWorld(clock=FakeClock()))


async def test_history_shows_message_metadata_only_when_asked(sandbox: Sandbox) -> None:
    posted = await sandbox.client.chat_postMessage(channel="#alerts", text="x", metadata=META)
    assert posted["message"]["metadata"] == META
    channel = posted["channel"]
    plain = await sandbox.client.conversations_history(channel=channel)
    assert "metadata" not in plain["messages"][0]
    full = await sandbox.client.conversations_history(channel=channel, include_all_metadata=True)
    assert full["messages"][0]["metadata"] == META


async def test_metadata_without_an_event_type_is_refused(sandbox: Sandbox) -> None:
    with pytest.raises(SlackApiError) as raised:
        await sandbox.client.chat_postMessage(
            channel="#alerts", text="x", metadata={"event_payload": {}}
        )
    assert raised.value.response["error"] == "invalid_metadata_schema"


async def test_conversations_list_finds_a_channel_by_name(sandbox: Sandbox) -> None:
    posted = await sandbox.client.chat_postMessage(channel="#db-alerts", text="x")
    listed = await sandbox.client.conversations_list(types="public_channel,private_channel")
    assert {"db-alerts": posted["channel"]}.items() <= {
        c["name"]: c["id"] for c in listed["channels"]
    }.items()


async def test_an_outage_fails_every_method_until_it_ends(sandbox: Sandbox) -> None:
    sandbox.world.start_outage(status=503)
    for call in (
        sandbox.client.auth_test(),
        sandbox.client.chat_postMessage(channel="#a", text="x"),
    ):
        with pytest.raises(SlackApiError) as raised:
            await call
        assert raised.value.response.status_code == 503
    sandbox.world.end_outage()
    assert (await sandbox.client.auth_test())["ok"] is True


async def test_a_hanging_outage_can_still_apply_the_call(sandbox: Sandbox) -> None:
    sandbox.world.start_outage(hang=1.0, apply=True)
    sandbox.client.timeout = 0.2  # type: ignore[assignment]  # slack_sdk says int; aiohttp takes a float
    with pytest.raises((TimeoutError, asyncio.TimeoutError)):
        await sandbox.client.chat_postMessage(channel="#alerts", text="maybe")
    assert [m.text for m in sandbox.world.messages.values()] == ["maybe"]
