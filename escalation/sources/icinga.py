"""Icinga 2 (or Checkmk) notifications through a webhook, with the body Tocsin documents.

Icinga 2 has no webhook body of its own: a ``NotificationCommand`` runs a script (``curl``
or one of the community notification-webhook scripts) over the notification's runtime
macros. Tocsin reads this body, the same for host and service notifications (a host
notification leaves the service fields empty, as Icinga renders a macro it cannot resolve)::

    {"notification_type": "$notification.type$",
     "host_name": "$host.name$", "host_display_name": "$host.display_name$",
     "service_name": "$service.name$", "service_display_name": "$service.display_name$",
     "state": "<$service.state$ or $host.state$>",
     "output": "<$service.output$ or $host.output$>",
     "author": "$notification.author$", "comment": "$notification.comment$",
     "date": "$icinga.long_date_time$", "icinga_url": "https://icinga.example.com/icingaweb2"}

``notification_type`` ``PROBLEM`` fires, ``RECOVERY`` resolves, ``ACKNOWLEDGEMENT``
acknowledges at the source, ``CUSTOM`` fires or resolves by the state (flapping and downtime
notifications are refused: leave them out of the notification's ``types``). The host and
service names are the fingerprint; ``state`` (``CRITICAL``, ``WARNING``, ``UNKNOWN`` for a
service, ``DOWN``/``UNREACHABLE`` for a host; ``OK``/``UP`` when it recovers) is the
severity. Checkmk's notification scripts can post the same body from their ``NOTIFY_*``
variables. The token goes in ``Authorization: Bearer <token>``.
See https://icinga.com/docs/icinga-2/latest/doc/03-monitoring-basics/#notification-commands
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from escalation.errors import MissingFieldsError, PayloadError
from escalation.model import AlertEvent, Link, SourceStatus
from escalation.sources._fingerprint import keyed_fingerprint
from escalation.sources._source import NON_BLANK, STR, Example, Source
from escalation.sources._validate import (
    MAX_LABEL_CHARS,
    expect_object,
    expect_str,
    is_http_url,
    show,
)

NAME = "icinga"
MAX_NAME_CHARS = 255
TYPES: Mapping[str, SourceStatus | None] = {
    "PROBLEM": SourceStatus.FIRING,
    "RECOVERY": SourceStatus.RESOLVED,
    "ACKNOWLEDGEMENT": SourceStatus.ACKNOWLEDGED,
    "CUSTOM": None,  # by the state
}
PROBLEM_STATES = ("CRITICAL", "WARNING", "UNKNOWN", "DOWN", "UNREACHABLE")
OK_STATES = ("OK", "UP")
_TEXT_FIELDS = (
    "notification_type",
    "host_name",
    "host_display_name",
    "service_name",
    "service_display_name",
    "state",
    "output",
    "author",
    "comment",
    "date",
    "icinga_url",
)


def parse_icinga(payload: object) -> list[AlertEvent]:
    """The one notification in an Icinga webhook body (the value ``json.loads`` returned).

    Raises :class:`PayloadError` naming the offending field.
    """
    body = expect_object(payload, field="")
    texts = {key: _text(body, key) for key in _TEXT_FIELDS}
    kind, host, state = texts["notification_type"], texts["host_name"], texts["state"]
    if kind is None or host is None or state is None:
        found = (("notification_type", kind), ("host_name", host), ("state", state))
        raise MissingFieldsError(tuple(key for key, text in found if text is None))
    if kind not in TYPES:
        raise PayloadError(
            "notification_type",
            f"must be one of {', '.join(TYPES)}, got {show(kind)}; leave flapping and "
            "downtime notifications out of the notification's types",
        )
    if state not in (*PROBLEM_STATES, *OK_STATES):
        words = ", ".join((*PROBLEM_STATES, *OK_STATES))
        raise PayloadError("state", f"must be one of {words}, got {show(state)}")
    status = TYPES[kind] or (SourceStatus.RESOLVED if state in OK_STATES else SourceStatus.FIRING)
    service = texts["service_name"]
    for key, name in (("host_name", host), ("service_name", service)):
        if name is not None and len(name) > MAX_NAME_CHARS:
            raise PayloadError(key, f"is longer than {MAX_NAME_CHARS} characters")
    shown_host = texts["host_display_name"] or host
    shown_service = texts["service_display_name"] or service
    what = f"{shown_service} on {shown_host}" if shown_service else shown_host
    labels = {"host": host}
    if service:
        labels["service"] = service
    for key in ("host_display_name", "service_display_name"):
        if texts[key]:
            labels[key] = (texts[key] or "")[:MAX_LABEL_CHARS]
    labels["state"] = state
    return [
        AlertEvent(
            fingerprint=keyed_fingerprint(NAME, f"{host}!{service}" if service else host),
            status=status,
            title=f"{what} is {state}"[:1000],
            source=NAME,
            description=_description(kind, texts),
            severity=state if state not in OK_STATES else None,
            labels=labels,
            links=_links(texts["icinga_url"], host, service),
            details={
                key: text
                for key in ("notification_type", "author", "comment", "date")
                if (text := texts[key])
            },
        )
    ]


def _text(body: Mapping[str, object], key: str) -> str | None:
    """A macro's text, stripped; ``None`` when absent or empty (a macro Icinga could not
    resolve renders empty)."""
    raw = body.get(key)
    if raw is None:
        return None
    return expect_str(raw, field=key).strip() or None


def _description(kind: str, texts: Mapping[str, str | None]) -> str:
    output = texts["output"] or ""
    if kind not in ("ACKNOWLEDGEMENT", "CUSTOM") or not (texts["author"] or texts["comment"]):
        return output
    note = f"{kind.capitalize()} by {texts['author'] or 'someone'}: {texts['comment'] or ''}"
    return f"{note.rstrip(': ')}\n\n{output}".strip()


def _links(base: str | None, host: str, service: str | None) -> tuple[Link, ...]:
    """The host or service in Icinga DB Web, under ``icinga_url`` (Icinga Web's root)."""
    if not base or not is_http_url(base):
        return ()
    root = base.rstrip("/")
    if service:
        return (
            Link(
                "Service",
                f"{root}/icingadb/service?name={quote(service)}&host.name={quote(host)}",
            ),
        )
    return (Link("Host", f"{root}/icingadb/host?name={quote(host)}"),)


SCHEMA: dict[str, Any] = {
    "title": "Icinga 2 / Checkmk notification webhook (the body Tocsin documents)",
    "type": "object",
    "description": "notification_type PROBLEM fires, RECOVERY resolves, ACKNOWLEDGEMENT "
    "acknowledges, CUSTOM goes by the state; host_name and service_name are the "
    "fingerprint; state the severity.",
    "required": ["notification_type", "host_name", "state"],
    "properties": {
        **{key: STR for key in _TEXT_FIELDS},
        "notification_type": {"enum": list(TYPES)},
        "host_name": {"type": "string", "maxLength": MAX_NAME_CHARS, "pattern": NON_BLANK},
        "service_name": {"type": "string", "maxLength": MAX_NAME_CHARS},
        "state": {"enum": [*PROBLEM_STATES, *OK_STATES]},
    },
}


def _send_test(now: datetime, run: str) -> dict[str, Any]:
    digits = hashlib.sha256(run.encode()).hexdigest()[:12]
    return {
        "notification_type": "PROBLEM",
        "host_name": f"send-test-{digits}",
        "service_name": "tocsin-send-test",
        "service_display_name": "Test alert from `tocsin send-test` (Icinga format)",
        "state": "WARNING",
        "output": "Safe to resolve: it only checks the path to Slack.",
        "date": now.strftime("%Y-%m-%d %H:%M:%S +0000"),
    }


SOURCE = Source(
    name=NAME,
    title="Icinga 2 / Checkmk notification webhook (the body Tocsin documents)",
    parse=parse_icinga,
    schema=SCHEMA,
    examples=(
        Example(
            name="icinga-service-problem",
            summary="icinga: a service problem",
            body={
                "notification_type": "PROBLEM",
                "host_name": "db-1",
                "service_name": "disk",
                "state": "CRITICAL",
                "output": "DISK CRITICAL - free space: / 1204 MiB (3% inode=91%)",
            },
        ),
    ),
    send_test=_send_test,
    docs_url="https://icinga.com/docs/icinga-2/latest/doc/03-monitoring-basics/#notification-commands",
    maps=(
        "`notification_type` PROBLEM/RECOVERY/ACKNOWLEDGEMENT; host + service → fingerprint; "
        "`state` → severity; `icinga_url` link"
    ),
)
