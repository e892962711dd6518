"""Grafana Alerting's webhook contact point, payload version "1".

Alertmanager-shaped (``alerts``, ``groupKey``, ``truncatedAlerts``) plus Grafana's own fields:
the group's ``state``, ``title`` and ``message``, and per alert the query ``values`` and the
dashboard, panel, silence and image URLs.
See https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from escalation.errors import PayloadError
from escalation.model import AlertEvent, Link
from escalation.sources._fingerprint import derive_fingerprint
from escalation.sources._source import STR, TIME, Example, Source
from escalation.sources._validate import (
    MAX_ALERTS,
    MAX_FINGERPRINT_CHARS,
    MAX_LABEL_CHARS,
    MAX_LABELS,
    absent,
    child,
    expect_alert_list,
    expect_count,
    expect_number,
    expect_object,
    expect_status,
    expect_str_map,
    is_http_url,
    item,
    optional_str,
    optional_timestamp,
    raise_missing,
    show,
    wrong_type,
)
from escalation.sources.alertmanager import GO_ZERO_TIME

NAME = "grafana"
_KNOWN_ALERT_FIELDS = frozenset(
    {
        "status",
        "labels",
        "annotations",
        "startsAt",
        "endsAt",
        "generatorURL",
        "fingerprint",
        "silenceURL",
        "dashboardURL",
        "panelURL",
        "imageURL",
        "values",
    }
)
_LINKS = (
    ("generatorURL", "Alert rule"),
    ("dashboardURL", "Dashboard"),
    ("panelURL", "Panel"),
    ("silenceURL", "Silence"),
    ("imageURL", "Image"),
)
_GROUP_FIELDS = ("receiver", "state", "title", "message", "orgId", "externalURL")


def parse_grafana(payload: object) -> list[AlertEvent]:
    """The events in a Grafana webhook body (the value ``json.loads`` returned)."""
    body = expect_object(payload, field="")
    version = body.get("version")
    if version is not None and version != "1":
        raise PayloadError("version", f'must be "1", got {show(version)}')
    raise_missing(absent(body, ("alerts",), path=""))
    alerts = expect_alert_list(body["alerts"], field="alerts")
    objects = [expect_object(raw, field=item("alerts", i)) for i, raw in enumerate(alerts)]
    raise_missing(
        [
            path
            for i, alert in enumerate(objects)
            for path in absent(alert, ("status", "labels"), path=item("alerts", i))
        ]
    )
    raw_truncated = body.get("truncatedAlerts")
    truncated = (
        None if raw_truncated is None else expect_count(raw_truncated, field="truncatedAlerts")
    )
    group: dict[str, object] = {key: body[key] for key in _GROUP_FIELDS if key in body}
    group["truncatedAlerts"] = truncated or 0
    group_key = optional_str(body, "groupKey", path="")
    group_title = (optional_str(body, "title", path="") or "").strip()
    message = (optional_str(body, "message", path="") or "").strip()
    return [
        _parse_alert(
            alert,
            path=item("alerts", i),
            group=group,
            group_key=group_key,
            fallback_title=group_title,
            message=message if len(objects) == 1 else "",
        )
        for i, alert in enumerate(objects)
    ]


def _parse_alert(
    alert: Mapping[str, object],
    *,
    path: str,
    group: Mapping[str, object],
    group_key: str | None,
    fallback_title: str,
    message: str,
) -> AlertEvent:
    status = expect_status(alert["status"], field=child(path, "status"))
    labels = expect_str_map(alert["labels"], field=child(path, "labels"))
    raw_annotations = alert.get("annotations")
    annotations = (
        {}
        if raw_annotations is None
        else expect_str_map(raw_annotations, field=child(path, "annotations"), max_value_chars=None)
    )
    alertname = labels.get("alertname", "").strip()
    title = _first(annotations.get("summary"), alertname, fallback_title) or "Grafana alert"
    fingerprint = optional_str(
        alert, "fingerprint", path=path, max_chars=MAX_FINGERPRINT_CHARS
    ) or derive_fingerprint(title=alertname or title, labels=labels)
    values = _values(alert.get("values"), field=child(path, "values"))
    description = _first(annotations.get("description"), message)
    if values:
        shown = ", ".join(f"{name}={_number(value)}" for name, value in values.items())
        description = f"{description}\n\nValues: {shown}".strip()
    details: dict[str, object] = {
        key: value for key, value in alert.items() if key not in _KNOWN_ALERT_FIELDS
    }
    details.update(group)
    if values:
        details["values"] = values
    category = labels.get("category", "").strip().lower()
    return AlertEvent(
        fingerprint=fingerprint,
        status=status,
        title=title,
        source=NAME,
        description=description,
        impact=_first(annotations.get("impact")),
        suggested_actions=_first(annotations.get("suggested_actions"), annotations.get("runbook")),
        severity=labels.get("severity") or None,
        category=category or None,
        labels=labels,
        annotations=annotations,
        links=_links(alert, annotations, path=path),
        starts_at=_timestamp(alert, "startsAt", path=path),
        ends_at=_timestamp(alert, "endsAt", path=path),
        group_key=group_key,
        details=details,
    )


def _values(value: object, *, field: str) -> dict[str, float | None]:
    """Query results by refId; ``null`` (no data) is kept as ``None``."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise wrong_type(field, "an object", value)
    return {
        str(key): None if raw is None else expect_number(raw, field=child(field, str(key)))
        for key, raw in value.items()
    }


