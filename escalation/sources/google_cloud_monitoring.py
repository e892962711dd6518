"""Google Cloud Monitoring's webhook notification channel, incident payload version "1.2".

One incident per request: ``incident.state`` ``open`` fires and ``closed`` resolves, and
``incident_id`` is the fingerprint (the same for both). ``incident.severity`` (``Critical``,
``Error``, ``Warning``) is the severity the policy's ``grading`` matches; when the policy has
none (``No severity``) a ``severity`` user label of the policy stands in. The policy's user
labels, its name and condition, the project, the resource and the metric become labels; the
incident's console page and the documentation's links become links. Cloud Monitoring sends
no custom header: the integration's token goes in the channel's URL (``?token=``).
See https://cloud.google.com/monitoring/support/notification-options#webhooks
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from escalation.errors import PayloadError
from escalation.model import AlertEvent, Link, SourceStatus
from escalation.sources._source import ANY, NON_BLANK, STR, Example, Source
from escalation.sources._validate import (
    MAX_FINGERPRINT_CHARS,
    MAX_LABEL_CHARS,
    MAX_LABELS,
    absent,
    child,
    expect_count,
    expect_list,
    expect_object,
    expect_str,
    expect_str_map,
    is_http_url,
    item,
    optional_str,
    raise_missing,
    show,
)

NAME = "google_cloud_monitoring"
VERSION = "1.2"
TEST_VERSION = "test"
"""What the console's "Send test notification" posts: ``state`` in capitals, ``documentation``
a plain string, times 0."""
STATES: Mapping[str, SourceStatus] = {
    "open": SourceStatus.FIRING,
    "closed": SourceStatus.RESOLVED,
    "OPEN": SourceStatus.FIRING,
    "CLOSED": SourceStatus.RESOLVED,
}
NO_SEVERITY = "no severity"
MAX_LINKS = 20
MAX_EPOCH = 253402300799
"""9999-12-31T23:59:59Z, the last second a timestamp can name."""
_INCIDENT = "incident"
_LABEL_FIELDS = (
    ("scoping_project_id", "project"),
    ("policy_name", "policy"),
    ("condition_name", "condition"),
    ("resource_name", "resource_name"),
    ("resource_type_display_name", "resource_kind"),
)
_READ = frozenset(
    {"incident_id", "state", "url", "severity", "summary", "started_at", "ended_at"}
    | {"policy_user_labels", "documentation", "resource", "metric"}
    | {key for key, _ in _LABEL_FIELDS}
)


def parse_google_cloud_monitoring(payload: object) -> list[AlertEvent]:
    """The one incident in a Cloud Monitoring webhook body (the value ``json.loads`` returned).

    Raises :class:`MissingFieldsError` naming every required field that is absent, or
    :class:`PayloadError` naming the first field that is wrong.
    """
    body = expect_object(payload, field="")
    version = body.get("version")
    if version is not None and version not in (VERSION, TEST_VERSION):
        raise PayloadError(
            "version", f'must be "{VERSION}" (or "{TEST_VERSION}"), got {show(version)}'
        )
    raise_missing(absent(body, (_INCIDENT,), path=""))
    incident = expect_object(body[_INCIDENT], field=_INCIDENT)
    raise_missing(absent(incident, ("incident_id", "state"), path=_INCIDENT))
    incident_id = expect_str(
        incident["incident_id"],
        field="incident.incident_id",
        max_chars=MAX_FINGERPRINT_CHARS,
        non_empty=True,
    ).strip()
    state = incident["state"]
    if not isinstance(state, str) or state not in STATES:
        raise PayloadError(
            "incident.state", f'must be "open" or "closed" (or in capitals), got {show(state)}'
        )
    user_labels = _str_map(incident, "policy_user_labels")
    documentation = _documentation(incident)
    condition = incident.get("condition")
    if condition is not None:
        expect_object(condition, field="incident.condition")
    summary = (optional_str(incident, "summary", path=_INCIDENT) or "").strip()
    content = (optional_str(documentation, "content", path="incident.documentation") or "").strip()
    labels = _labels(incident, user_labels)
    names = (
        optional_str(incident, key, path=_INCIDENT) for key in ("policy_name", "condition_name")
    )
    title = next((name.strip() for name in names if name and name.strip()), summary)
    return [
        AlertEvent(
            fingerprint=incident_id,
            status=STATES[state],
            title=title or f"Cloud Monitoring incident {incident_id}",
            source=NAME,
            description="\n\n".join(part for part in (summary, content) if part),
            severity=_severity(incident, user_labels),
            labels=labels,
            links=_links(incident, documentation),
            starts_at=_epoch(incident, "started_at"),
            ends_at=_epoch(incident, "ended_at"),
            details={key: value for key, value in incident.items() if key not in _READ},
        )
    ]


def _documentation(incident: Mapping[str, object]) -> Mapping[str, object]:
    """The policy's documentation; a test notification sends it as a plain string."""
    value = incident.get("documentation")
    if isinstance(value, str):
        return {"content": value}
    return _object(incident, "documentation")


