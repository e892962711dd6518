"""What the HTTP API documents about itself (``/openapi.json``): request bodies, every answer
with its schema, and how webhooks authenticate. Schemathesis checks the service against it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string", "description": "What was wrong"},
        "field": {"type": "string", "description": "Where in the body (a path like alerts[0])"},
    },
}


def _error(description: str, **headers: str) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": ERROR}},
    }
    if headers:
        answer["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    return answer


WEBHOOK_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {
        "description": "stored durably; a crash after this loses nothing",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["status", "inbox_id", "alerts"],
                    "properties": {
                        "status": {"type": "string", "enum": ["accepted"]},
                        "inbox_id": {"type": "integer"},
                        "alerts": {"type": "integer", "minimum": 1},
                    },
                }
            }
        },
    },
    400: _error("not UTF-8, not JSON, duplicate keys, NaN, too deeply nested, NUL characters"),
    401: _error("missing or wrong token", **{"WWW-Authenticate": "Bearer"}),
    404: _error("no integration of that name"),
    413: _error("body larger than TOCSIN_MAX_BODY_BYTES"),
    415: _error("Content-Type is not JSON"),
    422: _error("the body does not have the integration's format; `field` says where"),
    429: _error("the integration is over its rate limit", **{"Retry-After": "seconds to wait"}),
    503: _error("could not store the body; retry", **{"Retry-After": "seconds to wait"}),
}

WEBHOOK_REQUEST: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The monitoring tool's JSON, in the integration's format",
        "content": {"application/json": {"schema": {"type": "object"}}},
    },
    "security": [{"bearerToken": []}, {"queryToken": []}],
}

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

    app.openapi = openapi  # type: ignore[method-assign]
