"""Healthchecks.io's "Webhook" integration, with the body Tocsin documents for it.

Healthchecks.io sends whatever body its user writes, filling placeholders in. Tocsin reads
the one its documentation builds on — the check as ``$JSON`` (the fields of the "Get a
single check" API) — with the event's own placeholders next to it; the same body serves
for "down" and "up"::

    {"code": "$CODE", "status": "$STATUS", "now": "$NOW", "check": $JSON}

``status`` ``down`` fires, ``up`` resolves; the check's code (UUID) is the fingerprint.
Each field but ``check`` may be left out: ``status`` then comes from ``check.status`` and the
code from ``check.ping_url``, which is the docs' own example ``{"now": "$NOW", "check":
$JSON}``. Healthchecks.io has no severity: add ``"severity": "major"`` (per integration).
See https://healthchecks.io/docs/configuring_notifications/ and the webhook form's
"available placeholders".
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from escalation.errors import MissingFieldsError, PayloadError
from escalation.model import AlertEvent, Link, SourceStatus
from escalation.sources._source import ANY, STR, TIME, Example, Source
from escalation.sources._validate import (
    MAX_LABEL_CHARS,
    expect_object,
    expect_str,
    optional_str,
    optional_timestamp,
    show,
)

NAME = "healthchecks"
MAX_TITLE_CHARS = 1000
MAX_SEVERITY_CHARS = 100
_STATUSES = {"down": SourceStatus.FIRING, "up": SourceStatus.RESOLVED}
_CODE = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_CODE_PATTERN = rf"^\s*{_CODE.pattern}\s*$"
_PING_URL_PATTERN = rf"/{_CODE.pattern}/?\s*$"
_DETAILS = (
    "grace",
    "timeout",
    "schedule",
    "tz",
    "n_pings",
    "last_ping",
    "next_ping",
    "last_duration",
)


def parse_healthchecks(payload: object) -> list[AlertEvent]:
    """The one event in a Healthchecks.io webhook body (the value ``json.loads`` returned).

    Raises :class:`PayloadError` naming the offending field.
    """
    body = expect_object(payload, field="")
    raw_check = body.get("check")
    check: Mapping[str, object] = (
        {} if raw_check is None else expect_object(raw_check, field="check")
    )
    status = _status(body, check)
    code = _code(body, check)
    if status is None or code is None:
        raise MissingFieldsError(
            tuple(name for name, value in (("status", status), ("code", code)) if value is None)
        )
    name = (
        optional_str(check, "name", path="check", max_chars=MAX_TITLE_CHARS)
        or optional_str(body, "name", path="", max_chars=MAX_TITLE_CHARS)
        or ""
    ).strip()
    tags = optional_str(body, "tags", path="") or optional_str(check, "tags", path="check") or ""
    labels = {"check": (name or code)[:MAX_LABEL_CHARS], "code": code}
    slug = check.get("slug")
    if isinstance(slug, str) and slug.strip():
        labels["slug"] = slug.strip()[:MAX_LABEL_CHARS]
    if tags.strip():
        labels["tags"] = " ".join(tags.split())[:MAX_LABEL_CHARS]
    severity = optional_str(body, "severity", path="", max_chars=MAX_SEVERITY_CHARS)
    at = optional_timestamp(body, "now", path="")
    firing = status is SourceStatus.FIRING
    return [
        AlertEvent(
            fingerprint=f"{NAME}:{code}",
            status=status,
            title=f"{name or code} is {'down' if firing else 'up'}",
            source=NAME,
            description=(optional_str(check, "desc", path="check") or "").strip(),
            severity=(severity or "").strip() or None,
            labels=labels,
            links=_links(check, code),
            starts_at=at if firing else None,
            ends_at=None if firing else at,
            details={key: check[key] for key in _DETAILS if check.get(key) is not None},
        )
    ]


def _status(body: Mapping[str, object], check: Mapping[str, object]) -> SourceStatus | None:
    """``status`` ($STATUS, the event's), else ``check.status`` (the check's now)."""
    for field, obj, key in (("status", body, "status"), ("check.status", check, "status")):
        value = obj.get(key)
        if value is None:
            continue
        status = _STATUSES.get(value) if type(value) is str else None
        if status is None:
            hint = "" if field == "status" else '; add "status": "$STATUS" to the body'
            raise PayloadError(field, f'must be "down" or "up", got {show(value)}{hint}')
        return status
    return None


def _code(body: Mapping[str, object], check: Mapping[str, object]) -> str | None:
    """``code`` ($CODE), else the UUID ending ``check.ping_url`` or ``check.update_url``."""
    value = body.get("code")
    if value is not None:
        code = expect_str(value, field="code").strip()
        if not _CODE.fullmatch(code):
            raise PayloadError("code", f"must be the check's UUID, got {show(value)}")
        return code.lower()
    for key in ("ping_url", "update_url"):
        url = check.get(key)
        if isinstance(url, str):
            tail = url.strip().rstrip("/").rsplit("/", 1)[-1]
            if _CODE.fullmatch(tail):
                return tail.lower()
    return None


def _links(check: Mapping[str, object], code: str) -> tuple[Link, ...]:
    """The check's page, on the site that sent it (``update_url`` names the site)."""
    url = check.get("update_url")
    if not isinstance(url, str):
        return ()
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ()
    marker = parts.path.rfind("/api/v")
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or marker < 0:
        return ()
    root = f"{parts.scheme}://{parts.netloc}{parts.path[:marker]}"
    return (Link("Check", f"{root}/checks/{code}/details/"),)


