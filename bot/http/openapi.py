"""What the HTTP API documents about itself (``/openapi.json``) beyond the formats' own docs
(bot/http/webhook_docs.py): the abuse checks' answers, how webhooks authenticate, the health
endpoints. Schemathesis checks the service against it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from bot.http.webhook_docs import error_response


def _error(description: str, **headers: str) -> dict[str, Any]:
    return error_response(
        description,
        {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in headers.items()
        },
    )


ABUSE_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error(
        "not UTF-8, not JSON, a duplicate key, NaN or Infinity, a number too large, nesting "
        "deeper than 32, a NUL character or lone surrogate in a string (`field` says where); "
        "for PagerDuty integrations also an invalid event"
    ),
    415: _error("Content-Type is not JSON (application/json, application/*+json, text/plain)"),
    429: _error("the integration is over its rate limit", **{"Retry-After": "seconds to wait"}),
}
"""Answers of the webhook endpoints added by the abuse checks (merged over the format docs)."""

WEBHOOK_SECURITY: dict[str, Any] = {"security": [{"bearerToken": []}, {"queryToken": []}]}

READY_RESPONSES: dict[int | str, dict[str, Any]] = {
    503: {
        "description": "database unreachable or migrations pending",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"ready": {"type": "boolean"}, "database": {"type": "string"}},
                }
            }
        },
    }
}


def document(app: FastAPI) -> None:
    """Add the webhook token's security schemes to the generated document."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearerToken": {"type": "http", "scheme": "bearer"},
                "queryToken": {"type": "apiKey", "in": "query", "name": "token"},
            }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
