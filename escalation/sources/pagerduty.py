"""PagerDuty Events API v2 (``POST /v2/enqueue``) events, so any tool that can page PagerDuty
can page Tocsin.

One event per request: ``event_action`` is ``trigger`` (firing), ``acknowledge`` (someone took
it in the sending tool) or ``resolve``. ``dedup_key`` is the fingerprint; a trigger without
one gets a key derived from its summary, source, component, group and class (so the same
trigger repeated updates one alert), which the webhook answers with, as PagerDuty does.
See https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from escalation.errors import PayloadError
from escalation.model import AlertEvent, Link, SourceStatus
from escalation.sources._fingerprint import derive_fingerprint
from escalation.sources._source import ANY, NON_BLANK, STR, TIME, Example, Source
from escalation.sources._validate import (
    absent,
    child,
    expect_list,
    expect_object,
    expect_str,
    is_http_url,
    item,
    optional_str,
    parse_iso8601,
    raise_missing,
    show,
)

NAME = "pagerduty"
ACTIONS: Mapping[str, SourceStatus] = {
    "trigger": SourceStatus.FIRING,
    "acknowledge": SourceStatus.ACKNOWLEDGED,
    "resolve": SourceStatus.RESOLVED,
}
SEVERITIES = ("critical", "error", "warning", "info")
MAX_DEDUP_KEY_CHARS = 255
MAX_SUMMARY_CHARS = 1024
MAX_LINKS = 20
_LABEL_FIELDS = ("source", "component", "group", "class")
_KNOWN_FIELDS = frozenset(
    {"routing_key", "event_action", "dedup_key", "payload", "images", "links", "client"}
    | {"client_url"}
)
_KNOWN_PAYLOAD_FIELDS = frozenset(
    {"summary", "severity", "timestamp", "custom_details", *_LABEL_FIELDS}
)


def parse_pagerduty(payload: object) -> list[AlertEvent]:
    """The one event in a PagerDuty Events API v2 body (the value ``json.loads`` returned).

    Raises :class:`MissingFieldsError` naming every required field that is absent, or
    :class:`PayloadError` naming the first field that is wrong.
    """
    body = expect_object(payload, field="")
    action = _action(body)
    details = {key: value for key, value in body.items() if key not in _KNOWN_FIELDS}
    dedup_key = optional_str(
        body, "dedup_key", path="", max_chars=MAX_DEDUP_KEY_CHARS, non_empty=True
    )
    optional_str(body, "routing_key", path="")
    if action is not SourceStatus.FIRING:
        raise_missing(absent(body, ("dedup_key",), path=""))
        assert dedup_key is not None
        raw = body.get("payload")
        summary = None
        if raw is not None:
            summary = optional_str(expect_object(raw, field="payload"), "summary", path="payload")
        title = (summary or "").strip() or f"PagerDuty event {dedup_key}"
        return [
            AlertEvent(
                fingerprint=dedup_key, status=action, title=title, source=NAME, details=details
            )
        ]
    event = _trigger(body, details)
    if dedup_key is not None:
        return [_with_fingerprint(event, dedup_key)]
    return [_with_fingerprint(event, dedup_key_for(event))]


def dedup_key_for(event: AlertEvent) -> str:
    """The key given to a trigger that has none: the same trigger always gets the same key."""
    return derive_fingerprint(title=event.title, labels=event.labels)


def dedup_key_of(events: list[AlertEvent]) -> str:
    """The ``dedup_key`` to answer with (the fingerprint of the body's one event)."""
    return events[0].fingerprint


def _action(body: Mapping[str, object]) -> SourceStatus:
    missing = absent(body, ("event_action",), path="")
    if body.get("event_action") == "trigger":
        raw = body.get("payload")
        if raw is None:
            missing.append("payload")
        elif isinstance(raw, Mapping):
            missing += absent(raw, ("summary", "source", "severity"), path="payload")
    raise_missing(missing)
    value = body["event_action"]
    if not isinstance(value, str) or value not in ACTIONS:
        raise PayloadError(
            "event_action", f'must be "trigger", "acknowledge" or "resolve", got {show(value)}'
        )
    return ACTIONS[value]


def _trigger(body: Mapping[str, object], details: dict[str, object]) -> AlertEvent:
    pd = expect_object(body["payload"], field="payload")
    summary = expect_str(
        pd["summary"], field="payload.summary", max_chars=MAX_SUMMARY_CHARS, non_empty=True
    ).strip()
    severity = expect_str(pd["severity"], field="payload.severity")
    if severity not in SEVERITIES:
        raise PayloadError(
            "payload.severity",
            f'must be "critical", "error", "warning" or "info", got {show(severity)}',
        )
    labels: dict[str, str] = {}
    for key in _LABEL_FIELDS:
        value = optional_str(pd, key, path="payload", max_chars=1024)
        if value is not None and value.strip():
            labels[key] = value.strip()
    if "source" not in labels:
        raise PayloadError("payload.source", "must not be empty")
    timestamp = optional_str(pd, "timestamp", path="payload")
    custom = pd.get("custom_details")
    extra = {key: value for key, value in pd.items() if key not in _KNOWN_PAYLOAD_FIELDS}
    if custom is not None:
        details["custom_details"] = custom
    if extra:
        details["payload"] = extra
    client = optional_str(body, "client", path="")
    if client:
        details["client"] = client
    return AlertEvent(
        fingerprint="",
        status=SourceStatus.FIRING,
        title=summary,
        source=NAME,
        description=_describe(custom),
        severity=severity,
        labels=labels,
        links=_links(body, client),
        starts_at=None
        if timestamp is None
        else parse_iso8601(timestamp, field="payload.timestamp"),
        details=details,
    )


def _with_fingerprint(event: AlertEvent, fingerprint: str) -> AlertEvent:
    return replace(event, fingerprint=fingerprint)


def _describe(custom: object) -> str:
    """``custom_details`` shown on the warning: a string as is, an object as key: value lines."""
    if custom is None:
        return ""
    if isinstance(custom, str):
        return custom
    if isinstance(custom, Mapping):
        return "\n".join(
            f"{key}: {value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}"
            for key, value in custom.items()
        )
    return json.dumps(custom, ensure_ascii=False)


def _links(body: Mapping[str, object], client: str | None) -> tuple[Link, ...]:
    found: list[Link] = []
    client_url = optional_str(body, "client_url", path="")
    if client_url and is_http_url(client_url):
        found.append(Link(client or "Source", client_url.strip()))
    for key, url_key, title_key, default in (
        ("links", "href", "text", "Link"),
        ("images", "href", "alt", "Image"),
    ):
        raw = body.get(key)
        if raw is None:
            continue
        for i, entry in enumerate(expect_list(raw, field=key, max_items=MAX_LINKS)):
            obj = expect_object(entry, field=item(key, i))
            url = optional_str(obj, url_key, path=item(key, i))
            title = optional_str(obj, title_key, path=item(key, i))
            if key == "links" and url is None:
                raise PayloadError(child(item(key, i), url_key), "is required")
            if url and is_http_url(url):
                found.append(Link((title or "").strip() or default, url.strip()))
    return tuple(found[:MAX_LINKS])


_DEDUP_KEY = {"type": "string", "maxLength": MAX_DEDUP_KEY_CHARS, "pattern": NON_BLANK}
_LABEL = {"type": "string", "maxLength": 1024}
_COMPACT_TIME = {
    "type": "string",
    "description": "as PagerDuty's own examples write it, e.g. 2015-07-17T08:42:58.315+0000",
    "pattern": r"^(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3])"
    r":[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?[+-](0[0-9]|1[0-4])[0-5][0-9]$",
}

SCHEMA: dict[str, Any] = {
    "title": "PagerDuty Events API v2 event",
    "type": "object",
    "required": ["event_action"],
    "properties": {
        "routing_key": {**STR, "description": "The integration's token (or send it as Bearer)."},
        "event_action": {"type": "string", "enum": list(ACTIONS)},
        "dedup_key": {
            **_DEDUP_KEY,
            "description": "Required for acknowledge and resolve; derived for a trigger.",
        },
        "payload": {"type": "object", "properties": {"summary": STR}},
        "images": {
            "type": "array",
            "maxItems": MAX_LINKS,
            "items": {"type": "object", "properties": {"href": STR, "alt": STR}},
        },
        "links": {
            "type": "array",
            "maxItems": MAX_LINKS,
            "items": {
                "type": "object",
                "required": ["href"],
                "properties": {"href": STR, "text": STR},
            },
        },
        "client": STR,
        "client_url": STR,
    },
    "oneOf": [
        {
            "description": "trigger: payload with summary, source and severity",
            "required": ["payload"],
            "properties": {
                "event_action": {"const": "trigger"},
                "payload": {
                    "type": "object",
                    "description": "Required for trigger.",
                    "required": ["summary", "source", "severity"],
                    "properties": {
                        "summary": {
                            "type": "string",
                            "maxLength": MAX_SUMMARY_CHARS,
                            "pattern": NON_BLANK,
                        },
                        "source": {**_LABEL, "pattern": NON_BLANK},
                        "severity": {"type": "string", "enum": list(SEVERITIES)},
                        "timestamp": {"anyOf": [TIME, _COMPACT_TIME]},
                        "component": _LABEL,
                        "group": _LABEL,
                        "class": _LABEL,
                        "custom_details": ANY,
                    },
                },
            },
        },
        {
            "description": "acknowledge or resolve: dedup_key names the alert",
            "required": ["dedup_key"],
            "properties": {
                "event_action": {"enum": ["acknowledge", "resolve"]},
                "dedup_key": _DEDUP_KEY,
            },
        },
    ],
}


def _send_test(now: datetime, run: str) -> dict[str, Any]:
    del now  # PagerDuty events carry no start time unless the sender gives one
    return {
        "event_action": "trigger",
        "dedup_key": f"send-test-pagerduty-{run}",
        "payload": {
            "summary": "Test alert from `tocsin send-test` (PagerDuty Events v2 format)",
            "source": "send-test",
            "severity": "warning",
            "custom_details": {"note": "Safe to resolve: it only checks the path to Slack."},
        },
    }


SOURCE = Source(
    name=NAME,
    title="PagerDuty Events API v2 events (trigger, acknowledge, resolve)",
    parse=parse_pagerduty,
    schema=SCHEMA,
    examples=(
        Example(
            name="pagerduty-trigger",
            summary="pagerduty: trigger",
            body={
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
        Example(
            name="pagerduty-acknowledge",
            summary="pagerduty: acknowledge",
            body={
                "routing_key": "dev-token",
                "event_action": "acknowledge",
                "dedup_key": "checkout-5xx",
            },
        ),
    ),
    send_test=_send_test,
    docs_url="https://developer.pagerduty.com/docs/events-api-v2/trigger-events/",
    auth="the body's `routing_key` may carry the token (also at `POST /v2/enqueue`, where it "
    "picks the integration)",
    maps=(
        "`event_action` trigger/acknowledge/resolve; `dedup_key` → fingerprint; "
        "`payload.severity`; custom details, `links`, `client_url`"
    ),
)
