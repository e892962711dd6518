"""``POST /webhooks/{integration}``: check, validate, store in the inbox, then answer 2xx.

Also ``POST /v2/enqueue`` (PagerDuty's own path, for senders whose PagerDuty URL can only be
pointed at another host: the ``routing_key`` picks the integration), Opsgenie's Alert API
paths (``POST /v2/alerts`` and ``/v2/alerts/{alias}/close|acknowledge``: the API key picks
the integration) and ``GET /webhooks`` (the configured integrations, for whoever holds one
of their tokens).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.http.docs import webhook_docs
from bot.http.docs.openapi import OPSGENIE_SECURITY, WEBHOOK_SECURITY
from bot.http.intake.body_checks import BodyRefused, check_content_type, decode_json
from bot.http.intake.rate_limit import RateLimiter
from bot.http.intake.routing_key import redacted, routing_keys
from bot.http.intake.sns import SnsEndpoint
from bot.http.webhook_formats import (
    accepted,
    body_token,
    invalid,
    is_opsgenie,
    is_pagerduty,
    is_sns,
    opsgenie_answer,
    refused,
    signature_problem,
    token_matches,
)
from bot.policy.rules import Rules
from bot.runtime.clock import Clock
from bot.runtime.metrics import Metrics
from config.policy import IntegrationConfig
from escalation.errors import PayloadError
from escalation.heartbeats import watchdog_pings
from escalation.sources import SOURCES
from escalation.sources.opsgenie import action_body
from storage.intake.inbox import InboxUnavailable, InboxWriter

log = structlog.get_logger("tocsin.webhooks")


def _token(request: Request) -> str | None:
    """``Authorization: Bearer <token>`` (or ``GenieKey <token>``, as Opsgenie's clients send
    their API key), else ``?token=``."""
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() in ("bearer", "geniekey") and value:
        return value.strip()
    return request.query_params.get("token")


async def _read_capped(request: Request, limit: int) -> bytes | None:
    """The body, or ``None`` if it is larger than ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass(frozen=True)
class Webhooks:
    """The webhook routes (for the app and its OpenAPI document), and the two POST handlers
    for :class:`WebhookFastPath`."""

    router: APIRouter
    receive: Callable[[str, Request], Awaitable[Response]]
    enqueue: Callable[[Request], Awaitable[Response]]
    holds_token: Callable[[Request], bool]
    """Whether the request carries the token of one of the integrations."""


class WebhookFastPath:
    """ASGI wrapper around the app: ``POST /webhooks/{integration}`` and ``POST /v2/enqueue``
    go straight to their handlers; every other request goes on to the app.

    The handlers are the very functions behind the documented routes, so answers are the
    same; what is skipped is FastAPI's middleware stack, routing and dependency solving
    (query string and cookie parsing), which together cost more CPU than storing the alert
    (``bench/ingest_bench.py``). An unexpected exception is logged and answered with a 500,
    as Starlette's error middleware does on the other routes.
    """

    def __init__(self, app: ASGIApp, *, webhooks: Webhooks) -> None:
        self.app = app
        self.webhooks = webhooks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handling: Awaitable[Response] | None = None
        if scope["type"] == "http" and scope["method"] == "POST":
            path: str = scope["path"]
            name = path[len("/webhooks/") :] if path.startswith("/webhooks/") else ""
            if name and "/" not in name:
                handling = self.webhooks.receive(name, Request(scope, receive))
            elif path == "/v2/enqueue":
                handling = self.webhooks.enqueue(Request(scope, receive))
        if handling is None:
            await self.app(scope, receive, send)
            return
        try:
            response = await handling
        except ClientDisconnect:
            raise  # the client left: one log line (bot.http.body_deadline), no traceback
        except Exception:
            log.exception("webhook_failed", path=scope["path"])
            response = JSONResponse({"error": "internal error"}, status_code=500)
        await response(scope, receive, send)


