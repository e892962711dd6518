"""Datadog's Webhooks integration, with the payload Tocsin documents for it.

Datadog posts whatever JSON its user writes in the webhook's *Payload*, with ``$VARIABLES``
filled in (its default payload carries no transition, so it cannot tell a recovery from a
trigger). Tocsin reads this one, pasted as the webhook's custom payload; every value is a
string, as Datadog fills them::

    {"id": "$ID", "alert_id": "$ALERT_ID", "aggreg_key": "$AGGREG_KEY",
     "title": "$EVENT_TITLE", "body": "$TEXT_ONLY_MSG",
     "alert_transition": "$ALERT_TRANSITION", "alert_type": "$ALERT_TYPE",
     "alert_priority": "$ALERT_PRIORITY", "alert_scope": "$ALERT_SCOPE",
     "hostname": "$HOSTNAME", "link": "$LINK", "tags": "$TAGS", "date": "$DATE",
     "org": {"id": "$ORG_ID", "name": "$ORG_NAME"}}

``alert_transition`` ``Recovered`` resolves; ``Triggered``, ``Re-Triggered``, ``Warn``,
``Re-Warn``, ``No Data``, ``Re-No Data`` and ``Renotify`` fire (the transition is kept as a
label, so grading may tell a warning from an alert). ``aggreg_key`` — the same for a
monitor's group from trigger to recovery — is the fingerprint (else ``alert_id`` and
``alert_scope``). ``alert_priority`` (``P1`` … ``P5``) is the severity, else ``alert_type``
(``error``, ``warning``, ``info``, ``success``). ``$TAGS`` (``key:value`` pairs separated by
commas) become labels. Datadog sends the integration's token as a custom header:
``{"Authorization": "Bearer <token>"}``.
See https://docs.datadoghq.com/integrations/webhooks/
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from escalation.errors import MissingFieldsError, PayloadError
from escalation.model import AlertEvent, Link, SourceStatus
from escalation.sources._fingerprint import keyed_fingerprint
from escalation.sources._source import NON_BLANK, STR, Example, Source
from escalation.sources._validate import (
    MAX_LABEL_CHARS,
    MAX_LABELS,
    expect_object,
    expect_str,
    is_http_url,
    show,
)

NAME = "datadog"
MAX_TITLE_CHARS = 1000
FIRING_TRANSITIONS = (
    "Triggered",
    "Re-Triggered",
    "Warn",
    "Re-Warn",
    "No Data",
    "Re-No Data",
    "Renotify",
)
RESOLVING_TRANSITIONS = ("Recovered",)
_TRANSITIONS: Mapping[str, SourceStatus] = {
    **{word: SourceStatus.FIRING for word in FIRING_TRANSITIONS},
    **{word: SourceStatus.RESOLVED for word in RESOLVING_TRANSITIONS},
}
_UNFILLED = re.compile(r"\$[A-Z0-9_]+", re.ASCII)
"""A variable Datadog left as written (a typo, or one it has no value for here)."""
_LABELS = (
    ("alert_id", "alert_id"),
    ("alert_scope", "scope"),
    ("hostname", "host"),
    ("alert_transition", "transition"),
    ("alert_type", "alert_type"),
    ("alert_priority", "priority"),
)
_TEXT_FIELDS = (
    "id",
    "alert_id",
    "aggreg_key",
    "title",
    "body",
    "alert_transition",
    "alert_type",
    "alert_priority",
    "alert_scope",
    "alert_status",
    "alert_metric",
    "hostname",
    "link",
    "tags",
    "date",
    "last_updated",
    "event_type",
)


def parse_datadog(payload: object) -> list[AlertEvent]:
    """The one event in a Datadog webhook body (the value ``json.loads`` returned).

    Raises :class:`PayloadError` naming the offending field.
    """
    body = expect_object(payload, field="")
    for name in _TEXT_FIELDS:
        _text(body, name)  # every variable Tocsin reads is a string, or absent
    transition = _text(body, "alert_transition")
    title = _text(body, "title")
    key = _text(body, "aggreg_key") or _text(body, "alert_id")
    if title is None or transition is None or key is None:
        found = (("title", title), ("alert_transition", transition), ("aggreg_key", key))
        raise MissingFieldsError(tuple(name for name, value in found if value is None))
    status = _TRANSITIONS.get(transition)
    if status is None:
        words = ", ".join((*FIRING_TRANSITIONS, *RESOLVING_TRANSITIONS))
        raise PayloadError(
            "alert_transition",
            f"must be one of {words} ($ALERT_TRANSITION), got {show(transition)}",
        )
    if len(title) > MAX_TITLE_CHARS:
        raise PayloadError(
            "title", f"is {len(title)} characters long; at most {MAX_TITLE_CHARS} are accepted"
        )
    scope = _text(body, "alert_scope")
    if _text(body, "aggreg_key") is None and scope:
        key = f"{key}:{scope}"
    labels = {
        name: text[:MAX_LABEL_CHARS] for field, name in _LABELS if (text := _text(body, field))
    }
    for name, value in _tags(_text(body, "tags") or ""):
        if len(labels) >= MAX_LABELS:
            break
        labels.setdefault(name, value)
    at = _epoch_ms(_text(body, "date"))
    firing = status is SourceStatus.FIRING
    return [
        AlertEvent(
            fingerprint=keyed_fingerprint(NAME, key),
            status=status,
            title=title,
            source=NAME,
            description=_text(body, "body") or "",
            severity=_text(body, "alert_priority") or _text(body, "alert_type"),
            labels=labels,
            links=_links(body),
            starts_at=at if firing else None,
            ends_at=None if firing else at,
            details={
                name: detail
                for name in ("id", "alert_status", "alert_metric", "event_type", "last_updated")
                if (detail := _text(body, name))
            }
            | _org(body),
        )
    ]


def _text(body: Mapping[str, object], key: str) -> str | None:
    """A variable's text, stripped; ``None`` when absent, blank or left unfilled (``$NAME``)."""
    raw = body.get(key)
    if raw is None:
        return None
    text = expect_str(raw, field=key)
    if _UNFILLED.fullmatch(text):
        return None
    return text.strip() or None


