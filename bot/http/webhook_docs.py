"""The webhook formats as the OpenAPI document describes them: a request body schema per
format, with examples (each one is accepted by its parser: a test posts them all)."""

from __future__ import annotations

from typing import Any

_STR = {"type": "string"}
_STR_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_TIME = {"type": "string", "format": "date-time"}

ALERTMANAGER: dict[str, Any] = {
    "title": "Prometheus Alertmanager webhook (version 4)",
    "type": "object",
    "required": ["alerts"],
    "properties": {
        "version": {"type": "string", "enum": ["4"]},
        "status": {"type": "string", "enum": ["firing", "resolved"]},
        "receiver": _STR,
        "groupKey": {**_STR, "description": "Kept on every alert as its group key."},
        "truncatedAlerts": {
            "type": "integer",
            "minimum": 0,
            "description": "Alerts left out by max_alerts; shown on the warning and timeline.",
        },
        "groupLabels": _STR_MAP,
        "commonLabels": _STR_MAP,
        "commonAnnotations": _STR_MAP,
        "externalURL": _STR,
        "alerts": {
            "type": "array",
            "minItems": 1,
            "maxItems": 1000,
            "items": {
                "type": "object",
                "required": ["status", "labels"],
                "properties": {
                    "status": {"type": "string", "enum": ["firing", "resolved"]},
                    "labels": {**_STR_MAP, "required": ["alertname"]},
                    "annotations": _STR_MAP,
                    "startsAt": _TIME,
                    "endsAt": _TIME,
                    "generatorURL": _STR,
                    "fingerprint": _STR,
                },
            },
        },
    },
}

GRAFANA: dict[str, Any] = {
    "title": "Grafana Alerting webhook (version 1)",
    "description": "Optionally signed: X-Grafana-Alerting-Signature (hex HMAC-SHA256).",
    "type": "object",
    "required": ["alerts"],
    "properties": {
        **{k: ALERTMANAGER["properties"][k] for k in ("status", "receiver", "groupKey")},
        "version": {"type": "string", "enum": ["1"]},
        "truncatedAlerts": ALERTMANAGER["properties"]["truncatedAlerts"],
        "state": _STR,
        "title": _STR,
        "message": _STR,
        "orgId": {"type": "integer"},
        "externalURL": _STR,
        "alerts": {
            "type": "array",
            "minItems": 1,
            "maxItems": 1000,
            "items": {
                "type": "object",
                "required": ["status", "labels"],
                "properties": {
                    "status": {"type": "string", "enum": ["firing", "resolved"]},
                    "labels": _STR_MAP,
                    "annotations": _STR_MAP,
                    "startsAt": _TIME,
                    "endsAt": _TIME,
                    "values": {
                        "type": "object",
                        "additionalProperties": {"type": ["number", "null"]},
                    },
                    **{
                        key: _STR
                        for key in (
                            "fingerprint",
                            "generatorURL",
                            "dashboardURL",
                            "panelURL",
                            "silenceURL",
                            "imageURL",
                            "valueString",
                        )
                    },
                },
            },
        },
    },
}

PAGERDUTY: dict[str, Any] = {
    "title": "PagerDuty Events API v2 event",
    "type": "object",
    "required": ["event_action"],
    "properties": {
        "routing_key": {**_STR, "description": "The integration's token (or send it as Bearer)."},
        "event_action": {"type": "string", "enum": ["trigger", "acknowledge", "resolve"]},
        "dedup_key": {
            "type": "string",
            "maxLength": 255,
            "description": "Required for acknowledge and resolve; derived for a trigger.",
        },
        "payload": {
            "type": "object",
            "description": "Required for trigger.",
            "required": ["summary", "source", "severity"],
            "properties": {
                "summary": {"type": "string", "maxLength": 1024},
                "source": _STR,
                "severity": {"type": "string", "enum": ["critical", "error", "warning", "info"]},
                "timestamp": _TIME,
                "component": _STR,
                "group": _STR,
                "class": _STR,
                "custom_details": {},
            },
        },
        "images": {"type": "array", "items": {"type": "object"}},
        "links": {
            "type": "array",
            "items": {"type": "object", "required": ["href"], "properties": {"href": _STR}},
        },
        "client": _STR,
        "client_url": _STR,
    },
}

