"""Every log line of a request carries its id (``X-Request-ID``, or a new one), echoed back.

Plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` (``@app.middleware("http")``) runs
each request through an extra task and memory streams, which cost more CPU than the whole
webhook handler.
"""

from __future__ import annotations

import itertools
import secrets

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_PREFIX = secrets.token_hex(4)
_NEXT = itertools.count(1)


def new_request_id() -> str:
    """16 hex digits: this process's random half, then its count of requests. Unique enough
    to follow a request through the logs of several replicas, and cheap: a random id drawn
    from the system for every request (``secrets.token_hex``, a system call) was ~4 % of the
    event loop's time under a flood of single-alert webhooks."""
    return f"{_PREFIX}{next(_NEXT) & 0xFFFFFFFF:08x}"


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = b""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                given = value[:64]
                break
        request_id = given.decode("latin-1") or new_request_id()
        header = (b"x-request-id", request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0] != b"x-request-id"]
                message = {**message, "headers": [*headers, header]}
            await send(message)

        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            structlog.contextvars.reset_contextvars(**tokens)
