"""Slack's side of Socket Mode: the WebSocket an app connects to instead of receiving HTTP.

As Slack does it: `apps.connections.open` (called with the app-level token) hands out a
one-connection URL (`ws://…/socket-mode/link?ticket=…`); on connect the server sends `hello`,
then delivers envelopes

    {"envelope_id": "…", "type": "interactive" | "slash_commands" | "events_api",
     "payload": {…}, "accepts_response_payload": bool}   (+ retry_attempt/retry_reason for events)

and the app acks each one on the same socket with `{"envelope_id": "…", "payload": {…}?}`. The
payload is what Slack would have POSTed over HTTP: for `interactive` the JSON of the `payload=`
form field, for `slash_commands` the form fields as a dict, for `events_api` the
`event_callback` body. An ack's payload is what an HTTP answer's body would have been (e.g.
`{"response_action": "errors", …}` for a view submission); Slack waits 3 s for it.
`{"type": "disconnect", "reason": …}` asks the app to reconnect on a new URL.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from bot.sandbox.workspace.models import JSON, SandboxError

SOCKET_PATH = "/socket-mode/link"
EnvelopeType = Literal["interactive", "slash_commands", "events_api"]
DisconnectReason = Literal["warning", "refresh_requested", "link_disabled", "too_many_websockets"]
_SEND_FAILED = (RuntimeError, OSError, WebSocketDisconnect)


@dataclass(frozen=True)
class Envelope:
    """One message Slack delivers over the socket."""

    envelope_id: str
    type: EnvelopeType
    payload: JSON
    accepts_response_payload: bool
    retry_attempt: int = 0
    retry_reason: str = ""

    def to_message(self) -> JSON:
        message: JSON = {
            "envelope_id": self.envelope_id,
            "type": self.type,
            "payload": self.payload,
            "accepts_response_payload": self.accepts_response_payload,
        }
        if self.type == "events_api":
            message.update(retry_attempt=self.retry_attempt, retry_reason=self.retry_reason)
        return message


@dataclass(frozen=True)
class Ack:
    """The app's acknowledgement of an envelope, with its response payload if it sent one."""

    envelope_id: str
    payload: JSON | None
    connection_id: str


@dataclass
class Delivery:
    """An envelope sent on a connection, and its ack (None: not acked in time, or at all)."""

    envelope: Envelope
    connection_id: str
    ack: Ack | None = None


@dataclass(eq=False)
class SocketConnection:
    """One connected app WebSocket. `draining` once told to reconnect: gets no new envelopes."""

    id: str
    websocket: WebSocket
    connected_at: float
    draining: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(self, message: JSON) -> None:
        async with self.lock:
            await self.websocket.send_text(json.dumps(message, separators=(",", ":")))


def _ws_url(http_url: str) -> str:
    if http_url.startswith("https://"):
        return "wss://" + http_url.removeprefix("https://")
    return "ws://" + http_url.removeprefix("http://")


