"""Checks on an HTTP request to ``/slack/events`` before Bolt sees it.

Bolt verifies the signature too; doing it here first lets every refusal be counted by its
reason (``tocsin_requests_refused_total{reason=…}``), answered with a message saying what was
wrong, and lets bodies that would crash a parser (too large, not UTF-8) be refused cleanly.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

import structlog
from fastapi import Request
from fastapi.responses import JSONResponse

from bot.runtime.metrics import Metrics
from bot.slack.payload import envelope_problem

log = structlog.get_logger("tocsin.slack")
MAX_AGE_SECONDS = 5 * 60


class SlackRequestChecks:
    def __init__(
        self,
        *,
        signing_secret: str,
        max_body_bytes: int,
        metrics: Metrics,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = signing_secret.encode()
        self._max_body_bytes = max_body_bytes
        self._metrics = metrics
        self._wall_clock = wall_clock

    async def admit(self, request: Request) -> Request | JSONResponse:
        """A request Bolt can read again (the body replayed), or the refusal to answer with."""
        body = await self._read(request)
        if body is None:
            return self._refuse(413, "too_large", f"body larger than {self._max_body_bytes} bytes")
        return self._problem(request, body) or _replayed(request, body)

    async def _read(self, request: Request) -> bytes | None:
        declared = request.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > self._max_body_bytes:
            return None
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self._max_body_bytes:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    def _problem(self, request: Request, body: bytes) -> JSONResponse | None:
        timestamp = request.headers.get("x-slack-request-timestamp", "")
        signature = request.headers.get("x-slack-signature", "")
        if not timestamp or not signature:
            return self._refuse(401, "bad_signature", "the request is not signed by Slack")
        if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
            return self._refuse(401, "bad_signature", "X-Slack-Request-Timestamp is not a number")
        if abs(self._wall_clock() - int(timestamp)) > MAX_AGE_SECONDS:
            return self._refuse(
                401, "stale_timestamp", "the request is more than 5 minutes old (or from ahead)"
            )
        base = b"v0:" + timestamp.encode() + b":" + body
        expected = "v0=" + hmac.new(self._secret, base, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            return self._refuse(401, "bad_signature", "the Slack signature does not match")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return self._refuse(400, "not_utf8", "body is not valid UTF-8")
        problem = envelope_problem(text, request.headers.get("content-type", ""))
        if problem is not None:
            return self._refuse(400, "bad_payload", f"not a Slack request: {problem}")
        return None

    def _refuse(self, status: int, reason: str, message: str) -> JSONResponse:
        self._metrics.refuse(reason)
        log.warning("slack_request_refused", reason=reason, status=status)
        return JSONResponse({"error": message}, status_code=status)


def _replayed(request: Request, body: bytes) -> Request:
    sent = False

    async def receive() -> dict[str, object]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(request.scope, receive)
