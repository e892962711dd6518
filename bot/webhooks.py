"""``POST /webhooks/{integration}``: check, validate, store in the inbox, then answer 2xx."""

from __future__ import annotations

import hmac
from collections.abc import Callable

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.body_checks import BodyRefused, check_content_type, decode_json
from bot.clock import Clock
from bot.metrics import Metrics
from bot.openapi import WEBHOOK_REQUEST, WEBHOOK_RESPONSES
from bot.rate_limit import RateLimiter
from bot.rules import Rules
from escalation.errors import PayloadError
from storage import inbox
from storage.db import Database

log = structlog.get_logger("tocsin.webhooks")


def _error(status: int, message: str, *, field: str | None = None, **headers: str) -> JSONResponse:
    body: dict[str, str] = {"error": message}
    if field is not None:
        body["field"] = field
    return JSONResponse(body, status_code=status, headers=headers or None)


def _token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value:
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


def webhook_router(
    *,
    db: Database,
    rules: Rules,
    max_body_bytes: int,
    clock: Clock,
    on_stored: Callable[[], None],
    metrics: Metrics | None = None,
    limiter: RateLimiter | None = None,
) -> APIRouter:
    router = APIRouter(tags=["webhooks"])

    def outcome(integration: str, name: str, refused: str | None = None) -> None:
        if metrics is not None:
            metrics.webhooks.labels(integration=integration, outcome=name).inc()
            if refused is not None:
                metrics.refuse(refused)

    @router.post(
        "/webhooks/{integration}",
        status_code=202,
        summary="Receive alerts from a monitoring tool",
        responses=WEBHOOK_RESPONSES,
        openapi_extra=WEBHOOK_REQUEST,
    )
    async def receive(integration: str, request: Request) -> JSONResponse:
        config = rules.integrations.get(integration)
        if config is None:
            outcome("unknown", "not_found", "unknown_integration")
            return _error(404, f"no integration named {integration!r}")
        given = _token(request)
        if given is None or not hmac.compare_digest(given.encode(), config.token.encode()):
            log.warning("webhook_refused", integration=integration, reason="bad token")
            outcome(integration, "unauthorized", "bad_token")
            return _error(401, "missing or wrong token", **{"WWW-Authenticate": "Bearer"})
        wait = limiter.retry_after(integration) if limiter is not None else 0
        if wait:
            outcome(integration, "rate_limited", "rate_limited")
            return _error(
                429,
                f"integration {integration!r} is over its rate limit; retry in {wait} s",
                **{"Retry-After": str(wait)},
            )
        try:
            check_content_type(request.headers.get("content-type"))
        except BodyRefused as refused:
            outcome(integration, "bad_body", refused.reason)
            return _error(refused.status, refused.message)
        body = await _read_capped(request, max_body_bytes)
        if body is None:
            outcome(integration, "too_large", "too_large")
            return _error(413, f"body larger than {max_body_bytes} bytes")
        try:
            payload = decode_json(body)
        except BodyRefused as refused:
            outcome(integration, "bad_body", refused.reason)
            return _error(refused.status, refused.message, field=refused.field)
        try:
            events = rules.ingest.parsers[config.format](payload)
        except PayloadError as exc:
            outcome(integration, "invalid", "invalid_payload")
            return _error(422, exc.problem, field=exc.field)
        try:
            inbox_id = await inbox.store(
                db, integration=integration, source_format=config.format, body=body, now=clock()
            )
        except SQLAlchemyError as exc:
            log.error("inbox_store_failed", integration=integration, error=type(exc).__name__)
            outcome(integration, "unavailable")
            return _error(503, "could not store the alert; retry", **{"Retry-After": "5"})
        on_stored()
        outcome(integration, "accepted")
        log.info("webhook_accepted", integration=integration, inbox_id=inbox_id, alerts=len(events))
        return JSONResponse(
            {"status": "accepted", "inbox_id": inbox_id, "alerts": len(events)}, status_code=202
        )

    return router
