"""Serve an ASGI app with uvicorn inside the running event loop, for tests.

sock = bind_free_socket()
app = build_sandbox_app(world, ..., public_url=url_of(sock))
async with serve_app(app, sock=sock) as base_url:
    ...  # base_url is "http://127.0.0.1:<port>"
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

import uvicorn
from starlette.types import ASGIApp


def bind_free_socket(host: str = "127.0.0.1") -> socket.socket:
    """A listening-ready TCP socket on a free port (hand it to `serve_app`)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


async def _serve(server: uvicorn.Server, sock: socket.socket) -> None:
    try:
        await server.serve(sockets=[sock])
    except SystemExit as exc:  # uvicorn exits when the app's lifespan startup fails
        raise RuntimeError(f"uvicorn exited with {exc.code!r}") from None


@asynccontextmanager
async def serve_app(
    app: ASGIApp,
    *,
    sock: socket.socket | None = None,
    lifespan: Literal["auto", "on", "off"] = "auto",
    startup_timeout: float = 10.0,
) -> AsyncIterator[str]:
    """Run `app` under uvicorn as a task of this loop; yields its base URL; stops it on exit.

    Without `sock`, binds 127.0.0.1 on a free port. Startup failure raises RuntimeError.
    """
    sock = sock or bind_free_socket()
    config = uvicorn.Config(
        app,
        lifespan=lifespan,
        log_level="warning",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(_serve(server, sock))
    try:
        async with asyncio.timeout(startup_timeout):
            while not server.started:
                if task.done():
                    raise RuntimeError(f"uvicorn failed to start: {task.exception()!r}")
                await asyncio.sleep(0.01)
        yield url_of(sock)
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(task, timeout=startup_timeout)
        except TimeoutError:
            task.cancel()
        sock.close()
