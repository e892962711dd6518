"""New Relic alerts: a workflow's webhook notification with its default payload.

A workflow's *Webhook* destination posts its payload template, filled per issue; the default
one gives ``{"id": issueId, "issueUrl": issuePageUrl, "title": annotations.title[0],
"priority", "impactedEntities", "totalIncidents", "state", "trigger", "isCorrelated",
"createdAt", "updatedAt", "sources", "alertPolicyNames", "alertConditionNames",
"workflowName"}``. ``state`` ``CREATED`` and ``ACTIVATED`` fire, ``ACKNOWLEDGED``
acknowledges at the source, ``CLOSED`` resolves; the issue's id is the fingerprint (the
same through the issue's life). ``priority`` (``CRITICAL``, ``HIGH``, ``MEDIUM``, ``LOW``)
is the severity. Templates that name the variables themselves are read too: ``issueId`` for
``id``, ``issuePageUrl`` for ``issueUrl``, ``entitiesData.names`` for ``impactedEntities``,
and a ``labels`` object (``{{json accumulations.tag}}``: values strings or lists of them)
becomes labels. The token goes in the destination's *Authorization* (Bearer).
See https://docs.newrelic.com/docs/alerts/get-notified/notification-integrations/#webhook
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from escalation.errors import MissingFieldsError, PayloadError
from escalation.model import AlertEvent, Link, SourceStatus
from escalation.sources._source import ANY, NON_BLANK, STR, Example, Source
from escalation.sources._validate import (
    MAX_LABEL_CHARS,
    MAX_LABELS,
    child,
    expect_count,
    expect_list,
    expect_object,
    expect_str,
    is_http_url,
    item,
    optional_str,
    show,
)

NAME = "new_relic"
MAX_TITLE_CHARS = 1000
MAX_ID_CHARS = 200
STATES: Mapping[str, SourceStatus] = {
    "CREATED": SourceStatus.FIRING,
    "ACTIVATED": SourceStatus.FIRING,
    "ACKNOWLEDGED": SourceStatus.ACKNOWLEDGED,
    "CLOSED": SourceStatus.RESOLVED,
}
PRIORITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW")
_LISTS = (
    ("alertPolicyNames", "policy"),
    ("alertConditionNames", "condition"),
    ("sources", "sources"),
)


def parse_new_relic(payload: object) -> list[AlertEvent]:
    """The one issue in a New Relic workflow webhook body (the value ``json.loads`` returned).

    Raises :class:`PayloadError` naming the offending field.
    """
    body = expect_object(payload, field="")
    id_key = "id" if body.get("id") is not None else "issueId"
    missing = [
        name
        for name, present in (
            ("id", body.get(id_key) is not None),
            ("title", body.get("title") is not None),
            ("state", body.get("state") is not None),
        )
        if not present
    ]
    if missing:
        raise MissingFieldsError(tuple(missing))
    issue_id = expect_str(body[id_key], field=id_key, max_chars=MAX_ID_CHARS, non_empty=True)
    issue_id = issue_id.strip()
    title = expect_str(body["title"], field="title", max_chars=MAX_TITLE_CHARS, non_empty=True)
    status = STATES.get(expect_str(body["state"], field="state"))
    if status is None:
        raise PayloadError(
            "state", f"must be one of {', '.join(STATES)}, got {show(body['state'])}"
        )
    priority = optional_str(body, "priority", path="")
    if priority is not None and priority not in PRIORITIES:
        raise PayloadError(
            "priority", f"must be one of {', '.join(PRIORITIES)}, got {show(priority)}"
        )
    labels = {"issue_id": issue_id[:MAX_LABEL_CHARS]}
    for key, name in _LISTS:
        names = _names(body, key, path="")
        if names:
            labels[name] = ", ".join(names)[:MAX_LABEL_CHARS]
    entities = _entities(body)
    if entities:
        labels["entities"] = ", ".join(entities)[:MAX_LABEL_CHARS]
    for key in ("workflowName", "trigger"):
        text = optional_str(body, key, path="")
        if text and text.strip():
            labels[key] = text.strip()[:MAX_LABEL_CHARS]
    _add_labels(labels, body)
    incidents = None if body.get("totalIncidents") is None else _count(body, "totalIncidents")
    firing = status is SourceStatus.FIRING
    return [
        AlertEvent(
            fingerprint=f"{NAME}:{issue_id}",
            status=status,
            title=title.strip(),
            source=NAME,
            description=_description(entities, incidents),
            severity=priority,
            labels=labels,
            links=_links(body),
            starts_at=_epoch_ms(body, "createdAt") if firing else None,
            ends_at=_epoch_ms(body, "updatedAt") if status is SourceStatus.RESOLVED else None,
            details={
                key: body[key]
                for key in ("state", "totalIncidents", "isCorrelated", "createdAt", "updatedAt")
                if body.get(key) is not None
            },
        )
    ]


def _count(body: Mapping[str, object], key: str) -> int:
    raw = body[key]
    if isinstance(raw, str) and raw.strip().isdigit() and raw.isascii():
        return int(raw)
    return expect_count(raw, field=key)


def _names(obj: Mapping[str, object], key: str, *, path: str) -> list[str]:
    """A list of names (New Relic's ``{{json ...}}`` of an accumulation), blanks dropped."""
    raw = obj.get(key)
    if raw is None:
        return []
    field = child(path, key)
    values = expect_list(raw, field=field, max_items=MAX_LABELS)
    names = [expect_str(v, field=item(field, i)).strip() for i, v in enumerate(values)]
    return list(dict.fromkeys(n for n in names if n))


def _entities(body: Mapping[str, object]) -> list[str]:
    if body.get("impactedEntities") is not None:
        return _names(body, "impactedEntities", path="")
    raw = body.get("entitiesData")
    if raw is None:
        return []
    return _names(expect_object(raw, field="entitiesData"), "names", path="entitiesData")


def _add_labels(labels: dict[str, str], body: Mapping[str, object]) -> None:
    raw = body.get("labels")
    if raw is None:
        return
    for key, value in expect_object(raw, field="labels").items():
        if len(labels) >= MAX_LABELS:
            return
        if isinstance(value, list):
            text = ", ".join(_names({key: value}, key, path="labels"))
        else:
            text = expect_str(value, field=child("labels", key)).strip()
        if key.strip():
            labels.setdefault(key.strip()[:MAX_LABEL_CHARS], text[:MAX_LABEL_CHARS])


def _description(entities: list[str], incidents: int | None) -> str:
    parts = []
    if entities:
        parts.append(f"Impacted: {', '.join(entities)}")
    if incidents is not None:
        parts.append(f"{incidents} incident{'s' if incidents != 1 else ''}")
    return " · ".join(parts)


def _epoch_ms(body: Mapping[str, object], key: str) -> datetime | None:
    """``createdAt`` / ``updatedAt``: milliseconds since the epoch; informational, so an odd
    one is left out (kept in the details)."""
    raw = body.get(key)
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 < raw < 10**14:
        return None
    return datetime.fromtimestamp(raw / 1000, tz=UTC)


def _links(body: Mapping[str, object]) -> tuple[Link, ...]:
    for key in ("issueUrl", "issuePageUrl"):
        url = optional_str(body, key, path="")
        if url and is_http_url(url):
            return (Link("Issue", url.strip()),)
    return ()


_NAMES = {"type": "array", "maxItems": MAX_LABELS, "items": STR}
_TEXT_ID = {"type": "string", "maxLength": MAX_ID_CHARS, "pattern": NON_BLANK}

SCHEMA: dict[str, Any] = {
    "title": "New Relic workflow webhook (the default payload)",
    "type": "object",
    "description": "state CREATED/ACTIVATED fires, ACKNOWLEDGED acknowledges, CLOSED "
    "resolves; the issue id is the fingerprint; priority (CRITICAL, HIGH, MEDIUM, LOW) the "
    "severity.",
    "required": ["title", "state"],
    "properties": {
        "id": _TEXT_ID,
        "issueId": _TEXT_ID,
        "issueUrl": STR,
        "issuePageUrl": STR,
        "title": {"type": "string", "maxLength": MAX_TITLE_CHARS, "pattern": NON_BLANK},
        "priority": {"enum": list(PRIORITIES)},
        "state": {"enum": list(STATES)},
        "impactedEntities": _NAMES,
        "entitiesData": {"type": "object", "properties": {"names": _NAMES}},
        "totalIncidents": {
            "anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": "^[0-9]+$"}]
        },
        "trigger": STR,
        "workflowName": STR,
        "isCorrelated": ANY,
        "createdAt": ANY,
        "updatedAt": ANY,
        "sources": _NAMES,
        "alertPolicyNames": _NAMES,
        "alertConditionNames": _NAMES,
        "labels": {
            "type": "object",
            "additionalProperties": {"anyOf": [STR, _NAMES]},
        },
    },
    "anyOf": [
        {"required": ["id"], "properties": {"id": {"type": "string"}}},
        {"required": ["issueId"], "properties": {"issueId": {"type": "string"}}},
    ],
}


