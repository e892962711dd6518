"""Grafana Alerting's webhook contact point, payload version "1".

Alertmanager-shaped (``alerts``, ``groupKey``, ``truncatedAlerts``) plus Grafana's own fields:
the group's ``state``, ``title`` and ``message``, and per alert the query ``values`` and the
dashboard, panel, silence and image URLs.
See https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from escalation.errors import PayloadError
from escalation.fingerprint import derive_fingerprint
from escalation.model import AlertEvent, Link
from escalation.sources._validate import (
    MAX_FINGERPRINT_CHARS,
    absent,
    child,
    expect_alert_list,
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

SOURCE = "grafana"
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
    truncated = body.get("truncatedAlerts")
    if truncated is not None and (
        isinstance(truncated, bool) or not isinstance(truncated, int) or truncated < 0
    ):
        raise PayloadError(
            "truncatedAlerts", f"must be a non-negative integer, got {show(truncated)}"
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
        source=SOURCE,
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
