"""``POST|GET /heartbeats/{name}``: a heartbeat's ping (dead man's switch), authenticated
with the token of one of the integrations the heartbeat names (``Authorization: Bearer`` or
``?token=``, as webhooks). No body is read: cron jobs may ``curl`` the URL as it is."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.http.docs.openapi import WEBHOOK_SECURITY
from bot.http.intake.rate_limit import RateLimiter
from bot.http.webhook_formats import token_matches
from config.policy import IntegrationConfig
from escalation.heartbeats import HeartbeatSpec
from storage.heartbeats import Ping

log = structlog.get_logger("tocsin.heartbeats")
UNAVAILABLE = (SQLAlchemyError, OSError, TimeoutError)

DESCRIPTION = """Record a ping of the heartbeat `name` (a dead man's switch). When no ping
comes for the heartbeat's interval plus its grace, Tocsin opens an alert; the next ping
resolves it. Send the token of one of the integrations the heartbeat lists, as
`Authorization: Bearer <token>` or `?token=<token>`. Any body is ignored."""


def request_token(request: Request) -> str | None:
    """``Authorization: Bearer <token>``, else ``?token=``."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.query_params.get("token")


def pinging_integration(
    given: str | None, spec: HeartbeatSpec, integrations: Mapping[str, IntegrationConfig]
) -> str | None:
    """The heartbeat's integration whose token ``given`` is, if any (every one compared:
    constant time)."""
    found = [n for n in spec.integrations if token_matches(given, integrations[n])]
    return found[0] if found else None


def heartbeat_router(
    *,
    current: Callable[[], tuple[Mapping[str, HeartbeatSpec], Mapping[str, IntegrationConfig]]],
    ping: Callable[[str], Awaitable[Ping]],
    limiter: RateLimiter | None = None,
) -> APIRouter:
    """``current``: the heartbeats and integrations of the policy file running now (it may be
    reloaded). ``limiter``: a ping counts against the rate limit of the integration whose
    token it carries, as that integration's webhooks do."""
    router = APIRouter(tags=["heartbeats"])

    def refused(status: int, message: str, **headers: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status, headers=headers or None)

    @router.api_route(
        "/heartbeats/{name}",
        methods=["GET", "POST"],
        summary="Ping a heartbeat (dead man's switch)",
        description=DESCRIPTION,
        responses={
            401: {"description": "no token, or not one of the heartbeat's integrations'"},
            404: {"description": "no heartbeat of that name"},
            429: {"description": "the token's integration is over its rate limit"},
            503: {"description": "the ping could not be stored; retry"},
        },
        openapi_extra=WEBHOOK_SECURITY,
    )
    async def receive(name: str, request: Request) -> JSONResponse:
        heartbeats, integrations = current()
        spec = heartbeats.get(name)
        if spec is None:
            return refused(404, f"no heartbeat named {name[:64]!r}")
        given = request_token(request)
        if given is None:
            log.warning("heartbeat_refused", heartbeat=name, reason="missing token")
            return refused(401, "missing token", **{"WWW-Authenticate": "Bearer"})
        integration = pinging_integration(given, spec, integrations)
        if integration is None:
            log.warning("heartbeat_refused", heartbeat=name, reason="wrong token")
            return refused(401, "wrong token", **{"WWW-Authenticate": "Bearer"})
        wait = limiter.retry_after(integration) if limiter is not None else 0
        if wait:
            message = f"integration {integration!r} is over its rate limit; retry in {wait} s"
            return refused(429, message, **{"Retry-After": str(wait)})
        try:
            done = await ping(name)
        except UNAVAILABLE as exc:
            log.error("heartbeat_ping_failed", heartbeat=name, error=type(exc).__name__)
            return refused(503, "could not store the ping; retry", **{"Retry-After": "5"})
        return JSONResponse(
            {
                "status": "ok",
                "heartbeat": name,
                "next_due": done.next_due.isoformat(),
                "resolved_alert": done.resolved_alert,
            }
        )

    return router
