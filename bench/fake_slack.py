"""The sandbox's fake Slack Web API served by a bench's own process (uvicorn on 127.0.0.1),
so that it, and everything it received, outlives the Tocsin processes under test."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import uvicorn

from bot.sandbox import SlackWorld, build_sandbox_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def serving(world: SlackWorld, *, bot_token: str, signing_secret: str) -> AsyncIterator[str]:
    """Serve ``world``'s Web API; yields the base URL (Tocsin's ``TOCSIN_SLACK_API_URL`` is
    ``<url>/api/``). The benches press no buttons, so no events go back to Tocsin."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    world.public_url = url
    app = build_sandbox_app(
        world,
        bot_token=bot_token,
        signing_secret=signing_secret,
        events_url="http://127.0.0.1:9/slack/events",
        public_url=url,
    )
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(30):
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("the fake Slack stopped before it started")
            await asyncio.sleep(0.01)
    try:
        yield url
    finally:
        server.should_exit = True
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await task
