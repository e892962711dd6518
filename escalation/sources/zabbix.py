"""Zabbix's "Webhook" media type, posting its parameters as they are.

Zabbix has no fixed webhook body: a webhook media type runs a script over its parameters.
Tocsin reads the shape Zabbix's own shipped media types use — a flat object of parameters
named after their macros, posted as they are (templates/media/ilert/media_ilert.yaml: its
script posts ``JSON.stringify(params)``): ``{"EVENT.ID": "{EVENT.ID}", "EVENT.VALUE":
"{EVENT.VALUE}", ...}``, for problem and recovery alike. ``EVENT.VALUE`` ``1`` (problem)
fires, ``0`` (recovery) resolves; ``EVENT.ID`` — the problem's id, which its recovery
repeats — is the fingerprint. ``EVENT.SEVERITY`` (Not classified, Information, Warning,
Average, High, Disaster) is the severity; ``EVENT.TAGS`` become labels. A macro Zabbix
left unexpanded (``{EVENT.RECOVERY.DATE}`` in a problem) counts as absent. See
https://www.zabbix.com/documentation/current/en/manual/config/notifications/media/webhook
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from escalation.errors import PayloadError
from escalation.model import AlertEvent, Link, SourceStatus
from escalation.sources._source import STR, Example, Source
from escalation.sources._validate import (
    MAX_LABEL_CHARS,
    MAX_LABELS,
    expect_object,
    expect_str,
    is_http_url,
    raise_missing,
    show,
)

NAME = "zabbix"
MAX_TITLE_CHARS = 1000
_VALUES = {"1": SourceStatus.FIRING, "0": SourceStatus.RESOLVED}
_UNEXPANDED = re.compile(r"\{[^{}]*\}|\*UNKNOWN\*")
_NUMBER = "^[0-9]+$"
_TITLES = ("EVENT.NAME", "TRIGGER.NAME", "ALERT.SUBJECT")
_LABELS = (
    ("host", "HOST.HOST"),
    ("host_name", "HOST.NAME"),
    ("host_ip", "HOST.IP"),
    ("trigger_id", "TRIGGER.ID"),
    ("nseverity", "EVENT.NSEVERITY"),
)
_TEXT_FIELDS = (
    *_TITLES,
    "EVENT.SEVERITY",
    "EVENT.TAGS",
    "EVENT.OPDATA",
    "TRIGGER.DESCRIPTION",
    "TRIGGER.URL",
    "ALERT.MESSAGE",
    "ZABBIX.URL",
    *(key for _, key in _LABELS),
)


def parse_zabbix(payload: object) -> list[AlertEvent]:
    """The one event in a Zabbix webhook body (the value ``json.loads`` returned).

    Raises :class:`PayloadError` naming the offending parameter.
    """
    body = expect_object(payload, field="")
    raise_missing([key for key in ("EVENT.ID", "EVENT.VALUE") if _text(body, key) is None])
    event_id = _text(body, "EVENT.ID") or ""
    if not event_id.isascii() or not event_id.isdigit():
        raise PayloadError("EVENT.ID", f"must be the event's number, got {show(event_id)}")
    value = _text(body, "EVENT.VALUE")
    status = _VALUES.get(value or "")
    if status is None:
        raise PayloadError(
            "EVENT.VALUE", f'must be "1" (problem) or "0" (recovery), got {show(value)}'
        )
    for key in _TEXT_FIELDS:
        _text(body, key)  # every parameter Tocsin reads is a string, or absent
    title = next((text for key in _TITLES if (text := _text(body, key))), None)
    labels = {name: text for name, key in _LABELS if (text := _text(body, key))}
    labels["event_id"] = event_id
    for name, tag_value in _tags(_text(body, "EVENT.TAGS") or ""):
        if len(labels) >= MAX_LABELS:
            break
        labels.setdefault(name, tag_value)
    description = "\n\n".join(
        text for key in ("TRIGGER.DESCRIPTION", "EVENT.OPDATA") if (text := _text(body, key))
    )
    return [
        AlertEvent(
            fingerprint=f"{NAME}:{event_id}",
            status=status,
            title=(title or f"Zabbix event {event_id}")[:MAX_TITLE_CHARS],
            source=NAME,
            description=description or (_text(body, "ALERT.MESSAGE") or ""),
            severity=_text(body, "EVENT.SEVERITY"),
            labels={key: text[:MAX_LABEL_CHARS] for key, text in labels.items()},
            links=_links(body, event_id),
            details={
                key: raw
                for key, raw in body.items()
                if key.startswith(("EVENT.", "ALERT."))
                and isinstance(raw, str)
                and _text(body, key)
            },
        )
    ]


def _text(body: Mapping[str, object], key: str) -> str | None:
    """A parameter's text, stripped; ``None`` when absent, blank or a macro left unexpanded."""
    raw = body.get(key)
    if raw is None:
        return None
    text = expect_str(raw, field=key).strip()
    if not text or _UNEXPANDED.fullmatch(text):
        return None
    return text


