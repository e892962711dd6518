"""Uptime Kuma's "Webhook" notification (body type JSON): ``{"heartbeat", "monitor", "msg"}``.

Uptime Kuma posts the monitor's heartbeat when it flips: ``heartbeat.status`` 0 is down
(fire), 1 is up (resolve); the monitor's id is the fingerprint, so the "up" resolves the
"down". Notifications about no heartbeat — the test button, a certificate about to expire —
carry only ``msg`` (``heartbeat`` and ``monitor`` are null): each becomes a firing alert
titled with the message. Uptime Kuma has no severity of its own; a monitor tag named
``severity`` gives one (all tags become labels). See
https://github.com/louislam/uptime-kuma/blob/master/server/notification-providers/webhook.js
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from escalation.errors import PayloadError
from escalation.model import AlertEvent, Link, SourceStatus
from escalation.sources._fingerprint import derive_fingerprint
from escalation.sources._source import ANY, NON_BLANK, STR, Example, Source
from escalation.sources._validate import (
    MAX_LABEL_CHARS,
    MAX_LABELS,
    absent,
    child,
    expect_count,
    expect_list,
    expect_object,
    expect_str,
    is_http_url,
    item,
    optional_str,
    parse_rfc3339,
    raise_missing,
    require,
    show,
)

NAME = "uptime_kuma"
DOWN, UP = 0, 1
MAX_TITLE_CHARS = 1000
_STATUSES = {DOWN: SourceStatus.FIRING, UP: SourceStatus.RESOLVED}
_MONITOR_LABELS = ("type", "hostname", "pathName")


def parse_uptime_kuma(payload: object) -> list[AlertEvent]:
    """The one event in an Uptime Kuma webhook body (the value ``json.loads`` returned).

    Raises :class:`PayloadError` naming the offending field.
    """
    body = expect_object(payload, field="")
    msg = optional_str(body, "msg", path="") or ""
    if body.get("heartbeat") is None:
        return [_message_only(body, msg)]
    heartbeat = expect_object(body["heartbeat"], field="heartbeat")
    monitor = expect_object(require(body, "monitor", path=""), field="monitor")
    raise_missing(
        absent(heartbeat, ("status",), path="heartbeat")
        + absent(monitor, ("id", "name"), path="monitor")
    )
    monitor_id = expect_count(require(monitor, "id", path="monitor"), field="monitor.id")
    status = _status(require(heartbeat, "status", path="heartbeat"))
    name = expect_str(
        require(monitor, "name", path="monitor"),
        field="monitor.name",
        max_chars=MAX_TITLE_CHARS,
        non_empty=True,
    ).strip()
    labels = _labels(monitor, monitor_id=monitor_id, name=name)
    beat_msg = (optional_str(heartbeat, "msg", path="heartbeat") or "").strip()
    at = _time(heartbeat)
    firing = status is SourceStatus.FIRING
    return [
        AlertEvent(
            fingerprint=f"{NAME}:{monitor_id}",
            status=status,
            title=f"{name} is {'down' if firing else 'up'}",
            source=NAME,
            description=beat_msg or msg.strip(),
            severity=labels.get("severity") or None,
            labels=labels,
            links=_links(monitor),
            starts_at=at if firing else None,
            ends_at=None if firing else at,
            details={
                "msg": msg,
                **{key: heartbeat[key] for key in ("time", "ping", "duration") if key in heartbeat},
            },
        )
    ]


def _message_only(body: Mapping[str, object], msg: str) -> AlertEvent:
    """A notification about no heartbeat (the test button, a certificate expiry warning)."""
    if body.get("monitor") is not None:
        raise PayloadError("heartbeat", "is required when a monitor is given")
    title = expect_str(
        require(body, "msg", path=""), field="msg", max_chars=MAX_TITLE_CHARS, non_empty=True
    ).strip()
    return AlertEvent(
        fingerprint=derive_fingerprint(title=f"{NAME}:{title}", labels={}),
        status=SourceStatus.FIRING,
        title=title,
        source=NAME,
    )


def _status(value: object) -> SourceStatus:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON Schema counts 1.0 as the integer 1
    status = _STATUSES.get(value) if type(value) is int else None
    if status is None:
        raise PayloadError("heartbeat.status", f"must be 0 (down) or 1 (up), got {show(value)}")
    return status


def _time(heartbeat: Mapping[str, object]) -> datetime | None:
    """``heartbeat.time``: UTC as Uptime Kuma writes it, ``2024-09-24 23:51:35.527``.

    Informational only: a time that does not read as one is left out (kept in the details)
    rather than refusing the notification."""
    text = heartbeat.get("time")
    if not isinstance(text, str) or not text.strip():
        return None
    text = text.strip()
    has_offset = text.endswith(("Z", "z")) or (len(text) > 19 and text[-6] in "+-")
    try:
        return parse_rfc3339(text if has_offset else f"{text}Z", field="heartbeat.time")
    except PayloadError:
        return None


def _labels(monitor: Mapping[str, object], *, monitor_id: int, name: str) -> dict[str, str]:
    """The monitor's id, name, type, host and group path, and its tags (``name: value``)."""
    labels = {"monitor_id": str(monitor_id), "monitor": name[:MAX_LABEL_CHARS]}
    for key in _MONITOR_LABELS:
        value = monitor.get(key)
        if isinstance(value, str) and value.strip():
            labels[key] = value.strip()[:MAX_LABEL_CHARS]
    raw_tags = monitor.get("tags")
    tags = [] if raw_tags is None else expect_list(raw_tags, field="monitor.tags")
    for i, raw in enumerate(tags[: MAX_LABELS - len(labels)]):
        path = item("monitor.tags", i)
        tag = expect_object(raw, field=path)
        tag_name = expect_str(
            require(tag, "name", path=path), field=child(path, "name"), non_empty=True
        ).strip()[:MAX_LABEL_CHARS]
        value = optional_str(tag, "value", path=path) or ""
        labels.setdefault(tag_name, value.strip()[:MAX_LABEL_CHARS])
    return labels


