"""Run ASGI apps on real loopback ports inside the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import uvicorn


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST_FIXED_PORT = 10_000


def restartable_port() -> int:
    """A free port of 127.0.0.1 for a process that is stopped and started again on it.

    :func:`free_port` hands out ports from the kernel's ephemeral range, which every other
    test's ``bind(("127.0.0.1", 0))`` and outgoing connection draw from too: while such a
    process is down (killed, restarting), one of them can take its port, and the next start
    fails with "address already in use". A port below that range is never handed out that
    way; it is picked at random there and checked free."""
    try:
        lowest_ephemeral = int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        lowest_ephemeral = 0
    pick = random.SystemRandom()
    for _ in range(100):
        if lowest_ephemeral <= LOWEST_FIXED_PORT:
            break
        port = pick.randrange(LOWEST_FIXED_PORT, lowest_ephemeral)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    return free_port()


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
