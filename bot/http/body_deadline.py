"""A deadline for request bodies, and one log line (not a traceback) for a client that leaves.

uvicorn times out idle keep-alive connections but not a request whose body never finishes: a
client may send its headers and then one byte a minute, holding a connection and a handler
for ever. :class:`BodyDeadline` gives every request ``seconds`` from its start to deliver its
whole body; past that it is answered ``408`` with ``Connection: close`` and the handler sees
the client as gone (``http.disconnect``). Once the body is in, nothing is timed (a long CSV
export may stream for minutes). A proxy in front should still bound headers and bodies
itself (README, Running it in production).
"""

from __future__ import annotations

import asyncio

import structlog
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("tocsin.http")

_TIMED_OUT = b'{"error": "the request body did not arrive in time"}'


class BodyDeadline:
    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        body_done = False
        responded = False  # by the app, or by us
        timed_out = False

        async def timed_receive() -> Message:
            nonlocal body_done, responded, timed_out
            if timed_out:
                return {"type": "http.disconnect"}
            if body_done:
                return await receive()
            try:
                async with asyncio.timeout(max(deadline - loop.time(), 0.0)):
                    message = await receive()
            except TimeoutError:
                timed_out = True
                log.warning("request_body_timeout", path=scope["path"], seconds=self.seconds)
                if not responded:
                    responded = True
                    await _answer_408(send)
                return {"type": "http.disconnect"}
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal responded
            if timed_out:
                return  # the client was answered 408 already
            if message["type"] == "http.response.start":
                responded = True
            await send(message)

        try:
            await self.app(scope, timed_receive, guarded_send)
        except ClientDisconnect:  # a handler read on after the client left: nothing to answer
            log.info("client_disconnected", path=scope["path"], timed_out=timed_out)


async def _answer_408(send: Send) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(_TIMED_OUT)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 408, "headers": headers})
    await send({"type": "http.response.body", "body": _TIMED_OUT})
