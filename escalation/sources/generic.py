"""Tocsin's own generic JSON format: one alert object, or ``{"alerts": [ ... ]}``.

The format is documented for users; every error names the exact field path (``title`` for the
single-object form, ``alerts[2].title`` for the list form).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from escalation.errors import PayloadError
from escalation.model import AlertEvent, Link, Metric, SourceStatus
from escalation.sources._fingerprint import derive_fingerprint
from escalation.sources._source import NON_BLANK, STR, TIME, Example, Source
from escalation.sources._validate import (
    MAX_ALERTS,
    MAX_FINGERPRINT_CHARS,
    MAX_LABEL_CHARS,
    MAX_LABELS,
    absent,
    child,
    expect_alert_list,
    expect_list,
    expect_number,
    expect_object,
    expect_status,
    expect_str,
    expect_str_map,
    is_http_url,
    item,
    optional_str,
    optional_timestamp,
    parse_level,
    raise_missing,
    require,
    wrong_type,
)
from escalation.triage.grading import percent

NAME = "generic"
DEFAULT_SOURCE = NAME
MAX_TITLE_CHARS = 1000
MAX_SOURCE_CHARS = 100
MAX_LINKS = 20
MAX_LINK_TITLE_CHARS = 200
MAX_URL_CHARS = 4096

METRIC_FIELDS = ("metric", "value", "baseline", "threshold", "unit", "window")
MAX_METRIC_NAME_CHARS = 200

KNOWN_FIELDS = frozenset(
    {
        "title",
        "description",
        "impact",
        "suggested_actions",
        "severity",
        "level",
        "category",
        "labels",
        "links",
        "fingerprint",
        "dedup_key",
        "status",
        "source",
        "starts_at",
        "ends_at",
        "group_key",
        "metric",
    }
)


def parse_generic(payload: object) -> list[AlertEvent]:
    """The events in a generic-format body (the value ``json.loads`` returned).

    An object with an ``alerts`` field is the list form; any other object is a single alert.
    Raises :class:`PayloadError` naming the offending field.
    """
    body = expect_object(payload, field="")
    if "alerts" not in body:
        raise_missing(_missing(body, path=""))
        return [_parse_alert(body, path="")]
    others = sorted(key for key in body if key != "alerts")
    if others:
        raise PayloadError(others[0], 'is not allowed next to "alerts"; put it in each alert')
    alerts = expect_alert_list(body["alerts"], field="alerts")
    objects = [expect_object(raw, field=item("alerts", i)) for i, raw in enumerate(alerts)]
    raise_missing(
        [
            path
            for i, alert in enumerate(objects)
            for path in _missing(alert, path=item("alerts", i))
        ]
    )
    return [_parse_alert(alert, path=item("alerts", i)) for i, alert in enumerate(objects)]


def _missing(alert: Mapping[str, object], *, path: str) -> list[str]:
    """Every required field the alert lacks: ``title``, or in the metric form ``value`` and
    one of ``baseline``/``threshold`` (the title is then optional)."""
    if alert.get("metric") is None:
        return absent(alert, ("title",), path=path)
    missing = absent(alert, ("value",), path=path)
    if alert.get("baseline") is None and alert.get("threshold") is None:
        missing.append(child(path, "baseline"))
    return missing


def _parse_alert(alert: Mapping[str, object], *, path: str) -> AlertEvent:
    def text(key: str) -> str:
        return optional_str(alert, key, path=path) or ""

    raw_labels = alert.get("labels")
    labels = {} if raw_labels is None else expect_str_map(raw_labels, field=child(path, "labels"))
    metric = _metric(alert, path=path)
    raw_title = alert.get("title")
    if raw_title is None and metric is not None:
        title = metric_title(metric)
    else:
        title = expect_str(
            require(alert, "title", path=path),
            field=child(path, "title"),
            max_chars=MAX_TITLE_CHARS,
            non_empty=True,
        ).strip()
    raw_status = alert.get("status")
    status = (
        SourceStatus.FIRING
        if raw_status is None
        else expect_status(raw_status, field=child(path, "status"))
    )
    raw_level = alert.get("level")
    category = text("category").strip().lower()
    fingerprint = _fingerprint(alert, path=path) or derive_fingerprint(
        title=title if metric is None else f"metric:{metric.name}", labels=labels
    )
    source = optional_str(alert, "source", path=path, max_chars=MAX_SOURCE_CHARS, non_empty=True)
    return AlertEvent(
        fingerprint=fingerprint,
        status=status,
        title=title,
        source=source.strip() if source else DEFAULT_SOURCE,
        description=text("description"),
        impact=text("impact"),
        suggested_actions=_suggested_actions(alert.get("suggested_actions"), path=path),
        severity=text("severity").strip() or None,
        level=None if raw_level is None else parse_level(raw_level, field=child(path, "level")),
        category=category or None,
        labels=labels,
        links=_links(alert.get("links"), field=child(path, "links")),
        starts_at=optional_timestamp(alert, "starts_at", path=path),
        ends_at=optional_timestamp(alert, "ends_at", path=path),
        group_key=optional_str(alert, "group_key", path=path),
        details={
            key: value
            for key, value in alert.items()
            if key not in KNOWN_FIELDS and (metric is None or key not in METRIC_FIELDS)
        },
        metric=metric,
    )


def _metric(alert: Mapping[str, object], *, path: str) -> Metric | None:
    """The metric form's measurement, or ``None`` when the alert has no ``metric``."""
    name = optional_str(alert, "metric", path=path, max_chars=MAX_METRIC_NAME_CHARS, non_empty=True)
    if name is None:
        return None  # without "metric", value/baseline/… are ordinary extra fields

    def number(key: str) -> float | None:
        raw = alert.get(key)
        return None if raw is None else expect_number(raw, field=child(path, key))

    value = number("value")
    assert value is not None  # checked by _missing
    return Metric(
        name=name.strip(),
        value=value,
        baseline=number("baseline"),
        threshold=number("threshold"),
        unit=(optional_str(alert, "unit", path=path, max_chars=40) or "").strip() or None,
        window=(optional_str(alert, "window", path=path, max_chars=40) or "").strip() or None,
    )