class SocketModeHub:
    """The connection URLs handed out, the connected apps, the envelopes sent and acks taken.

    `base_url()` is where the sandbox app is served (its `public_url`); `on_change` is called
    when a connection comes or goes and when an ack arrives (the world's `touch`, so tests can
    `world.wait_for(lambda: world.socket_mode.connected)`).
    """

    def __init__(
        self,
        *,
        app_id: str,
        base_url: Callable[[], str],
        on_change: Callable[[], None],
        ack_timeout: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app_id = app_id
        self.base_url = base_url
        self.on_change = on_change
        self.ack_timeout = ack_timeout
        self.clock = clock
        self.connections: dict[str, SocketConnection] = {}
        self.deliveries: list[Delivery] = []
        self.stray_messages: list[JSON] = []  # acks of unknown or late envelopes, non-acks
        self.connections_opened = 0
        self._tickets: set[str] = set()
        self._pending: dict[str, tuple[asyncio.Future[Ack | None], Delivery]] = {}
        self._ids = itertools.count(1)

    @property
    def connected(self) -> bool:
        """Whether an app is connected (and not being told to reconnect)."""
        return self.current() is not None

    def current(self) -> SocketConnection | None:
        """The connection envelopes go to: the newest one that is not draining."""
        live = [c for c in self.connections.values() if not c.draining]
        return live[-1] if live else None

    def open_url(self) -> str:
        """A new connection URL, as `apps.connections.open` returns it."""
        ticket = secrets.token_urlsafe(16)
        self._tickets.add(ticket)
        base = _ws_url(self.base_url().rstrip("/"))
        return f"{base}{SOCKET_PATH}?ticket={ticket}&app_id={self.app_id}"

    async def deliver(
        self,
        type_: EnvelopeType,
        payload: JSON,
        *,
        accepts_response_payload: bool,
        timeout: float | None = None,  # noqa: ASYNC109 - Slack's ack deadline, not a wait
    ) -> Delivery:
        """Send one envelope to the current connection and wait for its ack (Slack's 3 s).

        SandboxError if no app is connected. The returned delivery's `ack` is None when the app
        did not ack in time (or the connection dropped first), as Slack would see it.
        """
        connection = self.current()
        if connection is None:
            raise SandboxError("no Socket Mode connection: the app has not connected")
        envelope = Envelope(
            envelope_id=str(uuid.uuid4()),
            type=type_,
            payload=payload,
            accepts_response_payload=accepts_response_payload,
        )
        delivery = Delivery(envelope, connection.id)
        self.deliveries.append(delivery)
        waiter: asyncio.Future[Ack | None] = asyncio.get_running_loop().create_future()
        self._pending[envelope.envelope_id] = (waiter, delivery)
        try:
            try:
                await connection.send(envelope.to_message())
            except _SEND_FAILED:
                return delivery
            try:
                async with asyncio.timeout(self.ack_timeout if timeout is None else timeout):
                    await waiter
            except TimeoutError:
                pass
            return delivery
        finally:
            self._pending.pop(envelope.envelope_id, None)

    async def request_reconnect(self, reason: DisconnectReason = "refresh_requested") -> int:
        """Send `disconnect` to every connection (Slack's "reconnect elsewhere"); they get no
        more envelopes. Returns how many were told."""
        told = 0
        for connection in list(self.connections.values()):
            connection.draining = True
            message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "sandbox"}}
            try:
                await connection.send(message)
                told += 1
            except _SEND_FAILED:
                continue
        self.on_change()
        return told

    async def drop_connections(self, code: int = 1001) -> None:
        """Close every connection from the server's side, as when Slack's link goes away."""
        for connection in list(self.connections.values()):
            try:
                await connection.websocket.close(code=code)
            except _SEND_FAILED:
                continue

    def _take_ticket(self, ticket: str | None) -> bool:
        if ticket is None or ticket not in self._tickets:
            return False
        self._tickets.discard(ticket)
        return True

    def _receive(self, connection: SocketConnection, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            self.stray_messages.append({"unparsed": text, "connection_id": connection.id})
            return
        envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
        pending = self._pending.get(str(envelope_id)) if envelope_id else None
        if pending is None or pending[0].done():
            self.stray_messages.append(message if isinstance(message, dict) else {"raw": message})
            return
        waiter, delivery = pending
        payload = message.get("payload")
        delivery.ack = Ack(
            str(envelope_id), payload if isinstance(payload, dict) else None, connection.id
        )
        waiter.set_result(delivery.ack)
        self.on_change()

    def _connected(self, websocket: WebSocket) -> SocketConnection:
        connection = SocketConnection(f"c{next(self._ids)}", websocket, self.clock())
        self.connections[connection.id] = connection
        self.connections_opened += 1
        self.on_change()
        return connection

    def _disconnected(self, connection: SocketConnection) -> None:
        self.connections.pop(connection.id, None)
        for waiter, delivery in list(self._pending.values()):
            if delivery.connection_id == connection.id and not waiter.done():
                waiter.set_result(None)
        self.on_change()

    def _hello(self) -> JSON:
        return {
            "type": "hello",
            "num_connections": len(self.connections),
            "debug_info": {
                "host": "sandbox",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }

    async def serve(self, websocket: WebSocket) -> None:
        """The WebSocket endpoint: check the ticket, register, say hello, take acks."""
        if not self._take_ticket(websocket.query_params.get("ticket")):
            await websocket.close(code=1008)  # before accept: the handshake gets HTTP 403
            return
        await websocket.accept()
        connection = self._connected(websocket)
        try:
            await connection.send(self._hello())
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None and message.get("bytes") is not None:
                    text = bytes(message["bytes"]).decode("utf-8", "replace")
                if text:
                    self._receive(connection, text)
        except _SEND_FAILED:
            pass
        finally:
            self._disconnected(connection)

    def routes(self) -> list[BaseRoute]:
        return [WebSocketRoute(SOCKET_PATH, self.serve)]