def _links(monitor: Mapping[str, object]) -> tuple[Link, ...]:
    url = monitor.get("url")
    if isinstance(url, str) and is_http_url(url):
        return (Link("Monitored URL", url.strip()),)
    return ()


_TAG = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string", "pattern": NON_BLANK}, "value": STR},
}

SCHEMA: dict[str, Any] = {
    "title": "Uptime Kuma webhook notification (JSON body)",
    "type": "object",
    "description": "heartbeat.status 0 (down) fires, 1 (up) resolves; without a heartbeat "
    "(the test button, certificate expiry), msg is a firing alert.",
    "properties": {
        "msg": STR,
        "heartbeat": {
            "type": "object",
            "required": ["status"],
            "properties": {
                "monitorID": {"type": "integer", "minimum": 0},
                "status": {"enum": [DOWN, UP]},
                "time": ANY,
                "msg": STR,
                "ping": ANY,
                "duration": ANY,
            },
        },
        "monitor": {
            "type": "object",
            "required": ["id", "name"],
            "properties": {
                "id": {"type": "integer", "minimum": 0},
                "name": {"type": "string", "maxLength": MAX_TITLE_CHARS, "pattern": NON_BLANK},
                "url": STR,
                "type": STR,
                "hostname": STR,
                "pathName": STR,
                "tags": {"type": "array", "items": _TAG},
            },
        },
    },
    "anyOf": [
        {
            "required": ["heartbeat", "monitor"],
            "properties": {"heartbeat": {"type": "object"}, "monitor": {"type": "object"}},
        },
        {
            "required": ["msg"],
            "properties": {
                "msg": {"type": "string", "maxLength": MAX_TITLE_CHARS, "pattern": NON_BLANK},
                "heartbeat": {"type": "null"},
                "monitor": {"type": "null"},
            },
        },
    ],
}


def _send_test(now: datetime, run: str) -> dict[str, Any]:
    return {
        "heartbeat": {
            "monitorID": 1,
            "status": DOWN,
            "time": now.strftime("%Y-%m-%d %H:%M:%S.000"),
            "msg": "Test alert from `tocsin send-test` (Uptime Kuma format); safe to resolve.",
            "important": True,
            "duration": 0,
        },
        "monitor": {
            "id": int(hashlib.sha256(run.encode()).hexdigest()[:12], 16),
            "name": f"send-test {run}",
            "type": "http",
            "url": "https://example.invalid/",
            "tags": [{"name": "source", "value": "send-test"}],
        },
        "msg": f"[send-test {run}] [🔴 Down] Test alert from tocsin send-test",
    }


SOURCE = Source(
    name=NAME,
    title="Uptime Kuma webhook notification (JSON)",
    parse=parse_uptime_kuma,
    schema=SCHEMA,
    examples=(
        Example(
            name="uptime-kuma-down",
            summary="uptime_kuma: a monitor goes down",
            body={
                "heartbeat": {
                    "monitorID": 7,
                    "status": DOWN,
                    "time": "2026-11-21 10:00:00.123",
                    "msg": "connect ECONNREFUSED 10.0.0.5:443",
                },
                "monitor": {"id": 7, "name": "Shop API", "url": "https://shop.example.com"},
                "msg": "[Shop API] [🔴 Down] connect ECONNREFUSED 10.0.0.5:443",
            },
        ),
    ),
    send_test=_send_test,
    docs_url="https://github.com/louislam/uptime-kuma/wiki/Notification-Methods",
    maps=(
        "`heartbeat.status` 0 down / 1 up; monitor id → fingerprint; "
        "a `severity` tag → severity; tags → labels; the monitor's URL"
    ),
)