def metric_title(metric: Metric) -> str:
    """The title of a metric alert sent without one: name, value and how far it is off."""
    unit = f" {metric.unit}" if metric.unit else ""
    text = f"{metric.name} at {_num(metric.value)}{unit}"
    reference = metric.baseline if metric.baseline is not None else metric.threshold
    word = "baseline" if metric.baseline is not None else "threshold"
    if reference is not None:
        text += f" ({word} {_num(reference)}{unit}"
        deviation = metric.deviation()
        if deviation is not None and deviation != float("inf"):
            sign = "+" if metric.value >= reference else "-"
            text += f", {sign}{percent(deviation)}"
        text += ")"
    if metric.window:
        text += f" over {metric.window}"
    return text[:MAX_TITLE_CHARS]


def _num(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:g}"


def _fingerprint(alert: Mapping[str, object], *, path: str) -> str | None:
    """``fingerprint``, else ``dedup_key``, else ``None``."""
    for key in ("fingerprint", "dedup_key"):
        value = optional_str(alert, key, path=path, max_chars=MAX_FINGERPRINT_CHARS, non_empty=True)
        if value is not None:
            return value
    return None


def _suggested_actions(value: object, *, path: str) -> str:
    """A string as given, or a list of strings as "• item" lines."""
    field = child(path, "suggested_actions")
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        raise wrong_type(field, "a string or an array of strings", value)
    steps = [expect_str(step, field=item(field, i)).strip() for i, step in enumerate(value)]
    return "\n".join(f"• {step}" for step in steps if step)


def _links(value: object, *, field: str) -> tuple[Link, ...]:
    if value is None:
        return ()
    return tuple(
        _link(raw, field=item(field, i))
        for i, raw in enumerate(expect_list(value, field=field, max_items=MAX_LINKS))
    )


def _link(value: object, *, field: str) -> Link:
    """A ``{"title", "url"}`` object, or a bare URL titled with its host name."""
    if isinstance(value, str):
        url, url_field, title = value, field, None
    elif isinstance(value, Mapping):
        obj = expect_object(value, field=field)
        url_field = child(field, "url")
        url = expect_str(require(obj, "url", path=field), field=url_field)
        title = optional_str(
            obj, "title", path=field, max_chars=MAX_LINK_TITLE_CHARS, non_empty=True
        )
    else:
        raise wrong_type(field, "a link object or a URL string", value)
    url = expect_str(url.strip(), field=url_field, max_chars=MAX_URL_CHARS)
    if not is_http_url(url):
        raise PayloadError(url_field, "must be an http(s) URL")
    return Link(title.strip() if title else urlsplit(url).hostname or url, url)


