"""`tocsin serve` processes driven from an async test, talking to a fake Slack that the test
serves itself (so the fake, and what it saw, survive every kill of the service)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from bot.sandbox import SlackWorld, build_sandbox_app
from bot.sandbox.workspace.models import Message
from config.environment import child_environment
from tests.support.harness import BOT_TOKEN, SIGNING_SECRET, WEBHOOK_TOKEN
from tests.support.servers import free_port, restartable_port, serving


class TocsinProcess:
    """One `tocsin serve` (a replica); start, SIGKILL, SIGTERM and restart it at will."""

    def __init__(self, *, name: str, workdir: Path, env: dict[str, str]) -> None:
        self.name = name
        self.port = restartable_port()  # kept across restarts: none of another test's ports
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"{name}.log"
        self.env = child_environment({}, clean=True)
        self.env.update(env, TOCSIN_PORT=str(self.port), TOCSIN_LOG_FORMAT="json")
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    async def start(self, *, seconds: float = 60.0, **env: str) -> None:
        """Start (with ``env`` added for this run only) and wait until ``/readyz`` is 200."""
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: ASYNC220 - returns at once
                [sys.executable, "-m", "bot", "serve"],
                env={**self.env, **env},
                stdout=out,
                stderr=out,
            )
        self.starts += 1
        deadline = time.monotonic() + seconds
        async with httpx.AsyncClient(timeout=2) as http:
            while True:
                if self.process.poll() is not None:
                    raise AssertionError(f"{self.name} exited:\n{self.tail()}")
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get(f"{self.base_url}/readyz")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.name} not ready in {seconds} s:\n{self.tail()}")
                await asyncio.sleep(0.05)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    async def died(self, *, seconds: float = 30.0) -> int:
        """Wait for the process to end by itself (a fault point); its return code."""
        assert self.process is not None
        deadline = time.monotonic() + seconds
        while (code := self.process.poll()) is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} still running after {seconds} s")
            await asyncio.sleep(0.05)
        return code

    def stop(self) -> None:
        if self.running:
            assert self.process is not None
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def logged(self, event: str) -> list[dict[str, Any]]:
        """The JSON log lines (TOCSIN_LOG_FORMAT=json) of ``event``, in order."""
        lines = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        found = []
        for line in lines:
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    record = json.loads(line)
                    if isinstance(record, dict) and record.get("event") == event:
                        found.append(record)
        return found


class FakeSlack:
    """The sandbox's fake Web API on a loopback port of the test's own event loop."""

    def __init__(self, world: SlackWorld, port: int) -> None:
        self.world = world
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    def top_level(self, channel: str) -> list[Message]:
        found = self.world.find_channel(channel)
        if found is None:
            return []
        return [m for m in self.world.channel_messages(found.id) if m.thread_ts in (None, m.ts)]

    def dms(self, user: str) -> list[Message]:
        for channel in self.world.channels.values():
            if channel.is_im and channel.user == user:
                return self.world.channel_messages(channel.id)
        return []

    def env(self) -> dict[str, str]:
        """What a Tocsin process needs to talk to this fake."""
        return {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "TOCSIN_SLACK_API_URL": f"{self.url}/api/",
            "TOCSIN_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        }


@contextlib.asynccontextmanager
async def fake_slack(world: SlackWorld | None = None) -> AsyncIterator[FakeSlack]:
    port = free_port()
    world = world or SlackWorld()
    world.public_url = f"http://127.0.0.1:{port}"
    app = build_sandbox_app(
        world,
        bot_token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        events_url="http://127.0.0.1:9/slack/events",  # each test's driver picks a replica
        public_url=world.public_url,
    )
    async with serving(app, port):
        yield FakeSlack(world, port)


async def wait_until(check: object, *, what: str, seconds: float, every: float = 0.1) -> None:
    """Poll ``check()`` (sync or async) until it is true; fail after ``seconds``."""
    assert callable(check)
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        await asyncio.sleep(every)
