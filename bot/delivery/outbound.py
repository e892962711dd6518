"""Paging an outbound HTTP webhook: an escalation target outside Slack.

A policy tier may page an SMS gateway, a phone-call service or another incident tool.
Tocsin sends it one ``POST`` per page.

Request
-------
``POST <target.url>`` with these headers:

- ``Content-Type: application/json``
- ``User-Agent: tocsin/0.1``
- ``Idempotency-Key: <key>`` — the same on every retry of one page, so the receiver
  can drop duplicates.
- ``Authorization: Bearer <token>`` — only if the target has a token.
- ``X-Tocsin-Timestamp: <unix seconds>`` and ``X-Tocsin-Signature: sha256=<hex>`` — only
  if the target has an HMAC secret. Each attempt is signed afresh (new timestamp).

The body is compact JSON with sorted keys and ASCII only (``json.dumps(payload,
separators=(",", ":"), sort_keys=True)``)::

    {
      "type": "tocsin.page",
      "alert": {
        "id": 42,
        "title": "disk full on db-1",
        "level": 3,
        "level_name": "critical",
        "status": "open"
      },
      "tier": 2,
      "rule": "database",
      "link": "https://example.slack.com/archives/C1/p1"   // or null
    }

Verifying the signature
-----------------------
The signature is HMAC-SHA256, keyed with the UTF-8 secret, over the bytes
``f"{timestamp}.".encode() + raw_body`` (the body exactly as received)::

    expected = "sha256=" + hmac.new(secret.encode(), f"{ts}.".encode() + body,
                                    hashlib.sha256).hexdigest()
    ok = hmac.compare_digest(expected, request.headers["X-Tocsin-Signature"])

Receivers should also reject timestamps far from their own clock (replays).

Answers
-------
Any 2xx is success. 408, 429, 5xx and connection errors/timeouts are retried with
exponential backoff and jitter, honouring ``Retry-After`` (seconds, or an HTTP date) on
429 and 503; retries stop after ``max_attempts`` attempts or once the next wait would
take the total time spent waiting past ``max_wait_seconds`` (each request is bounded on
its own by the target's ``timeout_seconds``). Any other answer is a permanent failure.
Both kinds of failure raise :class:`OutboundError`. Tokens, secrets and URL query strings
never appear in logs or error messages.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from time import time

import httpx
import structlog
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)
from tenacity.stop import stop_base

log = structlog.get_logger("tocsin.outbound")

USER_AGENT = "tocsin/0.1"
PAYLOAD_TYPE = "tocsin.page"
_RETRY_AFTER_STATUSES = frozenset({429, 503})
_BODY_SNIPPET_CHARS = 200


@dataclass(frozen=True, slots=True)
class OutboundTarget:
    name: str
    url: str
    token: str | None = None
    """Sent as ``Authorization: Bearer <token>``."""
    hmac_secret: str | None = None
    """If set, each request carries ``X-Tocsin-Timestamp`` and ``X-Tocsin-Signature``."""
    timeout_seconds: float = 10.0

    def __repr__(self) -> str:  # keep the token and secret out of reprs and tracebacks
        return (
            f"OutboundTarget(name={self.name!r}, url={safe_url(self.url)!r}, "
            f"token={'***' if self.token else None}, "
            f"hmac_secret={'***' if self.hmac_secret else None}, "
            f"timeout_seconds={self.timeout_seconds!r})"
        )


class OutboundError(Exception):
    """A page could not be delivered: a permanent failure, or retries exhausted."""

    def __init__(self, message: str, *, target: str, attempts: int, status: int | None) -> None:
        super().__init__(message)
        self.target = target
        self.attempts = attempts
        self.status = status
        """The last HTTP status received, or ``None`` if the last failure was a transport error."""


class _RetryableStatus(Exception):
    """An answer worth retrying (408, 429, 5xx); carries what the wait needs."""

    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


def page_payload(
    *,
    alert_id: int,
    title: str,
    level: int,
    level_name: str,
    tier: int,
    rule: str,
    url: str | None,
    status: str,
) -> dict[str, object]:
    """The JSON document a target receives for one page (see the module docstring)."""
    return {
        "type": PAYLOAD_TYPE,
        "alert": {
            "id": alert_id,
            "title": title,
            "level": level,
            "level_name": level_name,
            "status": status,
        },
        "tier": tier,
        "rule": rule,
        "link": url,
    }


def encode_body(payload: Mapping[str, object]) -> bytes:
    """Compact, key-sorted, ASCII JSON: the exact bytes sent and signed."""
    return json.dumps(dict(payload), separators=(",", ":"), sort_keys=True).encode("ascii")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Tocsin-Signature`` value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def safe_url(url: str) -> str:
    """``scheme://host[:port]/path`` — no credentials, query string or fragment."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return "<invalid url>"
    port = f":{parsed.port}" if parsed.port is not None else ""
    return f"{parsed.scheme}://{parsed.host}{port}{parsed.path}"


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header, or ``None`` if absent or unusable."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:  # an HTTP date is always GMT
            return None
        seconds = max(0.0, when.timestamp() - now)
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