_GENERIC_ALERT: dict[str, Any] = {
    "type": "object",
    "description": "title is required, except in the metric form (metric + value + "
    "baseline or threshold). Other fields are kept as details.",
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 1000},
        "description": _STR,
        "impact": _STR,
        "suggested_actions": {"oneOf": [_STR, {"type": "array", "items": _STR}]},
        "severity": _STR,
        "level": {"oneOf": [{"type": "integer", "enum": [1, 2, 3]}, _STR]},
        "category": {
            **_STR,
            "description": "process, data, customer, market, financial or your own",
        },
        "labels": _STR_MAP,
        "links": {"type": "array", "maxItems": 20},
        "fingerprint": _STR,
        "dedup_key": _STR,
        "status": {"type": "string", "enum": ["firing", "resolved"]},
        "source": _STR,
        "starts_at": _TIME,
        "ends_at": _TIME,
        "group_key": _STR,
        "metric": {**_STR, "description": "Metric form: the measurement's name."},
        "value": {"type": "number"},
        "baseline": {"type": "number"},
        "threshold": {"type": "number"},
        "unit": _STR,
        "window": _STR,
    },
}

GENERIC: dict[str, Any] = {
    "title": "Generic JSON (one alert, a list, or the metric form)",
    "oneOf": [
        _GENERIC_ALERT,
        {
            "type": "object",
            "required": ["alerts"],
            "properties": {
                "alerts": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 1000,
                    "items": _GENERIC_ALERT,
                }
            },
            "additionalProperties": False,
        },
    ],
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "alertmanager": ALERTMANAGER,
    "grafana": GRAFANA,
    "pagerduty": PAGERDUTY,
    "generic": GENERIC,
}

EXAMPLES: dict[str, tuple[str, dict[str, Any]]] = {
    "alertmanager": (
        "alertmanager",
        {
            "version": "4",
            "status": "firing",
            "receiver": "tocsin",
            "groupKey": '{}:{alertname="DiskFull"}',
            "truncatedAlerts": 0,
            "alerts": [
                {
                    "status": "firing",
                    "fingerprint": "3f2a9c0d1e4b5a67",
                    "labels": {"alertname": "DiskFull", "severity": "critical", "instance": "db-1"},
                    "annotations": {
                        "summary": "Disk almost full on db-1",
                        "description": "/var/lib/postgresql is 97% full",
                    },
                    "startsAt": "2026-11-21T10:00:00Z",
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://prometheus:9090/graph",
                }
            ],
        },
    ),
    "grafana": (
        "grafana",
        {
            "version": "1",
            "status": "firing",
            "state": "alerting",
            "title": "[FIRING:1] HighLatency api",
            "message": "p99 latency above 2 s",
            "groupKey": '{}:{alertname="HighLatency"}',
            "truncatedAlerts": 0,
            "alerts": [
                {
                    "status": "firing",
                    "labels": {"alertname": "HighLatency", "service": "api", "severity": "major"},
                    "annotations": {"summary": "API p99 latency is 2.4 s"},
                    "startsAt": "2026-11-21T10:00:00Z",
                    "endsAt": "0001-01-01T00:00:00Z",
                    "values": {"B": 2.4, "C": 1},
                    "fingerprint": "a1b2c3d4e5f60718",
                    "dashboardURL": "https://grafana.example.com/d/api",
                    "panelURL": "https://grafana.example.com/d/api?viewPanel=2",
                    "silenceURL": "https://grafana.example.com/alerting/silence/new",
                    "generatorURL": "https://grafana.example.com/alerting/grafana/abc/view",
                }
            ],
        },
    ),
    "pagerduty-trigger": (
        "pagerduty",
        {
            "routing_key": "dev-token",
            "event_action": "trigger",
            "dedup_key": "checkout-5xx",
            "payload": {
                "summary": "Checkout 5xx rate above 8%",
                "source": "checkout-1.prod",
                "severity": "critical",
                "component": "checkout",
                "custom_details": {"rate": "8.4%"},
            },
        },
    ),
    "pagerduty-acknowledge": (
        "pagerduty",
        {"routing_key": "dev-token", "event_action": "acknowledge", "dedup_key": "checkout-5xx"},
    ),
    "generic": (
        "generic",
        {
            "title": "Nightly backup failed",
            "severity": "major",
            "labels": {"service": "backup"},
        },
    ),
    "generic-list": (
        "generic",
        {"alerts": [{"title": "Nightly backup failed"}, {"title": "Certificate expires in 7 d"}]},
    ),
    "generic-metric": (
        "generic",
        {
            "metric": "orders_per_hour",
            "value": 410,
            "baseline": 520,
            "unit": "orders",
            "window": "1h",
            "category": "customer",
            "labels": {"shop": "eu"},
        },
    ),
}

