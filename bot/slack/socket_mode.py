"""Socket Mode: Tocsin connects out to Slack over a WebSocket, so it needs no public URL.

With an app-level token (`xapp-…`, scope `connections:write`), Slack delivers interactions,
slash commands and events on that socket instead of POSTing them to `/slack/events`. The
bolt app and its listeners are the same either way; only the transport differs. Slack's Web
API (and so `apps.connections.open`) is reached through the bolt app's own client, so a
custom base URL (a proxy, or the sandbox's fake Slack) applies here too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import structlog
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient

log = structlog.get_logger("tocsin.socket_mode")

# What Slack's `apps.connections.open` errors mean for whoever set SLACK_APP_TOKEN.
_HINTS = {
    "invalid_auth": "SLACK_APP_TOKEN is not a valid app-level token for this Slack app",
    "not_authed": "SLACK_APP_TOKEN is empty",
    "not_allowed_token_type": (
        "SLACK_APP_TOKEN must be an app-level token (xapp-…), not a bot or user token"
    ),
    "missing_scope": "the app-level token lacks the connections:write scope",
    "token_revoked": "SLACK_APP_TOKEN has been revoked",
    "account_inactive": "the Slack app or workspace behind SLACK_APP_TOKEN is inactive",
}


_QUERY = re.compile(r"\?[^\s'\"]*")  # a Socket Mode URL's query holds its ticket


class _LastError(logging.Handler):
    """Keeps the SDK client's latest error (it retries connecting and only logs why)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.message: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.message = _QUERY.sub("?…", record.getMessage())


class SocketModeError(RuntimeError):
    """Socket Mode could not be started; the message says why (never the token)."""


class SocketModeRunner:
    """Runs bolt's Socket Mode handler for `bolt`: `start()` connects, `stop()` closes.

    `start()` returns once Slack has said hello on the new socket. It raises SocketModeError
    at once if Slack refuses the app token (`apps.connections.open` fails), and if no socket
    is up within `connect_timeout` seconds. Once started, the SDK's client keeps the socket up:
    it pings every `ping_interval` seconds and reconnects on Slack's `disconnect` messages and
    on dropped or stale connections.
    """

    def __init__(
        self,
        *,
        bolt: AsyncApp,
        app_token: str,
        connect_timeout: float = 30.0,
        ping_interval: float = 10.0,
        proxy: str | None = None,
    ) -> None:
        self._bolt = bolt
        self._app_token = app_token
        self._connect_timeout = connect_timeout
        self._ping_interval = ping_interval
        self._proxy = proxy
        self._handler: AsyncSocketModeHandler | None = None
        self._hello = asyncio.Event()
        self._errors = _LastError()
        # The SDK client logs under bolt's logger, as bolt's handler does by default; this
        # child also remembers the last error so that a failed start() can say what it was.
        self._sdk_logger = logging.Logger(f"{bolt.logger.name}.socket_mode")
        self._sdk_logger.parent = bolt.logger
        self._sdk_logger.addHandler(self._errors)

    @property
    def connected(self) -> bool:
        """Whether a Socket Mode session is open right now (False before start, after stop)."""
        if self._handler is None:
            return False
        client = self._handler.client
        session = client.current_session
        if client.closed or client.stale or session is None or session.closed:
            return False
        last_pong = client.last_ping_pong_time
        return last_pong is None or time.time() - last_pong < client.ping_interval * 4

    async def start(self) -> None:
        """Connect to Slack over Socket Mode; return once connected."""
        if self._handler is not None:
            raise SocketModeError("Socket Mode is already started")
        self._hello.clear()
        self._errors.message = None
        log.info("socket_mode_connecting", api=self._bolt.client.base_url)
        url = await self._open_connection_url()
        handler = AsyncSocketModeHandler(
            self._bolt,
            self._app_token,
            logger=self._sdk_logger,
            web_client=self._bolt.client,
            proxy=self._proxy,
            ping_interval=self._ping_interval,
        )
        handler.client.message_listeners.append(self._on_message)
        handler.client.wss_uri = url  # already issued: the client's first connect uses it
        self._handler = handler
        try:
            async with asyncio.timeout(self._connect_timeout):
                await handler.connect_async()  # type: ignore[no-untyped-call]  # slack_sdk leaves it unannotated
                await self._hello.wait()
        except TimeoutError:
            await self.stop()
            cause = self._errors.message or "no hello from Slack"
            raise SocketModeError(
                f"Socket Mode: no WebSocket to {_where(url)} within {self._connect_timeout:g} s "
                f"({cause})"
            ) from None
        except BaseException:
            await self.stop()
            raise
        log.info("socket_mode_connected", host=_where(url))

    async def stop(self) -> None:
        """Close the socket and the client's tasks; idempotent."""
        handler, self._handler = self._handler, None
        if handler is None:
            return
        client = handler.client
        await handler.close_async()  # type: ignore[no-untyped-call]  # slack_sdk leaves it unannotated
        tasks = [client.message_processor, client.current_session_monitor, client.message_receiver]
        for task in tasks:
            if task is not None and not task.done():
                task.cancel()
        for task in tasks:
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        log.info("socket_mode_stopped")

    async def _open_connection_url(self) -> str:
        try:
            response = await self._bolt.client.apps_connections_open(app_token=self._app_token)
        except SlackApiError as error:
            code = str(error.response.get("error") or "unknown_error")
            hint = _HINTS.get(code, "Slack refused to open a Socket Mode connection")
            log.error("socket_mode_refused", error=code)
            raise SocketModeError(
                f"Socket Mode: apps.connections.open failed ({code}): {hint}"
            ) from error
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            log.error("socket_mode_unreachable", error=type(error).__name__)
            raise SocketModeError(
                f"Socket Mode: could not reach Slack's Web API at {self._bolt.client.base_url} "
                f"to open a connection ({type(error).__name__}: {error})"
            ) from error
        url = response.get("url")
        if not isinstance(url, str) or not url:
            raise SocketModeError("Socket Mode: apps.connections.open returned no url")
        return url

    async def _on_message(
        self, client: AsyncBaseSocketModeClient, message: dict[str, Any], raw: str | None
    ) -> None:
        # (Slack's "disconnect" never reaches here: the client reconnects before listeners run.)
        if message.get("type") == "hello":
            self._hello.set()
            log.info("socket_mode_hello", connections=message.get("num_connections"))


def _where(url: str) -> str:
    """The host of a Socket Mode URL, without its ticket (which grants a connection)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