def _object(obj: Mapping[str, object], key: str) -> Mapping[str, object]:
    value = obj.get(key)
    return {} if value is None else expect_object(value, field=child(_INCIDENT, key))


def _str_map(obj: Mapping[str, object], key: str, *, path: str = _INCIDENT) -> dict[str, str]:
    value = obj.get(key)
    return {} if value is None else expect_str_map(value, field=child(path, key))


def _severity(incident: Mapping[str, object], user_labels: Mapping[str, str]) -> str | None:
    word = (optional_str(incident, "severity", path=_INCIDENT) or "").strip()
    if word and word.lower() != NO_SEVERITY:
        return word
    return user_labels.get("severity", "").strip() or None


def _labels(incident: Mapping[str, object], user_labels: Mapping[str, str]) -> dict[str, str]:
    labels = dict(user_labels)
    for key, label in _LABEL_FIELDS:
        value = optional_str(incident, key, path=_INCIDENT, max_chars=MAX_LABEL_CHARS)
        if value and value.strip():
            labels[label] = value.strip()
    for key, prefix in (("resource", "resource"), ("metric", "metric")):
        part = _object(incident, key)
        path = child(_INCIDENT, key)
        kind = optional_str(part, "type", path=path, max_chars=MAX_LABEL_CHARS)
        if kind and kind.strip():
            labels[f"{prefix}_type"] = kind.strip()
        for name, value in _str_map(part, "labels", path=path).items():
            if value.strip() and len(name) + len(prefix) < MAX_LABEL_CHARS:
                labels[f"{prefix}.{name}"] = value.strip()
    return dict(list(labels.items())[:MAX_LABELS])


def _links(incident: Mapping[str, object], documentation: Mapping[str, object]) -> tuple[Link, ...]:
    found: list[Link] = []
    url = optional_str(incident, "url", path=_INCIDENT)
    if url and is_http_url(url):
        found.append(Link("Incident in Cloud Monitoring", url.strip()))
    raw = documentation.get("links")
    if raw is None:
        return tuple(found)
    path = "incident.documentation.links"
    for i, entry in enumerate(expect_list(raw, field=path, max_items=MAX_LINKS)):
        link = expect_object(entry, field=item(path, i))
        href = optional_str(link, "url", path=item(path, i))
        title = optional_str(link, "displayName", path=item(path, i))
        if href and is_http_url(href):
            found.append(Link((title or "").strip() or "Documentation", href.strip()))
    return tuple(found)


def _epoch(incident: Mapping[str, object], key: str) -> datetime | None:
    """Seconds since 1970 (the payload's ``started_at`` and ``ended_at``); 0 is unset."""
    value = incident.get(key)
    if value is None:
        return None
    field = child(_INCIDENT, key)
    seconds = expect_count(value, field=field)
    if seconds > MAX_EPOCH:
        raise PayloadError(field, f"must be at most {MAX_EPOCH} (seconds since 1970)")
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