def _send_test(now: datetime, run: str) -> dict[str, Any]:
    digits = hashlib.sha256(run.encode()).hexdigest()
    return {
        "id": f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-8{digits[17:20]}-{digits[20:32]}",
        "title": "Test alert from `tocsin send-test` (New Relic format)",
        "priority": "MEDIUM",
        "state": "ACTIVATED",
        "totalIncidents": 1,
        "trigger": "STATE_CHANGE",
        "createdAt": int(now.timestamp() * 1000),
        "updatedAt": int(now.timestamp() * 1000),
        "alertPolicyNames": ["send-test"],
    }


SOURCE = Source(
    name=NAME,
    title="New Relic workflow webhook (default payload)",
    parse=parse_new_relic,
    schema=SCHEMA,
    examples=(
        Example(
            name="new-relic-activated",
            summary="new_relic: an issue is activated",
            body={
                "id": "0ea2df1c-adab-45d2-aae0-042b609d2322",
                "issueUrl": "https://radar-api.service.newrelic.com/accounts/1/issues/"
                "0ea2df1c-adab-45d2-aae0-042b609d2322",
                "title": "Memory Used % > 90 for at least 2 minutes on 'checkout'",
                "priority": "CRITICAL",
                "state": "ACTIVATED",
                "totalIncidents": 1,
                "alertPolicyNames": ["Checkout"],
            },
        ),
    ),
    send_test=_send_test,
    docs_url="https://docs.newrelic.com/docs/alerts/get-notified/notification-integrations/#webhook",
    maps=(
        "`state` (CLOSED resolves, ACKNOWLEDGED acknowledges); issue `id` → fingerprint; "
        "`priority` → severity; entities, policies → labels; `issueUrl`"
    ),
)
