"""Tocsin running for real on loopback: its HTTP server, a real database, and the fake Slack
(also served over HTTP) that the real slack_sdk client talks to."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bot.app import Service, build_http_app, build_service
from bot.sandbox import SandboxDriver, SlackWorld, build_sandbox_app
from bot.sandbox.workspace.models import Message
from config.settings import Settings
from tests.support.servers import bound_socket, serving
from tests.support.sns import FakeSns

BOT_TOKEN = "xoxb-test-token"
SIGNING_SECRET = "test-signing-secret"
WEBHOOK_TOKEN = "test-webhook-token"


@dataclass
class Harness:
    base_url: str
    slack_url: str
    http: httpx.AsyncClient
    world: SlackWorld
    driver: SandboxDriver
    service: Service
    sns: FakeSns

    async def webhook(
        self, integration: str, payload: Any, *, token: str = WEBHOOK_TOKEN
    ) -> httpx.Response:
        return await self.http.post(
            f"{self.base_url}/webhooks/{integration}",
            json=payload,
            headers={"Authorization": f"Bearer {token}"},
        )

    def dms(self, user: str) -> list[Message]:
        """Top-level messages of the bot's DM with ``user``."""
        for channel in self.world.channels.values():
            if channel.is_im and channel.user == user:
                return [m for m in self.world.channel_messages(channel.id) if m.thread_ts is None]
        return []

    def thread(self, message: Message) -> list[Message]:
        return [self.world.messages[(message.channel, ts)] for ts in message.replies]

    def channel_messages(self, channel: str = "#alerts") -> list[Message]:
        found = self.world.find_channel(channel)
        if found is None:
            return []
        return [
            m
            for (cid, _), m in sorted(self.world.messages.items(), key=lambda kv: kv[0][1])
            if cid == found.id and m.thread_ts is None
        ]

    async def wait_for_messages(
        self, count: int, *, channel: str = "#alerts", seconds: float = 10.0
    ) -> list[Message]:
        await self.world.wait_for(
            lambda: len(self.channel_messages(channel)) >= count, timeout=seconds
        )
        return self.channel_messages(channel)

    async def until(
        self, check: Callable[[], Awaitable[bool]], *, what: str, seconds: float = 10.0
    ) -> None:
        """Poll a database condition until it holds; fail after ``seconds``."""
        deadline = time.monotonic() + seconds
        while not await check():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.05)


def settings_for(*, database_url: str, slack_url: str, port: int, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "TOCSIN_SLACK_API_URL": f"{slack_url}/api/",
        "TOCSIN_DATABASE_URL": database_url,
        "TOCSIN_PORT": port,
        "TOCSIN_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        "TOCSIN_OUTBOX_POLL_SECONDS": 0.2,
        "TOCSIN_INBOX_POLL_SECONDS": 0.2,
    }
    values.update(extra)
    return Settings(**values)


class FakeClock:
    """A clock the test jumps forward by hand; between jumps it runs at real speed, so the
    service's own short delays (outbox retries after a 429, leases) still come due."""

    def __init__(self, start: datetime | None = None) -> None:
        self._start = start or datetime.now(UTC).replace(microsecond=0)
        self._origin = time.monotonic()
        self._jumped = timedelta(0)

    def __call__(self) -> datetime:
        return self._start + self._jumped + timedelta(seconds=time.monotonic() - self._origin)

    def advance(self, **delta: float) -> datetime:
        self._jumped += timedelta(**delta)
        return self()


@contextlib.asynccontextmanager
async def running_tocsin(
    *,
    database_url: str,
    config_path: Path | None = None,
    world: SlackWorld | None = None,
    clock: Callable[[], datetime] | None = None,
    settings: dict[str, Any] | None = None,
) -> AsyncIterator[Harness]:
    slack_socket, bot_socket = bound_socket(), bound_socket()
    slack_port, bot_port = slack_socket.getsockname()[1], bot_socket.getsockname()[1]
    slack_base = f"http://127.0.0.1:{slack_port}"
    events_url = f"http://127.0.0.1:{bot_port}/slack/events"
    world = world or SlackWorld(public_url=slack_base)
    world.public_url = slack_base
    fake = build_sandbox_app(
        world,
        bot_token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        events_url=events_url,
        public_url=slack_base,
    )
    extra: dict[str, Any] = {}
    if config_path is not None:
        extra["TOCSIN_CONFIG"] = config_path
    extra.update(settings or {})
    built = settings_for(database_url=database_url, slack_url=slack_base, port=bot_port, **extra)
    service = build_service(built, clock=clock) if clock else build_service(built)
    sns = FakeSns()
    service.sns = sns.endpoint()  # no test reaches the real SNS
    async with (
        serving(fake, slack_socket),
        # with a test clock the test runs the escalation engine itself (engine.drain())
        serving(build_http_app(service, run_engine=clock is None), bot_socket) as base_url,
        httpx.AsyncClient(timeout=10) as http,
    ):
        driver = SandboxDriver(world, signing_secret=SIGNING_SECRET, events_url=events_url)
        yield Harness(base_url, slack_base, http, world, driver, service, sns)
