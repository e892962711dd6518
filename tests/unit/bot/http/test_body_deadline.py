"""A request body that does not arrive in time is answered 408 and the handler sees the client
gone; a client that leaves is one log line, not a traceback; a finished body is never timed."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Message, Receive, Scope, Send
from structlog.testing import capture_logs

from bot.http.body_deadline import BodyDeadline

SCOPE: Scope = {"type": "http", "method": "POST", "path": "/webhooks/x", "headers": []}


async def reads_the_body(scope: Scope, receive: Receive, send: Send) -> None:
    body = await Request(scope, receive).body()
    await JSONResponse({"size": len(body)})(scope, receive, send)


class Client:
    """Sends ``parts`` of the body, then (if ``stall``) nothing more, ever."""

    def __init__(self, parts: list[bytes], *, stall: bool = False, leave: bool = False) -> None:
        self.parts, self.stall, self.leave = parts, stall, leave
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        if self.parts:
            part = self.parts.pop(0)
            more = bool(self.parts) or self.stall or self.leave
            return {"type": "http.request", "body": part, "more_body": more}
        if self.leave:
            return {"type": "http.disconnect"}
        await asyncio.Event().wait()  # a client that never sends the rest
        raise AssertionError("unreachable")

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int | None:
        starts = [m for m in self.sent if m["type"] == "http.response.start"]
        assert len(starts) <= 1
        return starts[0]["status"] if starts else None


async def test_a_body_that_never_finishes_is_answered_408_and_the_connection_closed() -> None:
    client = Client([b'{"title": '], stall=True)

    with capture_logs() as logs:
        await asyncio.wait_for(
            BodyDeadline(reads_the_body, seconds=0.05)(SCOPE, client.receive, client.send), 5
        )

    assert client.status == 408
    assert (b"connection", b"close") in client.sent[0]["headers"]
    assert [e["event"] for e in logs] == ["request_body_timeout", "client_disconnected"]


async def test_a_client_that_leaves_is_one_line_not_a_traceback() -> None:
    client = Client([b"{"], leave=True)

    with capture_logs() as logs:
        await BodyDeadline(reads_the_body, seconds=5)(SCOPE, client.receive, client.send)

    assert client.status is None
    assert logs == [
        {"event": "client_disconnected", "path": "/webhooks/x", "timed_out": False,
         "log_level": "info"}
    ]  # fmt: skip


async def test_a_body_in_time_is_answered_by_the_app_and_later_reads_are_not_timed() -> None:
    client = Client([b"ab", b"cd"])

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await reads_the_body(scope, receive, send)
        # after the body, waiting for a disconnect (as a streaming response does) is untimed
        waited = asyncio.ensure_future(receive())
        await asyncio.sleep(0.1)
        assert not waited.done()
        waited.cancel()

    await BodyDeadline(app, seconds=0.01)(SCOPE, client.receive, client.send)

    assert client.status == 200
    assert client.sent[1]["body"] == b'{"size":4}'
