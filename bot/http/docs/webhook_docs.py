"""The webhooks as the OpenAPI document describes them: a request body per format, derived
from the sources (escalation.sources), and the answers in each integration's style."""

from __future__ import annotations

from typing import Any, Literal

from bot.http.docs.body_schema import documented
from escalation.sources import SOURCES, Source
from escalation.sources.opsgenie import CLOSE_SCHEMA

_STR = {"type": "string"}
Style = Literal["tocsin", "pagerduty", "opsgenie", "either"]
"""How an operation answers: Tocsin's shapes, PagerDuty's (for pagerduty integrations),
Opsgenie's (for opsgenie integrations), or any one (an operation whose integration is not
known in advance)."""


def _formats_sentence() -> str:
    names = [f"**{name}**" for name in SOURCES]
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]


POST_DESCRIPTION = f"""\
The integration's `format` (from the policy file) decides the body: {_formats_sentence()}.
The token goes in `Authorization: Bearer` (or `GenieKey`) or `?token=`; PagerDuty senders
may put it in `routing_key`; a Grafana or Sentry integration with an `hmac_secret` also
needs a valid `X-Grafana-Alerting-Signature` or `Sentry-Hook-Signature`; a `cloudwatch_sns`
integration takes only messages bearing Amazon SNS's signature, and answers SNS's subscription
handshake itself (200, nothing stored). The body is stored
durably before the 202. PagerDuty integrations answer in PagerDuty's shape (`{{"status":
"success", "message": "Event processed", "dedup_key": …}}`, errors as 400 with `errors`);
Opsgenie integrations in Opsgenie's (`{{"result": "Request will be processed", "took",
"requestId"}}`, errors with `message`).

Each format's body schema is under `components/schemas`. This document names no
integration; sent with the token of one (`Authorization: Bearer`), it has an operation per
integration, `POST /webhooks/<name>`, taking exactly its format's body."""

INTEGRATION_DESCRIPTION = """\
Takes a body of the integration's format only. The body is stored durably before the 202."""

TEMPLATE_DESCRIPTION = """\
Takes any JSON body: the integration's template (policy file) decides what it must hold,
which no schema here can say; a body lacking it is answered 422, the `field` naming the
template's field (and the alert, `alerts[i]`). Try a body with `tocsin integration test`.
The examples are for the worked example's template (docs/sources.md). The body is stored
durably before the 202."""

UNKNOWN_DESCRIPTION = """\
Any name other than the integrations listed in this document is answered 404."""

ENQUEUE_DESCRIPTION = """\
For senders that only let you change PagerDuty's host: point them at this instance and the
body's `routing_key` (the token of a `pagerduty` integration) picks the integration."""

OPSGENIE_CREATE_DESCRIPTION = """\
For tools that only speak Opsgenie: point their Opsgenie API URL here and give them the token
of an `opsgenie` integration as the API key (`Authorization: GenieKey <token>`); the key
picks the integration. The body is Opsgenie's create request; answers are Opsgenie's
(`202 {"result": "Request will be processed", "took": 0, "requestId": …}`)."""

OPSGENIE_ACTION_DESCRIPTION = """\
Closes (resolves) or acknowledges, at the source, the alert created with this alias.
`identifierType` must be `alias` (or absent): Tocsin knows Opsgenie alerts by their alias.
The optional body's `user`, `source` and `note` are kept with the event."""

LIST_DESCRIPTION = """\
The integrations of the policy file: name, format, URL and how to authenticate (never the
tokens). Send the token of any integration as `Authorization: Bearer`: whoever can post
alerts may see where and how to post them."""

_ERROR = {
    "type": "object",
    "required": ["error"],  # so an answer matches exactly one of the two error shapes
    "properties": {
        "error": _STR,
        "field": _STR,
        "missing": {"type": "array", "items": _STR},
    },
}
_PD_ERROR = {
    "type": "object",
    "required": ["status", "message", "errors"],
    "properties": {"status": _STR, "message": _STR, "errors": {"type": "array", "items": _STR}},
}
_OPSGENIE_ERROR = {
    "type": "object",
    "required": ["message", "took", "requestId"],
    "properties": {
        "message": _STR,
        "errors": {"type": "object", "additionalProperties": _STR},
        "took": {"type": "number"},
        "requestId": _STR,
    },
}
_ERRORS: dict[Style, dict[str, Any]] = {
    "tocsin": _ERROR,
    "pagerduty": _PD_ERROR,
    "opsgenie": _OPSGENIE_ERROR,
    "either": {"oneOf": [_ERROR, _PD_ERROR, _OPSGENIE_ERROR]},
}
_ACCEPTED: dict[Style, dict[str, Any]] = {
    "tocsin": {
        "type": "object",
        "required": ["status", "inbox_id", "alerts"],
        "properties": {
            "status": {"type": "string", "enum": ["accepted"]},
            "inbox_id": {"type": "integer"},
            "alerts": {"type": "integer", "minimum": 1},
        },
    },
    "pagerduty": {
        "type": "object",
        "required": ["status", "message", "dedup_key"],
        "properties": {
            "status": {"type": "string", "enum": ["success"]},
            "message": _STR,
            "dedup_key": _STR,
        },
    },
}
_ACCEPTED["opsgenie"] = {
    "type": "object",
    "required": ["result", "took", "requestId"],
    "properties": {
        "result": {"type": "string", "enum": ["Request will be processed"]},
        "took": {"type": "number"},
        "requestId": _STR,
    },
}
_ACCEPTED["either"] = {
    "oneOf": [_ACCEPTED["tocsin"], _ACCEPTED["pagerduty"], _ACCEPTED["opsgenie"]]
}
_ACCEPTED_EXAMPLES = {
    "tocsin": {"value": {"status": "accepted", "inbox_id": 42, "alerts": 1}},
    "pagerduty": {
        "value": {"status": "success", "message": "Event processed", "dedup_key": "checkout-5xx"}
    },
    "opsgenie": {
        "value": {
            "result": "Request will be processed",
            "took": 0.0,
            "requestId": "43a29c5c-3dbf-4fa4-9c26-f4f71023e120",
        }
    },
}


