"""Tocsin over Socket Mode: the real slack_bolt socket-mode handler (slack_sdk's aiohttp client)
connected to the sandbox's fake Socket Mode WebSocket, everything on loopback."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import select
from structlog.testing import capture_logs

from bot.app import Service, build_http_app, build_service
from bot.sandbox import SandboxDriver, SandboxError, SlackWorld, build_sandbox_app
from bot.sandbox.signing import sign_request
from bot.sandbox.workspace.models import Message
from bot.slack import ids
from bot.slack.socket_mode import SocketModeError, SocketModeRunner
from storage.tables import ResolutionRow
from tests.support.harness import BOT_TOKEN, SIGNING_SECRET, WEBHOOK_TOKEN, settings_for
from tests.support.servers import free_port, serving

APP_TOKEN = "xapp-test"
WAIT = 10.0


@dataclass
class Stack:
    """Fake Slack (Web API + Socket Mode) and Tocsin, both served; Socket Mode not started."""

    world: SlackWorld
    service: Service
    slack_url: str
    base_url: str
    http: httpx.AsyncClient
    driver: SandboxDriver  # transport="socket"

    def runner(self, app_token: str = APP_TOKEN) -> SocketModeRunner:
        return SocketModeRunner(bolt=self.service.bolt, app_token=app_token, connect_timeout=WAIT)

    async def webhook(self, payload: dict[str, Any]) -> httpx.Response:
        return await self.http.post(
            f"{self.base_url}/webhooks/generic",
            json=payload,
            headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
        )

    def alerts(self) -> list[Message]:
        channel = self.world.find_channel("#alerts")
        return [] if channel is None else self.world.channel_messages(channel.id)

    async def first_warning(self) -> Message:
        await self.world.wait_for(lambda: len(self.alerts()) == 1, timeout=WAIT)
        return self.alerts()[0]

    async def until_text(self, message: Message, needle: str) -> None:
        await self.world.wait_for(lambda: needle in text_of(message), timeout=WAIT)


def text_of(message: Message) -> str:
    return json.dumps(message.blocks) + message.text


@contextlib.asynccontextmanager
async def running_stack(
    tmp_path: Path, *, fake_app_token: str | None, **settings_extra: Any
) -> AsyncIterator[Stack]:
    slack_port, bot_port = free_port(), free_port()
    slack_url = f"http://127.0.0.1:{slack_port}"
    world = SlackWorld(public_url=slack_url)
    fake = build_sandbox_app(
        world,
        bot_token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        events_url=f"http://127.0.0.1:{bot_port}/slack/events",
        public_url=slack_url,
        app_token=fake_app_token,
    )
    # Without SLACK_APP_TOKEN in settings_extra the test runs the SocketModeRunner itself.
    settings = settings_for(
        database_url=f"sqlite:///{tmp_path / 'tocsin.db'}",
        slack_url=slack_url,
        port=bot_port,
        **settings_extra,
    )
    service = build_service(settings)
    async with (
        serving(fake, slack_port),
        serving(build_http_app(service), bot_port) as base_url,
        httpx.AsyncClient(timeout=WAIT) as http,
    ):
        driver = SandboxDriver(
            world,
            signing_secret=SIGNING_SECRET,
            events_url=f"{base_url}/slack/events",
            transport="socket",
        )
        yield Stack(world, service, slack_url, base_url, http, driver)


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(tmp_path, fake_app_token=APP_TOKEN) as found:
        yield found


@pytest.fixture
async def connected(stack: Stack) -> AsyncIterator[tuple[Stack, SocketModeRunner]]:
    runner = stack.runner()
    await runner.start()
    try:
        yield stack, runner
    finally:
        await runner.stop()


async def test_start_returns_connected_and_the_fake_has_one_client(stack: Stack) -> None:
    runner = stack.runner()
    assert not runner.connected
    with capture_logs() as logs:
        await runner.start()
    try:
        assert runner.connected
        assert stack.world.socket_mode.connected
        assert len(stack.world.socket_mode.connections) == 1
        assert "socket_mode_connected" in [entry["event"] for entry in logs]
        assert APP_TOKEN not in repr(logs)
    finally:
        await runner.stop()


async def test_acknowledge_pressed_over_the_socket_updates_the_warning(
    connected: tuple[Stack, SocketModeRunner],
) -> None:
    stack, _ = connected
    response = await stack.webhook({"title": "Disk full on db-1", "level": 2})
    assert response.status_code == 202, response.text
    warning = await stack.first_warning()

    pressed = await stack.driver.press_button(
        channel=warning.channel, ts=warning.ts, action_id=ids.ACKNOWLEDGE, user="U0ALICE"
    )

    assert pressed.status_code == 200
    [delivery] = stack.world.socket_mode.deliveries
    assert delivery.envelope.type == "interactive"
    assert delivery.envelope.payload["actions"][0]["action_id"] == ids.ACKNOWLEDGE
    assert not delivery.envelope.accepts_response_payload
    assert delivery.ack is not None
    assert delivery.ack.payload is None
    await stack.until_text(warning, "*Acknowledged* by <@U0ALICE>")


async def test_slash_command_over_the_socket_is_acked_and_answered(
    connected: tuple[Stack, SocketModeRunner],
) -> None:
    stack, _ = connected

    response = await stack.driver.slash_command(text="help", user="U0BOB")

    assert response.status_code == 200
    [delivery] = stack.world.socket_mode.deliveries
    assert delivery.envelope.type == "slash_commands"
    assert delivery.envelope.payload["command"] == "/tocsin"
    assert delivery.envelope.payload["text"] == "help"
    assert delivery.envelope.accepts_response_payload
    assert delivery.ack is not None
    await stack.world.wait_for(
        lambda: any("/tocsin" in e.text for e in stack.world.ephemerals_for("U0BOB")),
        timeout=WAIT,
    )


async def test_view_submission_with_an_empty_note_gets_errors_back_in_the_ack(
    connected: tuple[Stack, SocketModeRunner],
) -> None:
    stack, _ = connected
    await stack.webhook({"title": "Queue stuck", "level": 2})
    warning = await stack.first_warning()
    await stack.driver.press_button(
        channel=warning.channel, ts=warning.ts, action_id=ids.RESOLVE, user="U0ALICE"
    )
    await stack.world.wait_for(lambda: len(stack.world.open_views("U0ALICE")) == 1, timeout=WAIT)
    [view] = stack.world.open_views("U0ALICE")

    response = await stack.driver.submit_view(
        view_id=view.id,
        user="U0ALICE",
        values={
            ids.RESOLVE_NOTE_BLOCK: {ids.RESOLVE_NOTE_ACTION: "   "},
            ids.RESOLVE_CAUSE_BLOCK: {ids.RESOLVE_CAUSE_ACTION: "capacity"},
        },
    )

    assert response.status_code == 200
    body = response.json()
    assert body["response_action"] == "errors"
    assert ids.RESOLVE_NOTE_BLOCK in body["errors"]
    submission = stack.world.socket_mode.deliveries[-1]
    assert submission.envelope.payload["type"] == "view_submission"
    assert submission.envelope.accepts_response_payload
    assert submission.ack is not None
    assert submission.ack.payload == body
    assert [v.id for v in stack.world.open_views("U0ALICE")] == [view.id]  # still open
    async with stack.service.db.read() as session:
        assert (await session.exec(select(ResolutionRow))).all() == []


async def test_an_app_mention_over_the_socket_is_answered_in_its_thread(
    connected: tuple[Stack, SocketModeRunner],
) -> None:
    stack, _ = connected

    response = await stack.driver.mention(text="what can you do?", user="U0CAROL")

    assert response.status_code == 200
    [delivery] = stack.world.socket_mode.deliveries
    assert delivery.envelope.type == "events_api"
    assert delivery.envelope.payload["type"] == "event_callback"
    assert delivery.envelope.payload["event"]["type"] == "app_mention"
    mention = stack.alerts()[0]
    await stack.world.wait_for(lambda: len(mention.replies) == 1, timeout=WAIT)
    [reply] = stack.world.thread(mention.channel, mention.ts)[1:]
    assert reply.bot_id == stack.world.bot_id


async def test_a_wrong_app_token_makes_start_fail_naming_the_problem(stack: Stack) -> None:
    runner = stack.runner("xapp-wrong-token")

    with capture_logs() as logs, pytest.raises(SocketModeError, match="invalid_auth") as raised:
        await runner.start()

    assert "SLACK_APP_TOKEN" in str(raised.value)
    assert "xapp-wrong-token" not in str(raised.value)
    assert "xapp-wrong-token" not in repr(logs)
    assert not runner.connected
    assert not stack.world.socket_mode.connections


async def test_the_bot_token_in_place_of_the_app_token_is_refused_as_the_wrong_kind(
    stack: Stack,
) -> None:
    runner = stack.runner(BOT_TOKEN)

    with pytest.raises(SocketModeError, match="not_allowed_token_type"):
        await runner.start()

    assert not runner.connected


async def test_start_fails_when_the_workspace_has_socket_mode_off(tmp_path: Path) -> None:
    async with running_stack(tmp_path, fake_app_token=None) as off:
        runner = off.runner()
        with pytest.raises(SocketModeError, match="invalid_auth"):
            await runner.start()
        assert not off.world.socket_mode.connections


async def test_an_unreachable_socket_url_makes_start_fail_within_its_timeout(
    stack: Stack,
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    stack.world.socket_mode.base_url = lambda: dead
    runner = SocketModeRunner(bolt=stack.service.bolt, app_token=APP_TOKEN, connect_timeout=0.5)

    with pytest.raises(SocketModeError, match=r"no WebSocket to ws://127\.0\.0\.1") as raised:
        await runner.start()

    assert "ticket" not in str(raised.value)
    assert not runner.connected


async def test_stop_disconnects_and_the_fake_shows_no_client(stack: Stack) -> None:
    runner = stack.runner()
    await runner.start()
    await stack.world.wait_for(lambda: stack.world.socket_mode.connected, timeout=WAIT)

    await runner.stop()

    assert not runner.connected
    await stack.world.wait_for(lambda: not stack.world.socket_mode.connections, timeout=WAIT)
    with pytest.raises(SandboxError, match="no app is connected"):
        await stack.driver.slash_command(text="help", user="U0BOB")
    await runner.stop()  # a second stop is harmless


async def test_slack_asking_to_reconnect_moves_tocsin_to_a_new_socket(
    connected: tuple[Stack, SocketModeRunner],
) -> None:
    stack, runner = connected
    hub = stack.world.socket_mode
    [first] = hub.connections

    assert await hub.request_reconnect("refresh_requested") == 1

    await stack.world.wait_for(lambda: hub.connected and first not in hub.connections, timeout=WAIT)
    assert hub.connections_opened == 2
    response = await stack.driver.slash_command(text="help", user="U0DAVE")
    assert response.status_code == 200
    assert hub.deliveries[-1].connection_id != first
    assert runner.connected  # the ack came on the new socket, so the client has switched


async def test_when_slack_drops_the_socket_tocsin_reconnects_by_itself(
    connected: tuple[Stack, SocketModeRunner],
) -> None:
    stack, runner = connected
    hub = stack.world.socket_mode

    await hub.drop_connections()

    await stack.world.wait_for(lambda: hub.connections_opened == 2 and hub.connected, timeout=WAIT)
    response = await stack.driver.slash_command(text="help", user="U0DAVE")
    assert response.status_code == 200
    assert runner.connected


async def test_the_fake_web_api_keeps_app_and_bot_tokens_apart(stack: Stack) -> None:
    api = f"{stack.slack_url}/api/"
    as_app = AsyncWebClient(token=APP_TOKEN, base_url=api)
    as_bot = AsyncWebClient(token=BOT_TOKEN, base_url=api)

    opened = await as_app.apps_connections_open(app_token=APP_TOKEN)
    assert str(opened["url"]).startswith(f"ws://127.0.0.1:{stack.slack_url.rsplit(':', 1)[1]}/")
    with pytest.raises(SlackApiError) as wrong_kind:
        await as_app.chat_postMessage(channel="#alerts", text="hi")
    assert wrong_kind.value.response["error"] == "not_allowed_token_type"
    with pytest.raises(SlackApiError) as bot_for_app:
        await as_bot.apps_connections_open(app_token=BOT_TOKEN)
    assert bot_for_app.value.response["error"] == "not_allowed_token_type"
    assert (await as_bot.auth_test())["ok"]


async def test_with_slack_app_token_set_the_service_connects_at_start_and_acts(
    tmp_path: Path,
) -> None:
    """The lifespan wiring: SLACK_APP_TOKEN alone (no signing secret) is enough."""
    async with running_stack(
        tmp_path,
        fake_app_token=APP_TOKEN,
        SLACK_APP_TOKEN=APP_TOKEN,
        SLACK_SIGNING_SECRET=None,
    ) as stack:
        assert stack.world.socket_mode.connected
        assert (await stack.webhook({"title": "Over the socket", "level": 2})).status_code == 202
        warning = await stack.first_warning()
        await stack.driver.press_button(
            channel=warning.channel, ts=warning.ts, action_id=ids.ACKNOWLEDGE, user="U0ALICE"
        )
        await stack.until_text(warning, "Acknowledged")
        # with no signing secret set, HTTP requests signed with a guessable one are refused
        body = "payload=" + json.dumps({"type": "block_actions"})
        headers = sign_request(signing_secret="", body=body, timestamp=int(time.time()))
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        forged = await stack.http.post(
            f"{stack.base_url}/slack/events", content=body, headers=headers
        )
        assert forged.status_code == 401
    assert not stack.world.socket_mode.connected