def webhook_router(
    *,
    rules: Callable[[], Rules],
    inbox: InboxWriter,
    max_body_bytes: int,
    clock: Clock,
    on_stored: Callable[[], None],
    public_url: str,
    metrics: Metrics | None = None,
    limiter: RateLimiter | None = None,
    heartbeat_ping: Callable[[str], Awaitable[object]] | None = None,
    sns: SnsEndpoint | None = None,
) -> Webhooks:
    """``rules``: the rules running now (a reloaded policy file changes them)."""
    sns_endpoint = sns if sns is not None else SnsEndpoint()
    router = APIRouter(tags=["webhooks"])

    def outcome(integration: str, name: str, reason: str | None = None) -> None:
        if metrics is not None:
            metrics.webhook(integration, name)
            if reason is not None:
                metrics.refuse(reason)

    def unauthorized(
        config: IntegrationConfig, why: str, reason: str = "bad_token"
    ) -> JSONResponse:
        log.warning("webhook_refused", integration=config.name, reason=why)
        outcome(config.name, "unauthorized", reason)
        return refused(config, 401, why, headers={"WWW-Authenticate": "Bearer"})

    def over_limit(config: IntegrationConfig) -> JSONResponse | None:
        wait = limiter.retry_after(config.name) if limiter is not None else 0
        if not wait:
            return None
        outcome(config.name, "rate_limited", "rate_limited")
        message = f"integration {config.name!r} is over its rate limit; retry in {wait} s"
        return refused(config, 429, message, headers={"Retry-After": str(wait)})

    async def handle(
        config: IntegrationConfig, request: Request, *, token_checked: bool, body: bytes | None
    ) -> Response:
        name = config.name
        given = _token(request)
        if not token_checked and given is not None and not token_matches(given, config):
            return unauthorized(config, "wrong token")
        if given is None and not token_checked and not is_pagerduty(config):
            return unauthorized(config, "missing token")
        routing_key_ok = token_checked or given is not None
        limited = over_limit(config) if routing_key_ok else None  # before reading the body
        if limited is not None:
            return limited
        try:
            check_content_type(request.headers.get("content-type"))
        except BodyRefused as refusal:
            outcome(name, "bad_body", refusal.reason)
            return refused(config, refusal.status, refusal.message)
        if body is None:
            body = await _read_capped(request, max_body_bytes)
        if body is None:
            outcome(name, "too_large", "too_large")
            return refused(config, 413, f"body larger than {max_body_bytes} bytes")
        bad_signature = signature_problem(config, request.headers, body, now=clock())
        if bad_signature is not None:
            return unauthorized(config, bad_signature, "bad_signature")
        if not routing_key_ok:
            # found without decoding the body (bot.http.intake.routing_key): a wrong key is cheap
            if not any([token_matches(key, config) for key in routing_keys(body)]):
                return unauthorized(config, "missing or wrong token (or routing_key)")
            limited = over_limit(config)
            if limited is not None:
                return limited
        try:
            payload = decode_json(body)
        except BodyRefused as refusal:
            outcome(name, "bad_body", refusal.reason)
            return refused(config, refusal.status, refusal.message, field=refusal.field)
        if not routing_key_ok and not token_matches(body_token(config, payload), config):
            return unauthorized(config, "missing or wrong token (or routing_key)")
        if is_sns(config):
            sns_refusal = await sns_endpoint.check(payload, request.headers)
            if sns_refusal is not None and sns_refusal.status == 401:
                return unauthorized(config, sns_refusal.message, sns_refusal.reason)
            if sns_refusal is not None:
                outcome(name, "unavailable" if sns_refusal.status >= 500 else "bad_body")
                retry = {"Retry-After": "5"} if sns_refusal.status >= 500 else None
                return refused(config, sns_refusal.status, sns_refusal.message, headers=retry)
            assert isinstance(payload, dict)
            handshake = await sns_endpoint.answer(payload, integration=name)
            if handshake is not None:
                outcome(name, "handshake")
                return JSONResponse(dict(handshake.body), status_code=handshake.status)
        # the key is a token: not kept in the inbox (a key of the wrong type is refused below)
        if (
            is_pagerduty(config)
            and isinstance(payload, dict)
            and isinstance(payload.get("routing_key"), str)
        ):
            payload, body = redacted(payload)
        ingest = rules().ingest
        try:
            events = ingest.parser_for(name, config.format)(payload)
        except PayloadError as exc:
            outcome(name, "invalid", "invalid_payload")
            return invalid(config, exc)
        if ingest.heartbeats and heartbeat_ping is not None:
            # a heartbeat's Watchdog: a ping now; left out when the inbox body is processed
            beats, _ = watchdog_pings(ingest.heartbeats, integration=name, events=events)
            try:
                for beat in beats:
                    await heartbeat_ping(beat)
            except (SQLAlchemyError, OSError, TimeoutError) as exc:
                log.error("heartbeat_ping_failed", integration=name, error=type(exc).__name__)
                outcome(name, "unavailable")
                return refused(
                    config, 503, "could not store the ping; retry", headers={"Retry-After": "5"}
                )
        try:
            inbox_id = await inbox.store(
                integration=name,
                source_format=config.format,
                body=body,
                now=clock(),
                parsed=(ingest, events),
            )
        except (InboxUnavailable, SQLAlchemyError, OSError, TimeoutError) as exc:
            # not stored (the database is away: a driver error, a reset connection, a
            # timeout): 503 so the tool retries, never a 2xx
            log.error("inbox_store_failed", integration=name, error=type(exc).__name__)
            outcome(name, "unavailable")
            return refused(
                config, 503, "could not store the alert; retry", headers={"Retry-After": "5"}
            )
        on_stored()
        outcome(name, "accepted")
        log.info("webhook_accepted", integration=name, inbox_id=inbox_id, alerts=len(events))
        dedup_key = events[0].fingerprint if is_pagerduty(config) and events else None
        return accepted(config, inbox_id=inbox_id, events=len(events), dedup_key=dedup_key)

    @router.post(
        "/webhooks/{integration}",
        status_code=202,
        summary="Receive alerts from a monitoring tool",
        description=webhook_docs.POST_DESCRIPTION,
        responses=webhook_docs.post_responses("either"),
        openapi_extra={**webhook_docs.request_body(None), **WEBHOOK_SECURITY},
    )
    async def receive(integration: str, request: Request) -> Response:
        config = rules().integrations.get(integration)
        if config is None:
            outcome("unknown", "not_found", "unknown_integration")
            return refused(None, 404, f"no integration named {integration!r}")
        return await handle(config, request, token_checked=False, body=None)

    @router.post(
        "/v2/enqueue",
        status_code=202,
        summary="PagerDuty Events API v2 path (routing_key picks the integration)",
        description=webhook_docs.ENQUEUE_DESCRIPTION,
        responses=webhook_docs.post_responses("pagerduty", enqueue=True),
        openapi_extra=webhook_docs.request_body(SOURCES["pagerduty"]),
    )
    async def enqueue(request: Request) -> Response:
        body = await _read_capped(request, max_body_bytes)
        if body is None:
            outcome("unknown", "too_large", "too_large")
            return refused(None, 413, f"body larger than {max_body_bytes} bytes")
        given = _token(request)
        # the body's keys are found without decoding it (bot.http.intake.routing_key); handle()
        # then checks the decoded top-level routing_key against the integration picked here
        keys = [given] if given is not None else routing_keys(body)
        # every integration and every key: constant time
        pagerduty = [c for c in rules().integrations.values() if is_pagerduty(c)]
        matching = [c for c in pagerduty for k in keys if token_matches(k, c)]
        if not matching:
            outcome("unknown", "unauthorized", "bad_token")
            errors = ["routing_key does not belong to a pagerduty integration"]
            return JSONResponse(
                {"status": "unauthorized", "message": "Invalid routing key", "errors": errors},
                status_code=401,
            )
        return await handle(matching[0], request, token_checked=given is not None, body=body)

    async def opsgenie_request(request: Request, action: str | None) -> Response:
        """Opsgenie's Alert API: the key picks the opsgenie integration; a close or an
        acknowledge becomes the body :func:`action_body` makes, then goes the usual way."""
        given = _token(request)
        opsgenie = [c for c in rules().integrations.values() if is_opsgenie(c)]
        matching = [c for c in opsgenie if token_matches(given, c)]  # every one: constant time
        if not matching:
            outcome("unknown", "unauthorized", "bad_token")
            return opsgenie_answer(
                401, {"message": "Could not authenticate"}, headers={"WWW-Authenticate": "GenieKey"}
            )
        config = matching[0]
        if action is None:
            return await handle(config, request, token_checked=True, body=None)
        if request.query_params.get("identifierType", "alias") != "alias":
            outcome(config.name, "invalid", "invalid_payload")
            message = "Tocsin knows alerts by their alias: use identifierType=alias"
            return refused(config, 422, message, field="identifierType")
        raw = await _read_capped(request, max_body_bytes)
        if raw is None:
            outcome(config.name, "too_large", "too_large")
            return refused(config, 413, f"body larger than {max_body_bytes} bytes")
        try:
            given_body = decode_json(raw) if raw.strip() else None
            payload = action_body(action, request.path_params["identifier"], given_body)
        except BodyRefused as refusal:
            outcome(config.name, "bad_body", refusal.reason)
            return refused(config, refusal.status, refusal.message, field=refusal.field)
        except PayloadError as exc:
            outcome(config.name, "invalid", "invalid_payload")
            return invalid(config, exc)
        body = json.dumps(payload, ensure_ascii=False).encode()
        return await handle(config, request, token_checked=True, body=body)

    @router.post(
        "/v2/alerts",
        status_code=202,
        summary="Opsgenie Alert API: create an alert (the API key picks the integration)",
        description=webhook_docs.OPSGENIE_CREATE_DESCRIPTION,
        responses=webhook_docs.post_responses("opsgenie"),
        openapi_extra={**webhook_docs.request_body(SOURCES["opsgenie"]), **OPSGENIE_SECURITY},
    )
    async def opsgenie_create(request: Request) -> Response:
        return await opsgenie_request(request, None)

    @router.post(
        "/v2/alerts/{identifier}/close",
        status_code=202,
        summary="Opsgenie Alert API: close an alert by its alias",
        description=webhook_docs.OPSGENIE_ACTION_DESCRIPTION,
        responses=webhook_docs.post_responses("opsgenie"),
        openapi_extra={**webhook_docs.opsgenie_action_request(), **OPSGENIE_SECURITY},
    )
    async def opsgenie_close(request: Request) -> Response:
        return await opsgenie_request(request, "close")

    @router.post(
        "/v2/alerts/{identifier}/acknowledge",
        status_code=202,
        summary="Opsgenie Alert API: acknowledge an alert by its alias",
        description=webhook_docs.OPSGENIE_ACTION_DESCRIPTION,
        responses=webhook_docs.post_responses("opsgenie"),
        openapi_extra={**webhook_docs.opsgenie_action_request(), **OPSGENIE_SECURITY},
    )
    async def opsgenie_acknowledge(request: Request) -> Response:
        return await opsgenie_request(request, "acknowledge")

    def holds_token(request: Request) -> bool:
        given = _token(request)
        return any([token_matches(given, c) for c in rules().integrations.values()])

    @router.get(
        "/webhooks",
        summary="The configured integrations and their formats",
        description=webhook_docs.LIST_DESCRIPTION,
        responses={401: {"description": "no token, or not the token of any integration"}},
    )
    async def integrations(request: Request) -> JSONResponse:
        if not holds_token(request):
            return JSONResponse(
                {"error": "send the token of one of the integrations"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        base = public_url.rstrip("/")
        listing = [
            {
                "name": c.name,
                "format": c.format,
                "url": f"{base}/webhooks/{c.name}",
                "auth": _auth_methods(c),
            }
            for c in rules().integrations.values()
        ]
        return JSONResponse({"integrations": listing})

    return Webhooks(router=router, receive=receive, enqueue=enqueue, holds_token=holds_token)


def _auth_methods(config: IntegrationConfig) -> list[str]:
    methods = ["bearer", "query"]
    if is_pagerduty(config):
        methods.append("routing_key")
    if is_opsgenie(config):
        methods.append("geniekey")
    if config.hmac_secret is not None:
        methods.append(f"hmac:{config.signature_header}")
    if is_sns(config):
        methods.append("sns-signature")
    return methods