_CHECK: dict[str, Any] = {
    "type": "object",
    "description": "$JSON: the check as the Get a single check API returns it.",
    "properties": {
        "name": {"type": "string", "maxLength": MAX_TITLE_CHARS},
        "slug": STR,
        "tags": STR,
        "desc": STR,
        "status": STR,
        "ping_url": STR,
        "update_url": STR,
        **{key: ANY for key in _DETAILS},
    },
}

SCHEMA: dict[str, Any] = {
    "title": "Healthchecks.io webhook (the body Tocsin documents)",
    "type": "object",
    "description": 'Body: {"code": "$CODE", "status": "$STATUS", "now": "$NOW", "check": $JSON}. '
    '"down" fires, "up" resolves; status may come from check.status and the code from '
    "check.ping_url.",
    "properties": {
        "code": {"type": "string", "pattern": _CODE_PATTERN},
        "status": {"enum": list(_STATUSES)},
        "now": TIME,
        "name": {"type": "string", "maxLength": MAX_TITLE_CHARS},
        "tags": STR,
        "severity": {"type": "string", "maxLength": MAX_SEVERITY_CHARS},
        "check": _CHECK,
    },
    "allOf": [
        {
            "anyOf": [
                {"required": ["status"], "properties": {"status": {"enum": list(_STATUSES)}}},
                {
                    "required": ["check"],
                    "properties": {
                        "status": {"type": "null"},
                        "check": {
                            "type": "object",
                            "required": ["status"],
                            "properties": {"status": {"enum": list(_STATUSES)}},
                        },
                    },
                },
            ]
        },
        {
            "anyOf": [
                {"required": ["code"], "properties": {"code": {"type": "string"}}},
                {
                    "required": ["check"],
                    "properties": {
                        "code": {"type": "null"},
                        "check": {
                            "type": "object",
                            "required": ["ping_url"],
                            "properties": {
                                "ping_url": {
                                    "type": "string",
                                    "pattern": rf"/{_CODE.pattern}/?\s*$",
                                }
                            },
                        },
                    },
                },
            ]
        },
    ],
}


def _send_test(now: datetime, run: str) -> dict[str, Any]:
    digits = hashlib.sha256(run.encode()).hexdigest()[:12]
    return {
        "code": f"00000000-0000-4000-8000-{digits}",
        "status": "down",
        "now": now.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        "severity": "minor",
        "check": {
            "name": "Test alert from `tocsin send-test` (Healthchecks.io format)",
            "desc": "Safe to resolve: it only checks the path to Slack.",
            "tags": "send-test",
        },
    }


SOURCE = Source(
    name=NAME,
    title="Healthchecks.io webhook integration",
    parse=parse_healthchecks,
    schema=SCHEMA,
    examples=(
        Example(
            name="healthchecks-down",
            summary="healthchecks: a check goes down",
            body={
                "code": "5c3b9f0e-6a1d-4c1e-9a44-2b7f0e8d1a23",
                "status": "down",
                "now": "2026-11-21T10:00:00+00:00",
                "check": {"name": "nightly-backup", "tags": "prod backup", "status": "down"},
            },
        ),
    ),
    send_test=_send_test,
    docs_url="https://healthchecks.io/docs/configuring_notifications/",
    maps=(
        "`status` down/up; the check's code → fingerprint; a `severity` you add; "
        "check name, tags → labels; the check's page"
    ),
)