class OutboundPager:
    """Sends pages to outbound webhooks under one bounded tenacity retry policy.

    Safe to share: each :meth:`send` runs on its own copy of the policy.
    """

    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        max_attempts: int = 4,
        max_wait_seconds: float = 30.0,
        clock: Callable[[], float] = time,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if max_wait_seconds < 0:
            raise ValueError("max_wait_seconds must not be negative")
        self._client = client
        self._max_wait = max_wait_seconds
        self._clock = clock
        self._backoff = wait_random_exponential(multiplier=0.5, max=8)
        self._policy = AsyncRetrying(
            retry=retry_if_exception_type((httpx.TransportError, _RetryableStatus)),
            wait=self._wait,
            stop=stop_after_attempt(max_attempts) | _StopBeforeWaitBudget(max_wait_seconds),
            sleep=sleep if sleep is not None else asyncio.sleep,
            reraise=True,
        )

    async def send(
        self, target: OutboundTarget, *, payload: Mapping[str, object], idempotency_key: str
    ) -> int:
        """POST ``payload`` to ``target``; returns the HTTP status of the successful answer.

        Raises :class:`OutboundError` on a permanent failure or once retries run out, and
        ``TypeError`` if ``payload`` is not JSON-serialisable.
        """
        body = encode_body(payload)
        status = 0
        attempts = 0
        try:
            async for attempt in self._policy.copy():
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    status = await self._attempt(
                        target, body=body, idempotency_key=idempotency_key, attempt=attempts
                    )
        except (httpx.TransportError, _RetryableStatus) as exc:
            # Only retried failures get here, and only once the policy has stopped.
            last = str(exc) if isinstance(exc, _RetryableStatus) else _describe(exc, target)
            url = safe_url(target.url)
            log.error(
                "outbound_gave_up", target=target.name, url=url, attempts=attempts, error=last
            )
            raise OutboundError(
                f"outbound target {target.name!r} ({url}) gave up after {attempts} "
                f"attempt{'s' if attempts != 1 else ''}: last error {last}",
                target=target.name,
                attempts=attempts,
                status=exc.status if isinstance(exc, _RetryableStatus) else None,
            ) from exc
        return status

    async def _attempt(
        self, target: OutboundTarget, *, body: bytes, idempotency_key: str, attempt: int
    ) -> int:
        url = safe_url(target.url)
        try:
            response = await self._client.post(
                target.url,
                content=body,
                headers=self._headers(target, body, idempotency_key),
                timeout=target.timeout_seconds,
            )
        except httpx.TransportError as exc:
            log.warning(
                "outbound_attempt_failed",
                target=target.name,
                url=url,
                attempt=attempt,
                error=_describe(exc, target),
            )
            raise

        status = response.status_code
        if 200 <= status < 300:
            log.info(
                "outbound_delivered", target=target.name, url=url, attempt=attempt, status=status
            )
            return status

        if status == 408 or status == 429 or status >= 500:
            retry_after = None
            if status in _RETRY_AFTER_STATUSES:
                retry_after = parse_retry_after(
                    response.headers.get("retry-after"), now=self._clock()
                )
            log.warning(
                "outbound_attempt_failed",
                target=target.name,
                url=url,
                attempt=attempt,
                status=status,
                retry_after=retry_after,
            )
            raise _RetryableStatus(status, retry_after)

        snippet = _scrub(response.text[:_BODY_SNIPPET_CHARS], target)
        log.error("outbound_rejected", target=target.name, url=url, attempt=attempt, status=status)
        raise OutboundError(
            f"outbound target {target.name!r} ({url}) rejected the page with HTTP {status} "
            f"(permanent, not retried): {snippet!r}",
            target=target.name,
            attempts=attempt,
            status=status,
        )

    def _headers(self, target: OutboundTarget, body: bytes, idempotency_key: str) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Idempotency-Key": idempotency_key,
        }
        if target.token:
            headers["Authorization"] = f"Bearer {target.token}"
        if target.hmac_secret:
            timestamp = int(self._clock())
            headers["X-Tocsin-Timestamp"] = str(timestamp)
            headers["X-Tocsin-Signature"] = sign(target.hmac_secret, timestamp, body)
        return headers

    # --- the retry policy's parts ---------------------------------------------------------

    def _wait(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, _RetryableStatus) and exc.retry_after is not None:
            return min(exc.retry_after, self._max_wait)
        return float(self._backoff(retry_state))


class _StopBeforeWaitBudget(stop_base):
    """Stop if the next wait would take the total time slept past ``max_wait`` seconds.

    Only waits count (exact even with a fake sleep); each request is bounded separately
    by its target's ``timeout_seconds``. Relies on tenacity >= 8.3 computing the upcoming
    wait before asking the stop condition.
    """

    def __init__(self, max_wait: float) -> None:
        self._max_wait = max_wait

    def __call__(self, retry_state: RetryCallState) -> bool:
        return retry_state.idle_for + retry_state.upcoming_sleep > self._max_wait


def _describe(exc: BaseException, target: OutboundTarget) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {_scrub(text, target)}" if text else type(exc).__name__


def _scrub(text: str, target: OutboundTarget) -> str:
    """``text`` without the target's token, secret or full URL."""
    if target.url and target.url != safe_url(target.url):
        text = text.replace(target.url, safe_url(target.url))
    for secret in (target.token, target.hmac_secret):
        if secret:
            text = text.replace(secret, "***")
    return text
