"""Elastic (Kibana alerting) through a Webhook connector, with the body Tocsin documents.

Kibana's Webhook connector posts whatever body the rule's action writes, with mustache
variables filled in (JSON-escaped). Tocsin reads this one, pasted as the body of a rule's
actions — one for the rule's alerting action group and one for *Recovered*, both run
*For each alert* and *On status changes*::

    {"rule_id": "{{rule.id}}", "rule_name": "{{rule.name}}", "rule_url": "{{rule.url}}",
     "alert_id": "{{alert.id}}", "action_group": "{{alert.actionGroup}}",
     "action_group_name": "{{alert.actionGroupName}}", "reason": "{{context.reason}}",
     "tags": "{{rule.tags}}", "space_id": "{{rule.spaceId}}", "date": "{{date}}"}

``action_group`` ``recovered`` resolves, any other fires; the rule's id and the alert's id
(the host, the group, ``query matched``…) make the fingerprint. ``action_group`` (e.g.
``metrics.threshold.warning``) is the severity unless the body adds ``"severity"`` (a word of
your own per action). ``{{rule.tags}}`` (tags joined by commas) become labels, ``tag: true``
— or ``key: value`` for a ``key:value`` tag. The token goes in the connector's headers,
``Authorization: Bearer <token>``.
See https://www.elastic.co/guide/en/kibana/current/webhook-action-type.html and
https://www.elastic.co/guide/en/kibana/current/rule-action-variables.html
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from escalation.errors import MissingFieldsError, PayloadError
from escalation.model import AlertEvent, Link, SourceStatus
from escalation.sources._fingerprint import keyed_fingerprint
from escalation.sources._source import NON_BLANK, STR, TIME, Example, Source
from escalation.sources._validate import (
    MAX_LABEL_CHARS,
    MAX_LABELS,
    expect_object,
    expect_str,
    is_http_url,
    parse_rfc3339,
)

NAME = "elastic"
RECOVERED = "recovered"
MAX_TITLE_CHARS = 1000
MAX_ID_CHARS = 200
MAX_SEVERITY_CHARS = 100
_REQUIRED = ("rule_id", "alert_id", "action_group")
_TEXT_FIELDS = (
    *_REQUIRED,
    "rule_name",
    "rule_url",
    "action_group_name",
    "reason",
    "tags",
    "space_id",
    "date",
    "severity",
)


def parse_elastic(payload: object) -> list[AlertEvent]:
    """The one alert in an Elastic webhook body (the value ``json.loads`` returned).

    Raises :class:`PayloadError` naming the offending field.
    """
    body = expect_object(payload, field="")
    texts = {key: _text(body, key) for key in _TEXT_FIELDS}
    missing = tuple(key for key in _REQUIRED if texts[key] is None)
    if missing:
        raise MissingFieldsError(missing)
    rule_id, alert_id, group = (texts[key] or "" for key in _REQUIRED)
    for key, ident in (("rule_id", rule_id), ("alert_id", alert_id)):
        if len(ident) > MAX_ID_CHARS:
            raise PayloadError(
                key, f"is {len(ident)} characters long; at most {MAX_ID_CHARS} are accepted"
            )
    rule_name = texts["rule_name"]
    severity = texts["severity"]
    if severity is not None and len(severity) > MAX_SEVERITY_CHARS:
        raise PayloadError("severity", f"is longer than {MAX_SEVERITY_CHARS} characters")
    status = SourceStatus.RESOLVED if group.lower() == RECOVERED else SourceStatus.FIRING
    title = f"{rule_name or rule_id}: {alert_id}" if alert_id != rule_name else alert_id
    labels = {"rule_id": rule_id, "alert_id": alert_id[:MAX_LABEL_CHARS]}
    if rule_name:
        labels["rule"] = rule_name[:MAX_LABEL_CHARS]
    if texts["space_id"]:
        labels["space"] = (texts["space_id"] or "")[:MAX_LABEL_CHARS]
    for name, value in _tags(texts["tags"] or ""):
        if len(labels) >= MAX_LABELS:
            break
        labels.setdefault(name, value)
    at = _date(texts["date"])
    firing = status is SourceStatus.FIRING
    return [
        AlertEvent(
            fingerprint=keyed_fingerprint(NAME, f"{rule_id}:{alert_id}"),
            status=status,
            title=title[:MAX_TITLE_CHARS],
            source=NAME,
            description=texts["reason"] or "",
            severity=severity or (group if firing else None),
            labels=labels,
            links=_links(texts["rule_url"]),
            starts_at=at if firing else None,
            ends_at=None if firing else at,
            details={
                key: detail
                for key in ("action_group", "action_group_name", "date")
                if (detail := texts[key])
            },
        )
    ]


def _text(body: Mapping[str, object], key: str) -> str | None:
    """A value's text, stripped; ``None`` when absent, blank or a variable Kibana had no value
    for (it renders those as nothing)."""
    raw = body.get(key)
    if raw is None:
        return None
    text = expect_str(raw, field=key).strip()
    return text or None


def _tags(text: str) -> list[tuple[str, str]]:
    """``{{rule.tags}}``: the tags joined by commas; ``key:value`` tags split."""
    pairs = []
    for part in text.split(","):
        name, colon, value = part.partition(":")
        if name.strip():
            pairs.append(
                (
                    name.strip()[:MAX_LABEL_CHARS],
                    value.strip()[:MAX_LABEL_CHARS] if colon else "true",
                )
            )
    return pairs


def _date(text: str | None) -> datetime | None:
    """``{{date}}``: when the action ran (ISO 8601); informational, so an odd one is left out."""
    if text is None:
        return None
    try:
        return parse_rfc3339(text, field="date")
    except PayloadError:
        return None


def _links(url: str | None) -> tuple[Link, ...]:
    return (Link("Rule", url),) if url and is_http_url(url) else ()


_ID = {"type": "string", "maxLength": MAX_ID_CHARS, "pattern": NON_BLANK}

SCHEMA: dict[str, Any] = {
    "title": "Elastic / Kibana Webhook connector (the body Tocsin documents)",
    "type": "object",
    "description": 'action_group "recovered" resolves, any other fires; rule_id and '
    "alert_id make the fingerprint; severity (optional), else action_group, the severity.",
    "required": list(_REQUIRED),
    "properties": {
        **{key: STR for key in _TEXT_FIELDS},
        "rule_id": _ID,
        "alert_id": _ID,
        "action_group": {"type": "string", "pattern": NON_BLANK},
        "severity": {"type": "string", "maxLength": MAX_SEVERITY_CHARS},
        "date": {"anyOf": [TIME, {"type": "string"}]},
    },
}


def _send_test(now: datetime, run: str) -> dict[str, Any]:
    digits = hashlib.sha256(run.encode()).hexdigest()[:12]
    return {
        "rule_id": f"send-test-{digits}",
        "rule_name": "Test alert from `tocsin send-test` (Elastic format)",
        "alert_id": "send-test",
        "action_group": "threshold met",
        "action_group_name": "Threshold met",
        "reason": "Safe to resolve: it only checks the path to Slack.",
        "tags": "send-test",
        "date": now.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "severity": "minor",
    }


SOURCE = Source(
    name=NAME,
    title="Elastic / Kibana alerting Webhook connector (the body Tocsin documents)",
    parse=parse_elastic,
    schema=SCHEMA,
    examples=(
        Example(
            name="elastic-active",
            summary="elastic: a Kibana rule's alert is active",
            body={
                "rule_id": "0b1e7d30-3c5a-11ef-9d6e-0f5c2e0c9a11",
                "rule_name": "CPU usage above 90%",
                "alert_id": "web-1",
                "action_group": "metrics.threshold.fired",
                "action_group_name": "Alert",
                "reason": "system.cpu.total.norm.pct is 94.2% in the last 5 mins for web-1.",
                "tags": "prod,team:web",
            },
        ),
    ),
    send_test=_send_test,
    docs_url="https://www.elastic.co/guide/en/kibana/current/webhook-action-type.html",
    maps=(
        "`action_group` (recovered resolves); rule id + alert id → fingerprint; "
        "action group or `severity` → severity; rule tags → labels; `rule_url`"
    ),
)
