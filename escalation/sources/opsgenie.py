"""An Opsgenie-compatible intake: the Alert API's create request, and its close and
acknowledge, for tools that can only speak Opsgenie.

Point such a tool's Opsgenie API URL at Tocsin and give it the integration's token as its
API key (``Authorization: GenieKey <token>``): ``POST /v2/alerts`` takes the create body as
Opsgenie documents it — ``message`` (required), ``alias``, ``description``, ``priority``
(``P1`` … ``P5``, Opsgenie's default ``P3``), ``tags``, ``details``, ``entity``, ``source``,
``user``, ``note``; ``responders``, ``visibleTo`` and ``actions`` are taken and ignored
(Tocsin's routes decide who is paged). ``POST /v2/alerts/{alias}/close?identifierType=alias``
and ``.../acknowledge`` become ``{"action": "close" | "acknowledge", "alias": …, "user",
"source", "note"}``, the body this parser also reads (and which ``POST
/webhooks/<integration>`` takes as is). A create fires, a close resolves, an acknowledge
acknowledges at the source; the alias is the fingerprint (without one, a fingerprint is
derived from the message, entity and source, so a repeated create updates one alert rather
than opening another, as Opsgenie would). The priority is the severity; tags become labels
(``key:value`` tags split, others ``tag: true``), as do the details, the entity and the
source.
See https://docs.opsgenie.com/docs/alert-api
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from escalation.errors import PayloadError
from escalation.model import AlertEvent, SourceStatus
from escalation.sources._fingerprint import derive_fingerprint, keyed_fingerprint
from escalation.sources._source import ANY, NON_BLANK, STR, Example, Source
from escalation.sources._validate import (
    MAX_LABEL_CHARS,
    MAX_LABELS,
    expect_list,
    expect_object,
    expect_str,
    expect_str_map,
    item,
    optional_str,
    require,
    show,
)

NAME = "opsgenie"
MAX_MESSAGE_CHARS = 1000
MAX_ALIAS_CHARS = 512
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
DEFAULT_PRIORITY = "P3"
ACTIONS: Mapping[str, SourceStatus] = {
    "close": SourceStatus.RESOLVED,
    "acknowledge": SourceStatus.ACKNOWLEDGED,
}
_IGNORED = ("responders", "visibleTo", "actions")
_TEXTS = ("description", "entity", "source", "user", "note")


def parse_opsgenie(payload: object) -> list[AlertEvent]:
    """The one event in an Opsgenie create (or close/acknowledge) body.

    Raises :class:`PayloadError` naming the offending field.
    """
    body = expect_object(payload, field="")
    if body.get("action") is not None:
        return [_close_or_acknowledge(body)]
    message = expect_str(
        require(body, "message", path=""),
        field="message",
        max_chars=MAX_MESSAGE_CHARS,
        non_empty=True,
    ).strip()
    alias = _alias(body, required=False)
    texts = {key: (optional_str(body, key, path="") or "").strip() for key in _TEXTS}
    priority = optional_str(body, "priority", path="")
    if priority is not None and priority not in PRIORITIES:
        raise PayloadError(
            "priority", f"must be one of {', '.join(PRIORITIES)}, got {show(priority)}"
        )
    raw_details = body.get("details")
    details = {} if raw_details is None else expect_str_map(raw_details, field="details")
    labels = {key: texts[key][:MAX_LABEL_CHARS] for key in ("entity", "source") if texts[key]}
    for tag in _tags(body):
        name, colon, value = tag.partition(":")
        if name.strip() and len(labels) < MAX_LABELS:
            labels.setdefault(name.strip()[:MAX_LABEL_CHARS], value.strip() if colon else "true")
    for key, value in details.items():
        if key.strip() and len(labels) < MAX_LABELS:
            labels.setdefault(key.strip()[:MAX_LABEL_CHARS], value[:MAX_LABEL_CHARS])
    if alias is None:
        key_parts = {k: texts[k] for k in ("entity", "source") if texts[k]}
        fingerprint = f"{NAME}:{derive_fingerprint(title=message, labels=key_parts)}"
    else:
        fingerprint = keyed_fingerprint(NAME, alias)
    return [
        AlertEvent(
            fingerprint=fingerprint,
            status=SourceStatus.FIRING,
            title=message,
            source=NAME,
            description=texts["description"],
            severity=priority or DEFAULT_PRIORITY,
            labels=labels,
            details={"details": details} | {k: texts[k] for k in ("user", "note") if texts[k]},
        )
    ]


def _alias(body: Mapping[str, object], *, required: bool) -> str | None:
    raw = require(body, "alias", path="") if required else body.get("alias")
    if raw is None:
        return None
    return expect_str(raw, field="alias", max_chars=MAX_ALIAS_CHARS, non_empty=True).strip()


def _tags(body: Mapping[str, object]) -> list[str]:
    raw = body.get("tags")
    if raw is None:
        return []
    tags = expect_list(raw, field="tags", max_items=MAX_LABELS)
    return [expect_str(tag, field=item("tags", i)) for i, tag in enumerate(tags)]


def _close_or_acknowledge(body: Mapping[str, object]) -> AlertEvent:
    action = body["action"]
    status = ACTIONS.get(action) if isinstance(action, str) else None
    if status is None:
        raise PayloadError("action", f'must be "close" or "acknowledge", got {show(action)}')
    alias = _alias(body, required=True) or ""
    texts = {key: (optional_str(body, key, path="") or "").strip() for key in _TEXTS}
    return AlertEvent(
        fingerprint=keyed_fingerprint(NAME, alias),
        status=status,
        title=f"Opsgenie alert {alias}",
        source=NAME,
        details={k: texts[k] for k in ("user", "source", "note") if texts[k]},
    )


def action_body(action: str, alias: str, request: object) -> dict[str, Any]:
    """The body ``POST /v2/alerts/{alias}/close`` (or ``/acknowledge``) stands for: the
    action, the alias from the path, and the request's ``user``, ``source`` and ``note``
    (``request``: its decoded JSON body, ``None`` when it had none)."""
    given = {} if request is None else expect_object(request, field="")
    kept = {key: given[key] for key in ("user", "source", "note") if key in given}
    return {"action": action, "alias": alias, **kept}


_ALIAS = {"type": "string", "maxLength": MAX_ALIAS_CHARS, "pattern": NON_BLANK}

CLOSE_SCHEMA: dict[str, Any] = {
    "title": "Opsgenie close / acknowledge request (all optional)",
    "type": "object",
    "properties": {"user": STR, "source": STR, "note": STR},
}
"""The body of ``POST /v2/alerts/{alias}/close`` and ``.../acknowledge``."""

SCHEMA: dict[str, Any] = {
    "title": "Opsgenie Alert API: create (or Tocsin's close / acknowledge form)",
    "type": "object",
    "description": "A create (message, alias, priority P1-P5, tags, details, …) fires; "
    '{"action": "close" | "acknowledge", "alias": …} resolves or acknowledges. The alias is '
    "the fingerprint.",
    "properties": {
        "message": {"type": "string", "maxLength": MAX_MESSAGE_CHARS, "pattern": NON_BLANK},
        "alias": _ALIAS,
        "priority": {"enum": list(PRIORITIES)},
        "tags": {"type": "array", "maxItems": MAX_LABELS, "items": STR},
        "details": {
            "type": "object",
            "maxProperties": MAX_LABELS,
            "propertyNames": {"maxLength": MAX_LABEL_CHARS},
            "additionalProperties": {"type": "string", "maxLength": MAX_LABEL_CHARS},
        },
        **{key: STR for key in _TEXTS},
        **{key: ANY for key in _IGNORED},
        "action": {"enum": list(ACTIONS)},
    },
    "anyOf": [
        {
            "required": ["message"],
            "properties": {"message": {"type": "string"}, "action": {"type": "null"}},
        },
        {
            "required": ["action", "alias"],
            "properties": {"action": {"enum": list(ACTIONS)}, "alias": _ALIAS},
        },
    ],
}


def _send_test(now: datetime, run: str) -> dict[str, Any]:
    digits = hashlib.sha256(run.encode()).hexdigest()[:16]
    return {
        "message": "Test alert from `tocsin send-test` (Opsgenie format)",
        "alias": f"send-test-{digits}",
        "description": "Safe to resolve: it only checks the path to Slack.",
        "priority": "P4",
        "tags": ["send-test"],
        "source": "tocsin send-test",
    }


SOURCE = Source(
    name=NAME,
    title="Opsgenie Alert API (create, close, acknowledge) for tools that speak Opsgenie",
    parse=parse_opsgenie,
    schema=SCHEMA,
    examples=(
        Example(
            name="opsgenie-create",
            summary="opsgenie: create an alert",
            body={
                "message": "Checkout 5xx rate above 8%",
                "alias": "checkout-5xx",
                "priority": "P1",
                "tags": ["checkout", "env:prod"],
                "details": {"rate": "8.4%"},
            },
        ),
        Example(
            name="opsgenie-close",
            summary="opsgenie: close an alert (the form /v2/alerts/{alias}/close stores)",
            body={"action": "close", "alias": "checkout-5xx", "note": "fixed by rollback"},
        ),
    ),
    send_test=_send_test,
    docs_url="https://docs.opsgenie.com/docs/alert-api",
    auth="`Authorization: GenieKey <token>`; also at `POST /v2/alerts` and "
    "`/v2/alerts/{alias}/close|acknowledge?identifierType=alias`, where the key picks the "
    "integration",
    maps=(
        "create fires, close resolves, acknowledge acknowledges; `alias` → fingerprint; "
        "`priority` P1-P5 → severity; tags, details, entity → labels"
    ),
)