_TEXT = {"type": "string", "maxLength": MAX_LABEL_CHARS}
_EPOCH = {"type": "integer", "minimum": 0, "maximum": MAX_EPOCH}
_MAP = {"type": "object", "additionalProperties": _TEXT, "maxProperties": MAX_LABELS}
_LABELLED = {
    "type": "object",
    "properties": {"type": _TEXT, "labels": {**_MAP, "propertyNames": _TEXT}},
}

_DOCUMENTATION = {
    "type": "object",
    "properties": {
        "content": STR,
        "links": {
            "type": "array",
            "maxItems": MAX_LINKS,
            "items": {
                "type": "object",
                "properties": {"displayName": STR, "url": STR},
            },
        },
    },
}

SCHEMA: dict[str, Any] = {
    "title": "Google Cloud Monitoring webhook (incident, version 1.2)",
    "type": "object",
    "required": [_INCIDENT],
    "properties": {
        "version": {"type": "string", "enum": [VERSION, TEST_VERSION]},
        _INCIDENT: {
            "type": "object",
            "required": ["incident_id", "state"],
            "properties": {
                "incident_id": {
                    "type": "string",
                    "maxLength": MAX_FINGERPRINT_CHARS,
                    "pattern": NON_BLANK,
                    "description": "The fingerprint: the same when open and closed.",
                },
                "state": {"type": "string", "enum": list(STATES)},
                "severity": STR,
                "summary": STR,
                "url": STR,
                "started_at": _EPOCH,
                "ended_at": _EPOCH,
                "policy_user_labels": {
                    **_MAP,
                    "propertyNames": {"maxLength": MAX_LABEL_CHARS},
                    "additionalProperties": _TEXT,
                },
                "resource": _LABELLED,
                "metric": _LABELLED,
                "condition": {"type": "object"},
                "documentation": {
                    "description": "A plain string in the console's test notification.",
                    "anyOf": [STR, _DOCUMENTATION],
                },
                **{key: _TEXT for key, _ in _LABEL_FIELDS},
                "metadata": ANY,
            },
        },
    },
}


def _send_test(now: datetime, run: str) -> dict[str, Any]:
    return {
        "version": VERSION,
        "incident": {
            "incident_id": f"0.send-test-{run}",
            "state": "open",
            "severity": "Warning",
            "started_at": int(now.timestamp()),
            "policy_name": "TocsinSendTest",
            "summary": "Test alert from `tocsin send-test` (Google Cloud Monitoring format). "
            "Safe to resolve: it only checks the path to Slack.",
        },
    }


SOURCE = Source(
    name=NAME,
    title="Google Cloud Monitoring webhook notification channel (incidents, version 1.2)",
    parse=parse_google_cloud_monitoring,
    schema=SCHEMA,
    examples=(
        Example(
            name="google-cloud-monitoring-open",
            summary="google_cloud_monitoring: an incident opened",
            body={
                "version": VERSION,
                "incident": {
                    "incident_id": "0.opqiw61fsv7p",
                    "scoping_project_id": "shop-prod",
                    "url": "https://console.cloud.google.com/monitoring/alerting/incidents/"
                    "0.opqiw61fsv7p?project=shop-prod",
                    "severity": "Critical",
                    "started_at": 1795341600,
                    "ended_at": None,
                    "state": "open",
                    "summary": "CPU utilization for checkout-1 is above the threshold of 0.9 "
                    "with a value of 0.97.",
                    "resource": {
                        "type": "gce_instance",
                        "labels": {"instance_id": "11223344", "zone": "europe-west1-b"},
                    },
                    "policy_name": "checkout-cpu",
                    "policy_user_labels": {"team": "shop"},
                    "condition_name": "VM Instance - CPU utilization [MAX]",
                },
            },
        ),
    ),
    send_test=_send_test,
    docs_url="https://cloud.google.com/monitoring/support/notification-options#webhooks",
    maps=(
        "`incident.state` open/closed; `incident_id` → fingerprint; `incident.severity`; "
        "policy user labels, resource, metric → labels; console link"
    ),
)