def _tags(text: str) -> list[tuple[str, str]]:
    """``$TAGS``: ``key:value`` pairs (or bare tags) separated by commas."""
    pairs = []
    for part in text.split(","):
        name, _, value = part.partition(":")
        if name.strip():
            pairs.append((name.strip()[:MAX_LABEL_CHARS], value.strip()[:MAX_LABEL_CHARS]))
    return pairs


def _epoch_ms(text: str | None) -> datetime | None:
    """``$DATE``: milliseconds since the epoch; informational, so an odd one is left out."""
    if text is None or not text.isascii() or not text.isdigit() or len(text) > 15:
        return None
    return datetime.fromtimestamp(int(text) / 1000, tz=UTC)


def _links(body: Mapping[str, object]) -> tuple[Link, ...]:
    url = _text(body, "link")
    return (Link("Event", url),) if url and is_http_url(url) else ()


def _org(body: Mapping[str, object]) -> dict[str, object]:
    raw = body.get("org")
    if raw is None:
        return {}
    org = expect_object(raw, field="org")
    return {"org": {k: v for k, v in org.items() if isinstance(v, str)}}


_TEXT = {"type": "string", "pattern": NON_BLANK, "not": {"pattern": f"^{_UNFILLED.pattern}$"}}

SCHEMA: dict[str, Any] = {
    "title": "Datadog webhook (the payload Tocsin documents)",
    "type": "object",
    "description": "alert_transition Recovered resolves, Triggered/Warn/No Data/Re-…/Renotify "
    "fire; aggreg_key (else alert_id and alert_scope) is the fingerprint; alert_priority "
    "(P1-P5), else alert_type, the severity.",
    "required": ["title", "alert_transition"],
    "properties": {
        **{key: STR for key in _TEXT_FIELDS},
        "title": {**_TEXT, "maxLength": MAX_TITLE_CHARS},
        "alert_transition": {"enum": list(_TRANSITIONS)},
        "org": {"type": "object"},
    },
    "anyOf": [
        {"required": ["aggreg_key"], "properties": {"aggreg_key": _TEXT}},
        {"required": ["alert_id"], "properties": {"alert_id": _TEXT}},
    ],
}


def _send_test(now: datetime, run: str) -> dict[str, Any]:
    digits = hashlib.sha256(run.encode()).hexdigest()[:12]
    return {
        "id": str(int(digits, 16)),
        "alert_id": "0",
        "aggreg_key": f"send-test-{digits}",
        "title": "[Triggered] Test alert from `tocsin send-test` (Datadog format)",
        "body": "Safe to resolve: it only checks the path to Slack.",
        "alert_transition": "Triggered",
        "alert_type": "error",
        "alert_priority": "P3",
        "tags": "source:send-test",
        "date": str(int(now.timestamp() * 1000)),
    }


SOURCE = Source(
    name=NAME,
    title="Datadog Webhooks integration (the payload Tocsin documents)",
    parse=parse_datadog,
    schema=SCHEMA,
    examples=(
        Example(
            name="datadog-triggered",
            summary="datadog: a monitor triggers",
            body={
                "id": "7399382851234567890",
                "alert_id": "98765432",
                "aggreg_key": "6f1c2a9b8e7d",
                "title": "[P1] [Triggered on {host:db-1}] Disk almost full",
                "alert_transition": "Triggered",
                "alert_type": "error",
                "alert_priority": "P1",
                "hostname": "db-1",
                "tags": "env:prod,service:postgres",
                "link": "https://app.datadoghq.com/event/event?id=7399382851234567890",
            },
        ),
    ),
    send_test=_send_test,
    docs_url="https://docs.datadoghq.com/integrations/webhooks/",
    auth='Datadog sends the token as a custom header: `{"Authorization": "Bearer <token>"}`',
    maps=(
        "`alert_transition` (Recovered resolves); `aggreg_key` → fingerprint; "
        "`alert_priority` or `alert_type` → severity; `$TAGS` → labels; `link`"
    ),
)