def _tags(text: str) -> list[tuple[str, str]]:
    """``{EVENT.TAGS}``: ``name:value`` pairs separated by commas (a tag may have no value)."""
    pairs = []
    for part in text.split(","):
        name, _, value = part.partition(":")
        if name.strip():
            pairs.append((name.strip()[:MAX_LABEL_CHARS], value.strip()))
    return pairs


def _links(body: Mapping[str, object], event_id: str) -> tuple[Link, ...]:
    """The event in Zabbix (``ZABBIX.URL`` + ``tr_events.php``, as the shipped media types
    link it) and the trigger's URL."""
    links = []
    base = _text(body, "ZABBIX.URL")
    trigger = _text(body, "TRIGGER.ID")
    if base and trigger and trigger.isdigit() and is_http_url(base):
        query = f"triggerid={quote(trigger)}&eventid={quote(event_id)}"
        links.append(Link("Event", f"{base.rstrip('/')}/tr_events.php?{query}"))
    url = _text(body, "TRIGGER.URL")
    if url and is_http_url(url):
        links.append(Link("Trigger URL", url))
    return tuple(links)


SCHEMA: dict[str, Any] = {
    "title": "Zabbix webhook media type (its parameters, as Zabbix's shipped ones post them)",
    "type": "object",
    "description": 'Parameters named after their macros. "EVENT.VALUE" "1" (problem) fires, '
    '"0" (recovery) resolves; "EVENT.ID" is the fingerprint.',
    "required": ["EVENT.ID", "EVENT.VALUE"],
    "properties": {
        "EVENT.ID": {"type": "string", "pattern": _NUMBER},
        "EVENT.VALUE": {"type": "string", "pattern": "^[01]$"},
        **{key: STR for key in _TEXT_FIELDS},
    },
}


def _send_test(now: datetime, run: str) -> dict[str, Any]:
    return {
        "EVENT.ID": str(int(hashlib.sha256(run.encode()).hexdigest()[:12], 16)),
        "EVENT.VALUE": "1",
        "EVENT.NAME": "Test alert from `tocsin send-test` (Zabbix format)",
        "EVENT.SEVERITY": "Warning",
        "EVENT.NSEVERITY": "2",
        "EVENT.DATE": now.strftime("%Y.%m.%d"),
        "EVENT.TIME": now.strftime("%H:%M:%S"),
        "HOST.NAME": "send-test",
        "ALERT.MESSAGE": "Safe to resolve: it only checks the path to Slack.",
    }


SOURCE = Source(
    name=NAME,
    title="Zabbix webhook media type (parameters posted as they are)",
    parse=parse_zabbix,
    schema=SCHEMA,
    examples=(
        Example(
            name="zabbix-problem",
            summary="zabbix: a problem",
            body={
                "EVENT.ID": "4711",
                "EVENT.VALUE": "1",
                "EVENT.NAME": "High CPU utilization (over 90% for 5m)",
                "EVENT.SEVERITY": "High",
                "HOST.NAME": "db-1",
            },
        ),
    ),
    send_test=_send_test,
    docs_url="https://www.zabbix.com/documentation/current/en/manual/config/notifications/media/webhook",
    maps=(
        "`EVENT.VALUE` 1 problem / 0 recovery; `EVENT.ID` → fingerprint; "
        "`EVENT.SEVERITY` → severity; `EVENT.TAGS` → labels"
    ),
)
