"""The Prometheus Alertmanager webhook, payload version "4".

One :class:`AlertEvent` per element of ``alerts``; firing and resolved alerts may be mixed in
one payload. See https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from escalation.errors import PayloadError
from escalation.model import AlertEvent, Link, SourceStatus
from escalation.sources._fingerprint import derive_fingerprint
from escalation.sources._source import NON_BLANK, STR, STR_MAP, TIME, Example, Source
from escalation.sources._validate import (
    MAX_ALERTS,
    MAX_FINGERPRINT_CHARS,
    MAX_LABEL_CHARS,
    MAX_LABELS,
    absent,
    child,
    expect_alert_list,
    expect_count,
    expect_object,
    expect_status,
    expect_str_map,
    is_http_url,
    item,
    optional_str,
    optional_timestamp,
    raise_missing,
    require,
    show,
)

NAME = "alertmanager"

# Go's zero time.Time: what Alertmanager sends for an alert that has not ended.
GO_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)

_KNOWN_ALERT_FIELDS = frozenset(
    {"status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"}
)
_LEVELS = ("1", "2", "3")
_STATUSES = {status.value: status for status in (SourceStatus.FIRING, SourceStatus.RESOLVED)}


@dataclass(frozen=True, slots=True)
class _Group:
    """What the payload says about all of its alerts."""

    group_key: str | None
    receiver: str
    external_url: str
    truncated_alerts: int


def parse_alertmanager(payload: object) -> list[AlertEvent]:
    """The events in an Alertmanager webhook body (the value ``json.loads`` returned).

    Raises :class:`PayloadError` naming the offending field when the body does not have the
    shape of a version 4 webhook payload.
    """
    body = expect_object(payload, field="")
    version = body.get("version")
    if version is not None and version != "4":
        raise PayloadError("version", f'must be "4", got {show(version)}')
    alerts = expect_alert_list(require(body, "alerts", path=""), field="alerts")
    objects = [expect_object(raw, field=item("alerts", i)) for i, raw in enumerate(alerts)]
    raise_missing([path for i, alert in enumerate(objects) for path in _missing(alert, i)])
    group = _Group(
        group_key=optional_str(body, "groupKey", path=""),
        receiver=optional_str(body, "receiver", path="") or "",
        external_url=optional_str(body, "externalURL", path="") or "",
        truncated_alerts=_truncated_alerts(body.get("truncatedAlerts")),
    )
    return [_parse_or_repeat(alert, index=i, group=group) for i, alert in enumerate(objects)]


_REPEATS_KEPT = 4096
_repeats: dict[str, tuple[_Group, dict[str, object], AlertEvent]] = {}
"""Alerts parsed at least twice, by fingerprint: a copy of the alert as it came last, and
its event."""
_seen_once: dict[str, None] = {}
"""Fingerprints parsed once (as many as :data:`_repeats` keeps, oldest forgotten first)."""


def _parse_or_repeat(alert: Mapping[str, object], *, index: int, group: _Group) -> AlertEvent:
    """The event of ``alert``: the one parsed last time for its fingerprint when the alert
    and its payload's group fields are equal to that time's (compared whole, in C: a few
    microseconds against some twenty for parsing and checking it again), else parsed.

    Alertmanager sends every alert of a group again with each notification of the group —
    every ``group_interval`` while the group changes, every ``repeat_interval`` while it
    does not — so most alerts of a notification are as they were the last time. Events are
    immutable (their maps are copies no caller changes), so one stands for both. An alert is
    kept from the second time its fingerprint comes (a first sighting, most alerts of a
    storm, only notes the fingerprint: keeping a copy costs about a third of a parse); at
    most :data:`_REPEATS_KEPT` are kept, the oldest forgotten first; an alert with a value
    nested deeper than its labels is parsed each time. Equal is Python's ``==``: a field of
    its own that changes from ``1`` to ``1.0`` or ``true`` keeps the earlier event, whose
    details show the number as it first came."""
    fingerprint = alert.get("fingerprint")
    if type(fingerprint) is not str or not fingerprint:
        return _parse_alert(alert, path=item("alerts", index), group=group)
    seen = _repeats.get(fingerprint)
    if seen is not None and seen[1] == alert and seen[0] == group:
        return seen[2]
    event = _parse_alert(alert, path=item("alerts", index), group=group)
    if seen is None and fingerprint not in _seen_once:
        _seen_once[fingerprint] = None
        if len(_seen_once) > _REPEATS_KEPT:
            del _seen_once[next(iter(_seen_once))]
        return event
    kept = _flat_copy(alert)
    if kept is not None:
        _repeats[fingerprint] = (group, kept, event)
        if len(_repeats) > _REPEATS_KEPT:
            del _repeats[next(iter(_repeats))]
    return event


def _flat_copy(alert: Mapping[str, object]) -> dict[str, object] | None:
    """A copy of a parsed ``alert`` that no later change to the payload reaches: its labels
    and annotations copied (maps of text: the parse checked them), or ``None`` if another
    field holds a map or a list."""
    copy = dict(alert)
    for key, value in copy.items():
        kind = type(value)
        if kind is dict and key in _TEXT_MAPS:
            copy[key] = dict(value)  # type: ignore[call-overload]
        elif kind is dict or kind is list:
            return None
    return copy


_TEXT_MAPS = frozenset({"labels", "annotations"})


def _missing(alert: Mapping[str, object], index: int) -> list[str]:
    """Every required field alert ``index`` lacks."""
    labels = alert.get("labels")
    if (
        alert.get("status") is not None
        and isinstance(labels, dict)
        and labels.get("alertname") is not None
    ):
        return []  # the common case, without building paths
    path = item("alerts", index)
    missing = absent(alert, ("status", "labels"), path=path)
    labels = alert.get("labels")
    if isinstance(labels, Mapping) and labels.get("alertname") is None:
        missing.append(child(child(path, "labels"), "alertname"))
    return missing


def _truncated_alerts(value: object) -> int:
    return 0 if value is None else expect_count(value, field="truncatedAlerts")


def _parse_alert(alert: Mapping[str, object], *, path: str, group: _Group) -> AlertEvent:
    raw_status = require(alert, "status", path=path)
    status = _STATUSES.get(raw_status) if type(raw_status) is str else None
    if status is None:
        status = expect_status(raw_status, field=child(path, "status"))
    labels = _labels(alert, path=path)
    annotations = _annotations(alert, path=path)
    alertname = labels["alertname"]
    fingerprint = optional_str(
        alert, "fingerprint", path=path, max_chars=MAX_FINGERPRINT_CHARS
    ) or derive_fingerprint(title=alertname, labels=labels)
    details: dict[str, object] = {
        key: value for key, value in alert.items() if key not in _KNOWN_ALERT_FIELDS
    }
    details.update(
        receiver=group.receiver,
        externalURL=group.external_url,
        truncatedAlerts=group.truncated_alerts,
    )
    category = labels.get("category", "").strip().lower()
    return AlertEvent(
        fingerprint=fingerprint,
        status=status,
        title=_first(annotations.get("summary"), annotations.get("title"), alertname) or "Alert",
        source=NAME,
        description=_first(annotations.get("description"), annotations.get("message")),
        impact=_first(annotations.get("impact")),
        suggested_actions=_first(annotations.get("suggested_actions"), annotations.get("runbook")),
        severity=labels.get("severity") or None,
        level=_level(labels, annotations),
        category=category or None,
        labels=labels,
        annotations=annotations,
        links=_links(alert, annotations, path=path),
        starts_at=_timestamp(alert, "startsAt", path=path),
        ends_at=_timestamp(alert, "endsAt", path=path),
        group_key=group.group_key,
        details=details,
    )


def _labels(alert: Mapping[str, object], *, path: str) -> dict[str, str]:
    field = child(path, "labels")
    labels = expect_str_map(require(alert, "labels", path=path), field=field)
    if "alertname" not in labels:
        raise PayloadError(child(field, "alertname"), "is required")
    if not labels["alertname"].strip():
        raise PayloadError(child(field, "alertname"), "must not be empty")
    return labels


def _annotations(alert: Mapping[str, object], *, path: str) -> dict[str, str]:
    raw = alert.get("annotations")
    if raw is None:
        return {}
    return expect_str_map(raw, field=child(path, "annotations"), max_value_chars=None)


def _first(*candidates: str | None) -> str:
    """The first candidate that is not blank, stripped; ``""`` when there is none."""
    for candidate in candidates:
        if candidate and candidate.strip():
            return candidate.strip()
    return ""


def _level(labels: Mapping[str, str], annotations: Mapping[str, str]) -> int | None:
    for value in (labels.get("level"), annotations.get("level")):
        if value is not None and value.strip() in _LEVELS:
            return int(value)
    return None


def _links(
    alert: Mapping[str, object], annotations: Mapping[str, str], *, path: str
) -> tuple[Link, ...]:
    urls = (
        optional_str(alert, "generatorURL", path=path),
        annotations.get("runbook_url"),
        annotations.get("dashboard_url"),
    )
    if sum(len(url) for url in urls if url) > 1024:  # only short ones are cached
        return _links_of.__wrapped__(*urls)
    return _links_of(*urls)


@lru_cache(maxsize=1024)
def _links_of(source: str | None, runbook: str | None, dashboard: str | None) -> tuple[Link, ...]:
    """Cached: the alerts of one payload mostly share their links."""
    candidates = (("Source", source), ("Runbook", runbook), ("Dashboard", dashboard))
    return tuple(Link(title, url.strip()) for title, url in candidates if url and is_http_url(url))


def _timestamp(alert: Mapping[str, object], key: str, *, path: str) -> datetime | None:
    moment = optional_timestamp(alert, key, path=path)
    return None if moment == GO_ZERO_TIME else moment


_STATUS = {"type": "string", "enum": ["firing", "resolved"]}

SCHEMA = {
    "title": "Prometheus Alertmanager webhook (version 4)",
    "type": "object",
    "required": ["alerts"],
    "properties": {
        "version": {"type": "string", "enum": ["4"]},
        "receiver": STR,
        "groupKey": {**STR, "description": "Kept on every alert as its group key."},
        "truncatedAlerts": {
            "type": "integer",
            "minimum": 0,
            "description": "Alerts left out by max_alerts; shown on the warning and timeline.",
        },
        "externalURL": STR,
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
                        **STR_MAP,
                        "maxProperties": MAX_LABELS,
                        "propertyNames": {"maxLength": MAX_LABEL_CHARS},
                        "additionalProperties": {"type": "string", "maxLength": MAX_LABEL_CHARS},
                        "required": ["alertname"],
                        "properties": {"alertname": {"type": "string", "pattern": NON_BLANK}},
                    },
                    "annotations": {
                        **STR_MAP,
                        "maxProperties": MAX_LABELS,
                        "propertyNames": {"maxLength": MAX_LABEL_CHARS},
                    },
                    "startsAt": TIME,
                    "endsAt": TIME,
                    "generatorURL": STR,
                    "fingerprint": {"type": "string", "maxLength": MAX_FINGERPRINT_CHARS},
                },
            },
        },
    },
}


def _send_test(now: datetime, run: str) -> dict[str, Any]:
    return {
        "version": "4",
        "status": "firing",
        "receiver": "tocsin",
        "groupKey": '{}:{alertname="TocsinSendTest"}',
        "truncatedAlerts": 0,
        "groupLabels": {"alertname": "TocsinSendTest"},
        "commonLabels": {"alertname": "TocsinSendTest", "severity": "warning"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.invalid:9093",
        "alerts": [
            {
                "status": "firing",
                "labels": {
                    "alertname": "TocsinSendTest",
                    "severity": "warning",
                    "instance": "send-test",
                },
                "annotations": {
                    "summary": "Test alert from `tocsin send-test` (Alertmanager format)",
                    "description": "Safe to resolve: it only checks the path to Slack.",
                },
                "startsAt": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.invalid:9090/graph",
                "fingerprint": f"send-test-am-{run}",
            }
        ],
    }


SOURCE = Source(
    name=NAME,
    title="Prometheus Alertmanager webhook (version 4)",
    parse=parse_alertmanager,
    schema=SCHEMA,
    examples=(
        Example(
            name="alertmanager",
            summary="alertmanager: one firing alert",
            body={
                "version": "4",
                "status": "firing",
                "receiver": "tocsin",
                "groupKey": '{}:{alertname="DiskFull"}',
                "truncatedAlerts": 0,
                "alerts": [
                    {
                        "status": "firing",
                        "fingerprint": "3f2a9c0d1e4b5a67",
                        "labels": {
                            "alertname": "DiskFull",
                            "severity": "critical",
                            "instance": "db-1",
                        },
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
    ),
    send_test=_send_test,
    docs_url="https://prometheus.io/docs/alerting/latest/configuration/#webhook_config",
    maps=(
        "`status` firing/resolved; `fingerprint` (else alertname + labels); "
        "`labels.severity` → severity; labels, annotations, `generatorURL` link; "
        "`groupKey` → group"
    ),
)