POST_DESCRIPTION = """\
The integration's `format` (from the policy file) decides the body: **alertmanager**,
**grafana**, **pagerduty** or **generic** (one alert, a list, or the metric form). The token
goes in `Authorization: Bearer` or `?token=`; PagerDuty senders may put it in `routing_key`;
a Grafana integration with an `hmac_secret` also needs a valid `X-Grafana-Alerting-Signature`.
The body is stored durably before the 202. PagerDuty integrations answer in PagerDuty's
shape (`{"status": "success", "message": "Event processed", "dedup_key": …}`, errors as 400
with `errors`)."""

ENQUEUE_DESCRIPTION = """\
For senders that only let you change PagerDuty's host: point them at this instance and the
body's `routing_key` (the token of a `pagerduty` integration) picks the integration."""

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


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"oneOf": [_ERROR, _PD_ERROR]}}},
    }
    if headers:
        answer["headers"] = headers
    return answer


error_response = _error  # for answers documented elsewhere (bot/http/openapi.py)


POST_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {
        "description": "stored durably; a crash after this loses nothing",
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {
                            "type": "object",
                            "properties": {
                                "status": {"type": "string", "enum": ["accepted"]},
                                "inbox_id": {"type": "integer"},
                                "alerts": {"type": "integer"},
                            },
                        },
                        {
                            "type": "object",
                            "properties": {
                                "status": {"type": "string", "enum": ["success"]},
                                "message": _STR,
                                "dedup_key": _STR,
                            },
                        },
                    ]
                },
                "examples": {
                    "tocsin": {"value": {"status": "accepted", "inbox_id": 42, "alerts": 1}},
                    "pagerduty": {
                        "value": {
                            "status": "success",
                            "message": "Event processed",
                            "dedup_key": "checkout-5xx",
                        }
                    },
                },
            }
        },
    },
    400: _error("not JSON or not UTF-8; for PagerDuty integrations also an invalid event"),
    401: _error("missing or wrong token, routing_key or Grafana signature (the message names it)"),
    404: _error("no integration of that name"),
    413: _error("body larger than TOCSIN_MAX_BODY_BYTES"),
    422: _error(
        "not the integration's format: `field` names the place, `missing` every "
        "required field that is absent"
    ),
    503: _error("the database could not store it; retry after Retry-After seconds"),
}


def request_body(*, only: str | None = None) -> dict[str, Any]:
    """The ``requestBody`` of the operation: one schema per format, and the examples."""
    formats = [only] if only else list(SCHEMAS)
    examples = {
        name: {"summary": f"{fmt}: {name}", "value": value}
        for name, (fmt, value) in EXAMPLES.items()
        if fmt in formats
    }
    schema: dict[str, Any] = (
        SCHEMAS[formats[0]] if len(formats) == 1 else {"oneOf": [SCHEMAS[f] for f in formats]}
    )
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema, "examples": examples}},
        }
    }