def error_response(
    description: str, headers: dict[str, Any] | None = None, *, style: Style = "either"
) -> dict[str, Any]:
    """An error answer of the given style, for the document."""
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": _ERRORS[style]}},
    }
    if headers:
        answer["headers"] = headers
    return answer


def _header(text: str) -> dict[str, Any]:
    return {"description": text, "schema": {"type": "string"}}


def post_responses(style: Style, *, enqueue: bool = False) -> dict[int | str, dict[str, Any]]:
    """Every answer of a webhook operation in ``style``: PagerDuty integrations refuse an
    invalid event with 400, the others with 422; ``enqueue``: POST /v2/enqueue, whose 413
    comes before the integration (and its style) is known."""
    examples = {k: v for k, v in _ACCEPTED_EXAMPLES.items() if style in ("either", k)}

    def error(description: str, **headers: str) -> dict[str, Any]:
        named = {name.replace("_", "-"): _header(text) for name, text in headers.items()}
        return error_response(description, named or None, style=style)

    bad_body = (
        "not UTF-8, not JSON, a duplicate key, NaN or Infinity, a number too large, nesting "
        "deeper than 32, a NUL character or lone surrogate in a string (`field` says where)"
    )
    invalid = (
        "not the integration's format: `field` names the place, `missing` every required "
        "field that is absent"
    )
    responses: dict[int | str, dict[str, Any]] = {
        202: {
            "description": "stored durably; a crash after this loses nothing",
            "content": {"application/json": {"schema": _ACCEPTED[style], "examples": examples}},
        },
        400: error(bad_body if style == "tocsin" else f"{bad_body}; for PagerDuty, {invalid}"),
        401: error(
            "missing or wrong token, routing_key, Grafana/Sentry signature or SNS "
            "signature (the message names it)",
            WWW_Authenticate="Bearer",
        ),
        413: error_response(
            "body larger than TOCSIN_MAX_BODY_BYTES", style="either" if enqueue else style
        ),
        415: error("Content-Type is not JSON (application/json, application/*+json, text/plain)"),
        429: error("the integration is over its rate limit", Retry_After="seconds to wait"),
        503: error("the database could not store it; retry", Retry_After="seconds to wait"),
    }
    if style != "pagerduty":
        responses[422] = error(invalid)
    if style == "either":
        responses[404] = error("no integration of that name")
    return responses


def unknown_responses() -> dict[int | str, dict[str, Any]]:
    """A name that is no integration: 404 before anything else is looked at."""
    return {404: error_response("no integration of that name", style="tocsin")}


def request_body(source: Source | None) -> dict[str, Any]:
    """The ``requestBody`` of an operation taking ``source``'s format (``None``: whichever
    the integration has, so any JSON value)."""
    if source is None:
        content: dict[str, Any] = {
            "schema": {"description": "the integration's format (components/schemas)"},
            "examples": {
                example.name: {"summary": example.summary, "value": example.body}
                for each in SOURCES.values()
                for example in each.examples
            },
        }
    else:
        content = {
            "schema": {"$ref": f"#/components/schemas/{schema_name(source)}"},
            "examples": {
                example.name: {"summary": example.summary, "value": example.body}
                for example in source.examples
            },
        }
    return {"requestBody": {"required": True, "content": {"application/json": content}}}


_ALIAS_PARAMETER = r"^[A-Za-z0-9_][A-Za-z0-9._:@~-]{0,511}$"
"""The aliases this document promises to take in the path (any non-blank alias of at most 512
characters is, but one holding a ``/`` would name another path)."""


def opsgenie_action_request() -> dict[str, Any]:
    """Parameters and optional body of ``POST /v2/alerts/{identifier}/close|acknowledge``."""
    return {
        "parameters": [
            {
                "name": "identifier",
                "in": "path",
                "required": True,
                "description": "the alert's alias",
                "schema": {"type": "string", "pattern": _ALIAS_PARAMETER},
            },
            {
                "name": "identifierType",
                "in": "query",
                "required": False,
                "description": "alias (Opsgenie's id and tiny ids are not known to Tocsin)",
                "schema": {"type": "string", "enum": ["alias"]},
            },
        ],
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": documented(CLOSE_SCHEMA)}},
        },
    }


def schema_name(source: Source) -> str:
    return f"{source.name}_body"


def component_schemas() -> dict[str, dict[str, Any]]:
    """Every format's body schema, as the endpoint takes it (bot.http.docs.body_schema),
    titled with what sends it and holding the format's examples."""
    return {
        schema_name(source): {
            **documented(source.schema),
            "title": source.title,
            "examples": [dict(example.body) for example in source.examples],
        }
        for source in SOURCES.values()
    }


def formats_markdown(*, page: str = "") -> str:
    """The table of formats: docs/sources.md gets it when the site is built, the README
    holds a copy (``page="docs/sources.md"``: where the docs' own anchors are) that a test
    keeps equal."""
    lines = [
        "| `format` | what sends it | authentication besides the token | what becomes what |",
        "|---|---|---|---|",
    ]
    for source in SOURCES.values():
        url = page + source.docs_url if source.docs_url.startswith("#") else source.docs_url
        title = f"[{source.title}]({url})" if url else source.title
        auth, maps = source.auth or "—", source.maps or "—"
        lines.append(f"| `{source.name}` | {title} | {auth} | {maps} |")
    return "\n".join(lines) + "\n"
