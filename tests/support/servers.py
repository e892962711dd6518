"""Run ASGI apps on real loopback ports inside the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import uvicorn


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bound_socket() -> socket.socket:
    """A socket bound to a free port of 127.0.0.1, for :func:`serving`: the port is held from
    the moment it is chosen (a port from :func:`free_port` can be taken by another test's
    server in between, and the server then fails to start)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.asynccontextmanager
async def serving(app: Any, port: int | socket.socket) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1:``port`` (or on a socket of :func:`bound_socket`) until the
    block ends; yields its base URL."""
    sock: socket.socket | None = None
    if isinstance(port, socket.socket):
        sock, number = port, int(port.getsockname()[1])
    else:
        number = port
    config = uvicorn.Config(
        app, host="127.0.0.1", port=number, log_config=None, access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock] if sock is not None else None))
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("server stopped before it started")
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{number}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
