"""Azure Monitor alerts in the common alert schema (``schemaId: azureMonitorCommonAlertSchema``),
as an action group's webhook sends them with "Enable the common alert schema" ticked.

One alert per request. ``data.essentials`` is read: ``monitorCondition`` ``Fired`` fires and
``Resolved`` resolves, ``alertId`` is the fingerprint (the same for both), ``severity``
(``Sev0`` … ``Sev4``) is the severity the policy's ``grading`` matches, the alert rule, signal
and target become labels, the portal's investigation link and the target resources become
links. ``data.alertContext`` (which varies by signal type) and ``data.customProperties`` are
kept as details.
See https://learn.microsoft.com/en-us/azure/azure-monitor/alerts/alerts-common-schema
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from escalation.errors import PayloadError
from escalation.model import AlertEvent, Link, SourceStatus
from escalation.sources._source import ANY, NON_BLANK, STR, TIME, Example, Source
from escalation.sources._validate import (
    MAX_FINGERPRINT_CHARS,
    MAX_LABEL_CHARS,
    absent,
    child,
    expect_list,
    expect_object,
    expect_str,
    is_http_url,
    item,
    optional_str,
    optional_timestamp,
    raise_missing,
    show,
)

NAME = "azure_monitor"
SCHEMA_ID = "azureMonitorCommonAlertSchema"
CONDITIONS: Mapping[str, SourceStatus] = {
    "Fired": SourceStatus.FIRING,
    "Resolved": SourceStatus.RESOLVED,
}
SEVERITIES = ("Sev0", "Sev1", "Sev2", "Sev3", "Sev4")
MAX_TARGETS = 20
PORTAL = "https://portal.azure.com/#resource"
_ESSENTIALS = "data.essentials"
_REQUIRED = ("alertId", "alertRule", "severity", "monitorCondition")
_LABEL_FIELDS = (
    ("alertRule", "alert_rule"),
    ("signalType", "signal_type"),
    ("monitoringService", "monitoring_service"),
    ("targetResourceType", "target_resource_type"),
    ("targetResourceGroup", "target_resource_group"),
)
_READ = frozenset(
    {
        *_REQUIRED,
        "description",
        "firedDateTime",
        "resolvedDateTime",
        "investigationLink",
        "alertTargetIDs",
        "configurationItems",
    }
    | {key for key, _ in _LABEL_FIELDS}
)


def parse_azure_monitor(payload: object) -> list[AlertEvent]:
    """The one alert in an Azure Monitor common-schema body (the value ``json.loads`` returned).

    Raises :class:`MissingFieldsError` naming every required field that is absent, or
    :class:`PayloadError` naming the first field that is wrong.
    """
    body = expect_object(payload, field="")
    schema_id = body.get("schemaId")
    if schema_id is not None and schema_id != SCHEMA_ID:
        raise PayloadError("schemaId", f'must be "{SCHEMA_ID}", got {show(schema_id)}')
    raise_missing(absent(body, ("data",), path=""))
    data = expect_object(body["data"], field="data")
    raise_missing(absent(data, ("essentials",), path="data"))
    essentials = expect_object(data["essentials"], field=_ESSENTIALS)
    raise_missing(absent(essentials, _REQUIRED, path=_ESSENTIALS))
    alert_id = expect_str(
        essentials["alertId"],
        field=child(_ESSENTIALS, "alertId"),
        max_chars=MAX_FINGERPRINT_CHARS,
        non_empty=True,
    ).strip()
    rule = expect_str(
        essentials["alertRule"],
        field=child(_ESSENTIALS, "alertRule"),
        max_chars=MAX_LABEL_CHARS,
        non_empty=True,
    ).strip()
    status = _enum(essentials, "monitorCondition", CONDITIONS)
    severity = _enum(essentials, "severity", dict.fromkeys(SEVERITIES))
    targets = _strings(essentials, "alertTargetIDs")
    items = _strings(essentials, "configurationItems")
    labels = _labels(essentials)
    if items:
        labels["configuration_items"] = ", ".join(items)[:MAX_LABEL_CHARS]
    details: dict[str, object] = {
        key: value for key, value in essentials.items() if key not in _READ
    }
    context = data.get("alertContext")
    if context is not None:
        _check_context(context)
        details["alertContext"] = context
    if data.get("customProperties") is not None:
        details["customProperties"] = data["customProperties"]
    return [
        AlertEvent(
            fingerprint=alert_id,
            status=status,
            title=rule,
            source=NAME,
            description=(optional_str(essentials, "description", path=_ESSENTIALS) or "").strip(),
            severity=severity,
            labels=labels,
            links=_links(essentials, targets),
            starts_at=optional_timestamp(essentials, "firedDateTime", path=_ESSENTIALS),
            ends_at=optional_timestamp(essentials, "resolvedDateTime", path=_ESSENTIALS),
            details=details,
        )
    ]


def _check_context(context: object) -> None:
    """The signal's own fields are kept as they come, but their frame is checked (as the
    schema documents it): an object, whose ``condition`` is an object whose ``allOf`` is a
    list of objects (one per criterion)."""
    path = "data.alertContext"
    condition = expect_object(context, field=path).get("condition")
    if condition is None:
        return
    path = child(path, "condition")
    criteria = expect_object(condition, field=path).get("allOf")
    if criteria is None:
        return
    path = child(path, "allOf")
    for i, criterion in enumerate(expect_list(criteria, field=path)):
        expect_object(criterion, field=item(path, i))


def _enum(essentials: Mapping[str, object], key: str, allowed: Mapping[str, Any]) -> Any:
    value = essentials[key]
    if not isinstance(value, str) or value not in allowed:
        words = [f'"{word}"' for word in allowed]
        raise PayloadError(
            child(_ESSENTIALS, key),
            f"must be {', '.join(words[:-1])} or {words[-1]}, got {show(value)}",
        )
    found = allowed[value]
    return value if found is None else found


def _strings(essentials: Mapping[str, object], key: str) -> list[str]:
    raw = essentials.get(key)
    if raw is None:
        return []
    path = child(_ESSENTIALS, key)
    values = expect_list(raw, field=path, max_items=MAX_TARGETS)
    return [
        text.strip()
        for i, value in enumerate(values)
        if (text := expect_str(value, field=item(path, i), max_chars=MAX_LABEL_CHARS)).strip()
    ]


def _labels(essentials: Mapping[str, object]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for key, label in _LABEL_FIELDS:
        value = optional_str(essentials, key, path=_ESSENTIALS, max_chars=MAX_LABEL_CHARS)
        if value and value.strip():
            labels[label] = value.strip()
    return labels


def _links(essentials: Mapping[str, object], targets: list[str]) -> tuple[Link, ...]:
    found: list[Link] = []
    investigation = optional_str(essentials, "investigationLink", path=_ESSENTIALS)
    if investigation and is_http_url(investigation):
        found.append(Link("Investigate in Azure", investigation.strip()))
    for target in targets:
        if target.startswith("/"):  # an Azure resource ID: its page in the portal
            name = target.rstrip("/").rsplit("/", 1)[-1] or target
            found.append(Link(f"Resource {name}", PORTAL + quote(target, safe="/")))
    return tuple(found)


_TEXT = {"type": "string", "maxLength": MAX_LABEL_CHARS}
_STRINGS = {"type": "array", "maxItems": MAX_TARGETS, "items": _TEXT}

SCHEMA: dict[str, Any] = {
    "title": "Azure Monitor alert (common alert schema)",
    "type": "object",
    "required": ["data"],
    "properties": {
        "schemaId": {"type": "string", "enum": [SCHEMA_ID]},
        "data": {
            "type": "object",
            "required": ["essentials"],
            "properties": {
                "essentials": {
                    "type": "object",
                    "required": list(_REQUIRED),
                    "properties": {
                        "alertId": {
                            "type": "string",
                            "maxLength": MAX_FINGERPRINT_CHARS,
                            "pattern": NON_BLANK,
                            "description": "The fingerprint: the same when fired and resolved.",
                        },
                        "alertRule": {**_TEXT, "pattern": NON_BLANK},
                        "severity": {"type": "string", "enum": list(SEVERITIES)},
                        "monitorCondition": {"type": "string", "enum": list(CONDITIONS)},
                        "description": STR,
                        "firedDateTime": TIME,
                        "resolvedDateTime": TIME,
                        "investigationLink": STR,
                        "alertTargetIDs": _STRINGS,
                        "configurationItems": _STRINGS,
                        **{key: _TEXT for key, _ in _LABEL_FIELDS if key != "alertRule"},
                    },
                },
                "alertContext": {
                    "type": "object",
                    "description": "Varies with the signal type; kept as a detail.",
                    "properties": {
                        "condition": {
                            "type": "object",
                            "properties": {"allOf": {"type": "array", "items": {"type": "object"}}},
                        }
                    },
                },
                "customProperties": ANY,
            },
        },
    },
}


def _send_test(now: datetime, run: str) -> dict[str, Any]:
    return {
        "schemaId": SCHEMA_ID,
        "data": {
            "essentials": {
                "alertId": "/subscriptions/00000000-0000-0000-0000-000000000000/providers/"
                f"Microsoft.AlertsManagement/alerts/send-test-{run}",
                "alertRule": "TocsinSendTest",
                "severity": "Sev3",
                "signalType": "Metric",
                "monitorCondition": "Fired",
                "monitoringService": "Platform",
                "firedDateTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "description": "Test alert from `tocsin send-test` (Azure Monitor format). "
                "Safe to resolve: it only checks the path to Slack.",
                "essentialsVersion": "1.0",
                "alertContextVersion": "1.0",
            },
            "alertContext": {},
        },
    }


SOURCE = Source(
    name=NAME,
    title="Azure Monitor alerts, common alert schema (action group webhook)",
    parse=parse_azure_monitor,
    schema=SCHEMA,
    examples=(
        Example(
            name="azure-monitor-fired",
            summary="azure_monitor: a metric alert fired",
            body={
                "schemaId": SCHEMA_ID,
                "data": {
                    "essentials": {
                        "alertId": "/subscriptions/11111111-2222-3333-4444-555555555555/"
                        "providers/Microsoft.AlertsManagement/alerts/"
                        "b9569717-bc32-442f-add5-83a997729330",
                        "alertRule": "checkout-vm-cpu",
                        "severity": "Sev1",
                        "signalType": "Metric",
                        "monitorCondition": "Fired",
                        "monitoringService": "Platform",
                        "alertTargetIDs": [
                            "/subscriptions/11111111-2222-3333-4444-555555555555/resourcegroups/"
                            "shop/providers/microsoft.compute/virtualmachines/checkout-1"
                        ],
                        "configurationItems": ["checkout-1"],
                        "firedDateTime": "2026-11-21T10:00:00.1234567Z",
                        "description": "CPU above 90% for 5 minutes",
                        "essentialsVersion": "1.0",
                        "alertContextVersion": "1.0",
                    },
                    "alertContext": {"conditionType": "SingleResourceMultipleMetricCriteria"},
                },
            },
        ),
    ),
    send_test=_send_test,
    docs_url="https://learn.microsoft.com/en-us/azure/azure-monitor/alerts/alerts-common-schema",
    maps=(
        "`monitorCondition` Fired/Resolved; `alertId` → fingerprint; `severity` Sev0-Sev4; "
        "rule, signal, target → labels; portal link"
    ),
)