_HTTP_URL = r"^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#][^\s]*)?$"
"""Stricter than the parser (which takes any http(s) URL with a host): what the schema
promises, the parser accepts."""
_URL = {"type": "string", "maxLength": MAX_URL_CHARS, "pattern": _HTTP_URL}
_FIELDS: dict[str, Any] = {
    "title": {"type": "string", "maxLength": MAX_TITLE_CHARS, "pattern": NON_BLANK},
    "description": STR,
    "impact": STR,
    "suggested_actions": {"anyOf": [STR, {"type": "array", "items": STR}]},
    "severity": STR,
    "level": {"anyOf": [{"enum": [1, 2, 3]}, {"type": "string", "pattern": r"^\s*[123]\s*$"}]},
    "category": {**STR, "description": "process, data, customer, market, financial or your own"},
    "labels": {
        "type": "object",
        "maxProperties": MAX_LABELS,
        "propertyNames": {"maxLength": MAX_LABEL_CHARS},
        "additionalProperties": {"type": "string", "maxLength": MAX_LABEL_CHARS},
    },
    "links": {
        "type": "array",
        "maxItems": MAX_LINKS,
        "items": {
            "anyOf": [
                _URL,
                {
                    "type": "object",
                    "required": ["url"],
                    "properties": {
                        "url": _URL,
                        "title": {
                            "type": "string",
                            "maxLength": MAX_LINK_TITLE_CHARS,
                            "pattern": NON_BLANK,
                        },
                    },
                },
            ]
        },
    },
    "fingerprint": {"type": "string", "maxLength": MAX_FINGERPRINT_CHARS, "pattern": NON_BLANK},
    "dedup_key": {"type": "string", "maxLength": MAX_FINGERPRINT_CHARS, "pattern": NON_BLANK},
    "status": {"type": "string", "enum": ["firing", "resolved"]},
    "source": {"type": "string", "maxLength": MAX_SOURCE_CHARS, "pattern": NON_BLANK},
    "starts_at": TIME,
    "ends_at": TIME,
    "group_key": STR,
    "metric": {
        "type": "string",
        "maxLength": MAX_METRIC_NAME_CHARS,
        "pattern": NON_BLANK,
        "description": "Metric form: the measurement's name.",
    },
    "value": {"type": "number"},
    "baseline": {"type": "number"},
    "threshold": {"type": "number"},
    "unit": {"type": "string", "maxLength": 40},
    "window": {"type": "string", "maxLength": 40},
}
_TITLED_OR_METRIC: dict[str, Any] = {
    "anyOf": [
        {"required": ["title"], "properties": {"title": STR, "metric": {"type": "null"}}},
        {
            "required": ["metric", "value"],
            "properties": {"metric": STR, "value": {"type": "number"}},
            "anyOf": [
                {"required": ["baseline"], "properties": {"baseline": {"type": "number"}}},
                {"required": ["threshold"], "properties": {"threshold": {"type": "number"}}},
            ],
        },
    ]
}
_ALERT: dict[str, Any] = {
    "type": "object",
    "description": "title is required, except in the metric form (metric + value + "
    "baseline or threshold). Other fields are kept as details.",
    "properties": _FIELDS,
    **_TITLED_OR_METRIC,
}

SCHEMA: dict[str, Any] = {
    "title": "Generic JSON (one alert, a list, or the metric form)",
    "oneOf": [
        {**_ALERT, "not": {"required": ["alerts"]}},
        {
            "type": "object",
            "required": ["alerts"],
            "properties": {
                "alerts": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_ALERTS,
                    "items": _ALERT,
                }
            },
            "additionalProperties": False,
        },
    ],
}


def _send_test(now: datetime, run: str) -> dict[str, Any]:
    return {
        "title": "Test alert from `tocsin send-test` (generic format)",
        "description": "Safe to resolve: it only checks the path to Slack.",
        "severity": "minor",
        "labels": {"source": "send-test"},
        "fingerprint": f"send-test-generic-{run}",
        "starts_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


SOURCE = Source(
    name=NAME,
    title="Tocsin's own JSON: one alert, a list of alerts, or a metric",
    parse=parse_generic,
    schema=SCHEMA,
    examples=(
        Example(
            name="generic",
            summary="generic: one alert",
            body={
                "title": "Nightly backup failed",
                "severity": "major",
                "labels": {"service": "backup"},
            },
        ),
        Example(
            name="generic-list",
            summary="generic: a list",
            body={
                "alerts": [
                    {"title": "Nightly backup failed"},
                    {"title": "Certificate expires in 7 d"},
                ]
            },
        ),
        Example(
            name="generic-metric",
            summary="generic: the metric form",
            body={
                "metric": "orders_per_hour",
                "value": 410,
                "baseline": 520,
                "unit": "orders",
                "window": "1h",
                "category": "customer",
                "labels": {"shop": "eu"},
            },
        ),
    ),
    send_test=_send_test,
    docs_url="#the-generic-json-format",
    maps=(
        "`status`; `fingerprint` (else title + labels); `severity` or `level`; "
        "`labels`, `links`, `metric` (deviation grading)"
    ),
)
