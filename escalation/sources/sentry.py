"""Sentry's integration platform webhooks: issue alerts, metric alerts and issue changes.

An internal integration (*Settings → Developer Settings → Custom Integrations*) posts
``{"action", "installation", "data", "actor"}``; what ``data`` holds tells the resource
(Sentry also names it in the ``Sentry-Hook-Resource`` header):

- ``event_alert`` (an issue alert rule's action, ``action`` ``triggered``): ``data.event``
  fires, keyed by its ``issue_id``; its ``level`` (``fatal``, ``error``, ``warning``,
  ``info``, ``debug``) is the severity, ``data.triggered_rule`` a label.
- ``issue`` (the integration subscribed to issues): ``data.issue``; ``created`` and
  ``unresolved`` fire, ``resolved`` and ``ignored``/``archived`` resolve, ``assigned``
  acknowledges at the source — all keyed by the issue's ``id``, so the issue's resolution
  resolves what its issue alert fired.
- ``metric_alert`` (a metric alert rule's action): ``data.metric_alert`` (the incident);
  ``action`` ``critical`` or ``warning`` fires (and is the severity), ``resolved``
  resolves; keyed by the incident's ``id``.

Sentry signs every request: ``Sentry-Hook-Signature`` is the hex HMAC-SHA256 of the body with
the integration's client secret (the integration's ``hmac_secret``); the token goes in the
webhook URL (``?token=``), since Sentry sends no other header one could set.
See https://docs.sentry.io/organization/integrations/integration-platform/webhooks/
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from escalation.errors import PayloadError
from escalation.model import AlertEvent, Link, SourceStatus
from escalation.sources._source import ANY, NON_BLANK, STR, Example, Source
from escalation.sources._validate import (
    MAX_LABEL_CHARS,
    MAX_LABELS,
    child,
    expect_list,
    expect_object,
    expect_str,
    is_http_url,
    item,
    optional_str,
    optional_timestamp,
    raise_missing,
    require,
    show,
)

NAME = "sentry"
MAX_TITLE_CHARS = 1000
MAX_ID_CHARS = 100
ISSUE_ACTIONS: Mapping[str, SourceStatus] = {
    "created": SourceStatus.FIRING,
    "unresolved": SourceStatus.FIRING,
    "resolved": SourceStatus.RESOLVED,
    "ignored": SourceStatus.RESOLVED,
    "archived": SourceStatus.RESOLVED,
    "assigned": SourceStatus.ACKNOWLEDGED,
}
METRIC_ACTIONS: Mapping[str, SourceStatus] = {
    "critical": SourceStatus.FIRING,
    "warning": SourceStatus.FIRING,
    "resolved": SourceStatus.RESOLVED,
}
_ID = r"^\s*[0-9A-Za-z_-]+\s*$"


def parse_sentry(payload: object) -> list[AlertEvent]:
    """The one event in a Sentry webhook body (the value ``json.loads`` returned).

    Raises :class:`PayloadError` naming the offending field.
    """
    body = expect_object(payload, field="")
    raise_missing([key for key in ("action", "data") if body.get(key) is None])
    action = expect_str(body["action"], field="action").strip()
    data = expect_object(body["data"], field="data")
    if data.get("metric_alert") is not None:
        return [_metric_alert(action, data)]
    if data.get("event") is not None:
        return [_event_alert(action, data)]
    if data.get("issue") is not None:
        return [_issue(action, data)]
    raise PayloadError(
        "data", "must hold event (issue alert), metric_alert (metric alert) or issue"
    )


def _identifier(obj: Mapping[str, object], key: str, *, path: str) -> str:
    """An id Sentry writes as a string (or, in older payloads, a number)."""
    raw = require(obj, key, path=path)
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)  # JSON Schema counts 3.0 as the integer 3
    text = str(raw) if type(raw) is int else raw
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_ID_CHARS:
        raise PayloadError(child(path, key), f"must be the id, got {show(raw)}")
    return text.strip()


def _title(obj: Mapping[str, object], key: str, *, path: str) -> str:
    return expect_str(
        require(obj, key, path=path),
        field=child(path, key),
        max_chars=MAX_TITLE_CHARS,
        non_empty=True,
    ).strip()


def _event_alert(action: str, data: Mapping[str, object]) -> AlertEvent:
    if action != "triggered":
        raise PayloadError("action", f'must be "triggered" for an issue alert, got {show(action)}')
    event = expect_object(data["event"], field="data.event")
    path = "data.event"
    raise_missing([child(path, key) for key in ("issue_id", "title") if event.get(key) is None])
    issue_id = _identifier(event, "issue_id", path=path)
    level = optional_str(event, "level", path=path)
    labels = {"issue_id": issue_id}
    rule = optional_str(data, "triggered_rule", path="data")
    if rule and rule.strip():
        labels["rule"] = rule.strip()[:MAX_LABEL_CHARS]
    for key in ("culprit", "environment", "release", "platform"):
        text = optional_str(event, key, path=path)
        if text and text.strip():
            labels[key] = text.strip()[:MAX_LABEL_CHARS]
    project = event.get("project")
    if type(project) is int or isinstance(project, str):
        labels["project"] = str(project)[:MAX_LABEL_CHARS]
    _add_tags(labels, event, path)
    return AlertEvent(
        fingerprint=f"{NAME}:issue:{issue_id}",
        status=SourceStatus.FIRING,
        title=_title(event, "title", path=path),
        source=NAME,
        description=(optional_str(event, "message", path=path) or "").strip(),
        severity=(level or "").strip() or None,
        labels=labels,
        links=_links((("Event", event.get("web_url")),)),
        starts_at=optional_timestamp(event, "datetime", path=path),
        details={
            key: event[key]
            for key in ("event_id", "issue_url", "url", "location")
            if isinstance(event.get(key), str)
        },
    )


def _add_tags(labels: dict[str, str], event: Mapping[str, object], path: str) -> None:
    """``tags``: ``[["browser", "Chrome 60.0"], ...]`` pairs."""
    raw = event.get("tags")
    if raw is None:
        return
    for i, pair in enumerate(expect_list(raw, field=child(path, "tags"))):
        where = item(child(path, "tags"), i)
        if not isinstance(pair, list) or len(pair) != 2:
            raise PayloadError(where, "must be a [name, value] pair")
        name = expect_str(pair[0], field=item(where, 0)).strip()[:MAX_LABEL_CHARS]
        value = expect_str(pair[1], field=item(where, 1)).strip()[:MAX_LABEL_CHARS]
        if name and len(labels) < MAX_LABELS:
            labels.setdefault(name, value)


def _issue(action: str, data: Mapping[str, object]) -> AlertEvent:
    status = ISSUE_ACTIONS.get(action)
    if status is None:
        words = ", ".join(ISSUE_ACTIONS)
        raise PayloadError("action", f"must be one of {words} for an issue, got {show(action)}")
    issue = expect_object(data["issue"], field="data.issue")
    path = "data.issue"
    raise_missing([child(path, key) for key in ("id", "title") if issue.get(key) is None])
    issue_id = _identifier(issue, "id", path=path)
    labels = {"issue_id": issue_id}
    for key, name in (("shortId", "short_id"), ("culprit", "culprit"), ("level", "level")):
        text = optional_str(issue, key, path=path)
        if text and text.strip():
            labels[name] = text.strip()[:MAX_LABEL_CHARS]
    raw_project = issue.get("project")
    if raw_project is not None:
        project = expect_object(raw_project, field=child(path, "project"))
        slug = optional_str(project, "slug", path=child(path, "project"))
        if slug and slug.strip():
            labels["project"] = slug.strip()[:MAX_LABEL_CHARS]
    level = optional_str(issue, "level", path=path)
    return AlertEvent(
        fingerprint=f"{NAME}:issue:{issue_id}",
        status=status,
        title=_title(issue, "title", path=path),
        source=NAME,
        severity=(level or "").strip() or None,
        labels=labels,
        links=_links((("Issue", issue.get("web_url") or issue.get("permalink")),)),
        starts_at=optional_timestamp(issue, "firstSeen", path=path)
        if status is SourceStatus.FIRING
        else None,
        details={"action": action}
        | {key: issue[key] for key in ("status", "count", "userCount") if key in issue},
    )


def _metric_alert(action: str, data: Mapping[str, object]) -> AlertEvent:
    status = METRIC_ACTIONS.get(action)
    if status is None:
        raise PayloadError(
            "action",
            f'must be "critical", "warning" or "resolved" for a metric alert, got {show(action)}',
        )
    path = "data.metric_alert"
    incident = expect_object(data["metric_alert"], field=path)
    raw_rule = incident.get("alert_rule")
    rule = {} if raw_rule is None else expect_object(raw_rule, field=child(path, "alert_rule"))
    rule_path = child(path, "alert_rule")
    missing = [child(path, "id")] if incident.get("id") is None else []
    if incident.get("title") is None and rule.get("name") is None:
        missing.append(child(path, "title"))
    raise_missing(missing)
    incident_id = _identifier(incident, "id", path=path)
    title = (
        _title(incident, "title", path=path)
        if incident.get("title") is not None
        else _title(rule, "name", path=rule_path)
    )
    labels = {"incident_id": incident_id}
    if rule.get("id") is not None:
        labels["alert_rule_id"] = _identifier(rule, "id", path=rule_path)
    for key in ("aggregate", "query", "dataset", "environment"):
        text = optional_str(rule, key, path=rule_path)
        if text and text.strip():
            labels[key] = text.strip()[:MAX_LABEL_CHARS]
    raw_projects = rule.get("projects")
    if raw_projects is not None:
        projects = expect_list(raw_projects, field=child(rule_path, "projects"))
        names = [
            expect_str(p, field=item(child(rule_path, "projects"), i)).strip()
            for i, p in enumerate(projects)
        ]
        labels["projects"] = ",".join(n for n in names if n)[:MAX_LABEL_CHARS]
    firing = status is SourceStatus.FIRING
    return AlertEvent(
        fingerprint=f"{NAME}:metric_alert:{incident_id}",
        status=status,
        title=title,
        source=NAME,
        description=(optional_str(data, "description_text", path="data") or "").strip(),
        severity=action if firing else None,
        labels=labels,
        links=_links((("Metric alert", data.get("web_url")),)),
        starts_at=optional_timestamp(incident, "date_started", path=path) if firing else None,
        ends_at=None if firing else optional_timestamp(incident, "date_closed", path=path),
        details={
            key: value for key in ("description_title",) if isinstance(value := data.get(key), str)
        },
    )


def _links(candidates: tuple[tuple[str, object], ...]) -> tuple[Link, ...]:
    links: list[Link] = []
    for title, url in candidates:
        if isinstance(url, str) and is_http_url(url) and all(x.url != url.strip() for x in links):
            links.append(Link(title, url.strip()))
    return tuple(links)


_ANY_ID = {
    "anyOf": [{"type": "integer"}, {"type": "string", "maxLength": MAX_ID_CHARS, "pattern": _ID}]
}
_TITLE = {"type": "string", "maxLength": MAX_TITLE_CHARS, "pattern": NON_BLANK}
_ABSENT = {"type": "null"}
_GIVEN = {"not": {"type": "null"}}  # (its shape is the main schema's)

SCHEMA: dict[str, Any] = {
    "title": "Sentry integration platform webhook (issue alert, metric alert, issue)",
    "type": "object",
    "description": "data.event (action triggered) fires, keyed by its issue_id; data.issue: "
    "created/unresolved fire, resolved/ignored/archived resolve, assigned acknowledges; "
    "data.metric_alert: critical/warning fire, resolved resolves. Signed with "
    "Sentry-Hook-Signature (HMAC-SHA256 of the body, the client secret).",
    "required": ["action", "data"],
    "properties": {
        "action": STR,
        "installation": ANY,
        "actor": ANY,
        "data": {
            "type": "object",
            "properties": {
                "triggered_rule": STR,
                "description_text": STR,
                "description_title": STR,
                "web_url": STR,
                "event": {
                    "type": "object",
                    "required": ["issue_id", "title"],
                    "properties": {
                        "issue_id": _ANY_ID,
                        "title": _TITLE,
                        "level": STR,
                        "message": STR,
                        "culprit": STR,
                        "environment": STR,
                        "release": STR,
                        "platform": STR,
                        "web_url": STR,
                        "datetime": {"type": "string", "format": "date-time"},
                        "exception": {"type": "object"},
                        "tags": {
                            "type": "array",
                            "items": {"type": "array", "items": STR, "minItems": 2, "maxItems": 2},
                        },
                    },
                },
                "issue": {
                    "type": "object",
                    "required": ["id", "title"],
                    "properties": {
                        "id": _ANY_ID,
                        "title": _TITLE,
                        "shortId": STR,
                        "culprit": STR,
                        "level": STR,
                        "web_url": STR,
                        "permalink": STR,
                        "firstSeen": {"type": "string", "format": "date-time"},
                        "project": {"type": "object", "properties": {"slug": STR}},
                    },
                },
                "metric_alert": {
                    "type": "object",
                    "required": ["id", "title"],
                    "properties": {
                        "id": _ANY_ID,
                        "title": _TITLE,
                        "date_started": {"type": "string", "format": "date-time"},
                        "date_closed": {"type": "string", "format": "date-time"},
                        "alert_rule": {
                            "type": "object",
                            "properties": {
                                "id": _ANY_ID,
                                "name": STR,
                                "aggregate": STR,
                                "query": STR,
                                "dataset": STR,
                                "environment": STR,
                                "projects": {"type": "array", "items": STR},
                                "triggers": {"type": "array", "items": {"type": "object"}},
                            },
                        },
                    },
                },
            },
        },
    },
}


SCHEMA["anyOf"] = [  # the action each resource sends (the parser reads them in this order)
    {
        "required": ["data"],
        "properties": {
            "action": {"enum": list(METRIC_ACTIONS)},
            "data": {
                "required": ["metric_alert"],
                "properties": {"metric_alert": _GIVEN},
            },
        },
    },
    {
        "required": ["data"],
        "properties": {
            "action": {"const": "triggered"},
            "data": {
                "required": ["event"],
                "properties": {"event": _GIVEN, "metric_alert": _ABSENT},
            },
        },
    },
    {
        "required": ["data"],
        "properties": {
            "action": {"enum": list(ISSUE_ACTIONS)},
            "data": {
                "required": ["issue"],
                "properties": {
                    "issue": _GIVEN,
                    "metric_alert": _ABSENT,
                    "event": _ABSENT,
                },
            },
        },
    },
]


def _send_test(now: datetime, run: str) -> dict[str, Any]:
    issue_id = str(int(hashlib.sha256(run.encode()).hexdigest()[:12], 16))
    return {
        "action": "triggered",
        "installation": {"uuid": "00000000-0000-4000-8000-000000000000"},
        "data": {
            "event": {
                "issue_id": issue_id,
                "title": "Test alert from `tocsin send-test` (Sentry format)",
                "message": "Safe to resolve: it only checks the path to Slack.",
                "level": "warning",
                "datetime": now.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
                "tags": [["source", "send-test"]],
            },
            "triggered_rule": "send-test",
        },
        "actor": {"type": "application", "id": "sentry", "name": "Sentry"},
    }


SOURCE = Source(
    name=NAME,
    title="Sentry integration platform webhooks (issue alerts, metric alerts, issues)",
    parse=parse_sentry,
    schema=SCHEMA,
    examples=(
        Example(
            name="sentry-issue-alert",
            summary="sentry: an issue alert rule triggers",
            body={
                "action": "triggered",
                "data": {
                    "event": {
                        "issue_id": "1117540176",
                        "title": "TypeError: Cannot read properties of undefined (reading 'id')",
                        "level": "error",
                        "web_url": "https://sentry.io/organizations/example/issues/1117540176/",
                    },
                    "triggered_rule": "Checkout errors",
                },
            },
        ),
        Example(
            name="sentry-metric-alert",
            summary="sentry: a metric alert goes critical",
            body={
                "action": "critical",
                "data": {
                    "metric_alert": {"id": "53", "title": "Too many errors"},
                    "description_text": "1000 events in the last 10 minutes",
                },
            },
        ),
    ),
    send_test=_send_test,
    docs_url="https://docs.sentry.io/organization/integrations/integration-platform/webhooks/",
    auth="the token in the URL (`?token=`); with `hmac_secret` (the client secret), a valid "
    "`Sentry-Hook-Signature` is required too",
    maps=(
        "issue alert fires, issue resolved/ignored resolves, assigned acknowledges; "
        "issue or incident id → fingerprint; `level` or critical/warning → severity; web URL"
    ),
)