def _number(value: float | None) -> str:
    if value is None:
        return "no data"
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:g}"


def _first(*candidates: str | None) -> str:
    for candidate in candidates:
        if candidate and candidate.strip():
            return candidate.strip()
    return ""


def _links(
    alert: Mapping[str, object], annotations: Mapping[str, str], *, path: str
) -> tuple[Link, ...]:
    found = [
        Link(title, url.strip())
        for key, title in _LINKS
        if (url := optional_str(alert, key, path=path)) and is_http_url(url)
    ]
    runbook = annotations.get("runbook_url")
    if runbook and is_http_url(runbook):
        found.append(Link("Runbook", runbook.strip()))
    return tuple(found)


def _timestamp(alert: Mapping[str, object], key: str, *, path: str) -> datetime | None:
    moment = optional_timestamp(alert, key, path=path)
    return None if moment == GO_ZERO_TIME else moment


_STATUS = {"type": "string", "enum": ["firing", "resolved"]}
_MAP: dict[str, Any] = {
    "type": "object",
    "maxProperties": MAX_LABELS,
    "propertyNames": {"maxLength": MAX_LABEL_CHARS},
    "additionalProperties": STR,
}

SCHEMA: dict[str, Any] = {
    "title": "Grafana Alerting webhook (version 1)",
    "description": "Optionally signed: X-Grafana-Alerting-Signature (hex HMAC-SHA256).",
    "type": "object",
    "required": ["alerts"],
    "properties": {
        "version": {"type": "string", "enum": ["1"]},
        "groupKey": {**STR, "description": "Kept on every alert as its group key."},
        "truncatedAlerts": {"type": "integer", "minimum": 0},
        "title": STR,
        "message": STR,
        "alerts": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_ALERTS,
            "items": {
                "type": "object",
                "required": ["status", "labels"],
                "properties": {
                    "status": _STATUS,
                    "labels": {
                        **_MAP,
                        "additionalProperties": {"type": "string", "maxLength": MAX_LABEL_CHARS},
                    },
                    "annotations": _MAP,
                    "startsAt": TIME,
                    "endsAt": TIME,
                    "values": {
                        "type": "object",
                        "additionalProperties": {"type": ["number", "null"]},
                    },
                    "fingerprint": {"type": "string", "maxLength": MAX_FINGERPRINT_CHARS},
                    **{key: STR for key, _ in _LINKS},
                },
            },
        },
    },
}


def _send_test(now: datetime, run: str) -> dict[str, Any]:
    return {
        "version": "1",
        "status": "firing",
        "state": "alerting",
        "title": "[FIRING:1] TocsinSendTest",
        "groupKey": '{}:{alertname="TocsinSendTest"}',
        "truncatedAlerts": 0,
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "TocsinSendTest", "severity": "warning"},
                "annotations": {
                    "summary": "Test alert from `tocsin send-test` (Grafana format)",
                    "description": "Safe to resolve: it only checks the path to Slack.",
                },
                "startsAt": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "endsAt": "0001-01-01T00:00:00Z",
                "values": {"A": 1},
                "fingerprint": f"send-test-grafana-{run}",
            }
        ],
    }


SOURCE = Source(
    name=NAME,
    title="Grafana Alerting webhook contact point (version 1)",
    parse=parse_grafana,
    schema=SCHEMA,
    examples=(
        Example(
            name="grafana",
            summary="grafana: one firing alert",
            body={
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
                        "labels": {
                            "alertname": "HighLatency",
                            "service": "api",
                            "severity": "major",
                        },
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
    ),
    send_test=_send_test,
    docs_url="https://grafana.com/docs/grafana/latest/alerting/configure-notifications/"
    "manage-contact-points/integrations/webhook-notifier/",
    auth="with `hmac_secret`, a valid `X-Grafana-Alerting-Signature` is required too",
    maps=(
        "`status` per alert; `fingerprint`; `labels.severity` → severity; "
        "query values, dashboard, panel and silence links; `groupKey` → group"
    ),
)
