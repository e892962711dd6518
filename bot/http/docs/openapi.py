"""What the HTTP API documents about itself (``/openapi.json``) beyond what FastAPI derives
from the routes: each format's body schema (bot/http/docs/webhook_docs.py), how webhooks
authenticate, the health endpoints. Schemathesis checks the service against it.

The document names no integration (whoever holds no token learns none). Asked with the
token of an integration (``Authorization: Bearer``, like ``GET /webhooks``), it has one
operation per integration, ``POST /webhooks/<name>``, taking exactly its format's body and
answering in its style; ``/webhooks/{integration}`` then stands for every other name (404).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from bot.http.docs.webhook_docs import (
    INTEGRATION_DESCRIPTION,
    TEMPLATE_DESCRIPTION,
    UNKNOWN_DESCRIPTION,
    Style,
    component_schemas,
    post_responses,
    request_body,
    unknown_responses,
)
from bot.http.webhook_formats import is_opsgenie, is_pagerduty
from config.policy import IntegrationConfig
from escalation.sources import SOURCES

WEBHOOK_SECURITY: dict[str, Any] = {"security": [{"bearerToken": []}, {"queryToken": []}]}
OPSGENIE_SECURITY: dict[str, Any] = {"security": [{"genieKey": []}, {"bearerToken": []}]}
INTEGRATION_NAME = r"^[a-z0-9][a-z0-9_-]{0,62}$"
"""The policy file's pattern for an integration's name (config.policy.IntegrationConfig)."""

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


def integration_paths(integrations: Mapping[str, IntegrationConfig]) -> dict[str, Any]:
    """One ``POST /webhooks/<name>`` per integration: its format's body, its answers."""
    return {
        f"/webhooks/{name}": {
            "post": {
                "tags": ["webhooks"],
                "summary": f"Receive {config.format} alerts",
                "description": TEMPLATE_DESCRIPTION
                if config.template is not None
                else INTEGRATION_DESCRIPTION,
                "operationId": f"receive_{name}",
                **request_body(SOURCES[config.format]),
                "responses": _stringified(post_responses(_style(config))),
                **WEBHOOK_SECURITY,
            }
        }
        for name, config in integrations.items()
    }


def _style(config: IntegrationConfig) -> Style:
    if is_pagerduty(config):
        return "pagerduty"
    return "opsgenie" if is_opsgenie(config) else "tocsin"


def _stringified(responses: Mapping[int | str, Any]) -> dict[str, Any]:
    return {str(status): answer for status, answer in responses.items()}


def _for_token_holders(
    public: Mapping[str, Any], integrations: Mapping[str, IntegrationConfig]
) -> dict[str, Any]:
    document = copy.deepcopy(dict(public))
    paths: dict[str, Any] = document["paths"]
    unknown = paths["/webhooks/{integration}"]["post"]
    for parameter in unknown.get("parameters", ()):
        if parameter.get("name") == "integration":
            parameter["schema"] = {
                "type": "string",
                "pattern": INTEGRATION_NAME,
                "not": {"enum": sorted(integrations)},
            }
    unknown["description"] = UNKNOWN_DESCRIPTION
    unknown["responses"] = _stringified(unknown_responses())
    unknown.pop("security", None)
    unknown.pop("requestBody", None)
    paths.update(integration_paths(integrations))
    return document


def document(
    app: FastAPI,
    *,
    integrations: Mapping[str, IntegrationConfig],
    holds_token: Callable[[Request], bool],
) -> None:
    """Serve ``/openapi.json`` (the generated document, plus the formats' schemas and the
    webhook token's security schemes; per integration for token holders), ``/docs`` and
    ``/redoc``. The app must be built with ``openapi_url=None``."""
    generate: Callable[[], dict[str, Any]] = app.openapi
    for_holders: list[dict[str, Any]] = []

    def public() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            components = schema.setdefault("components", {})
            components.setdefault("schemas", {}).update(component_schemas())
            components["securitySchemes"] = {
                "bearerToken": {"type": "http", "scheme": "bearer"},
                "queryToken": {"type": "apiKey", "in": "query", "name": "token"},
                "genieKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "GenieKey <token>, as Opsgenie clients send their API key",
                },
            }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = public  # type: ignore[method-assign]

    async def openapi_json(request: Request) -> JSONResponse:
        if not holds_token(request):
            return JSONResponse(public())
        if not for_holders:
            for_holders.append(_for_token_holders(public(), integrations))
        return JSONResponse(
            for_holders[0], headers={"Cache-Control": "no-store", "Vary": "Authorization"}
        )

    app.add_api_route("/openapi.json", openapi_json, methods=["GET"], include_in_schema=False)
