"""Tocsin's own generic JSON format: one alert object, or ``{"alerts": [ ... ]}``.

The format is documented for users; every error names the exact field path (``title`` for the
single-object form, ``alerts[2].title`` for the list form).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from escalation.errors import PayloadError
from escalation.fingerprint import derive_fingerprint
from escalation.model import AlertEvent, Link, Metric, SourceStatus
from escalation.sources._validate import (
    MAX_FINGERPRINT_CHARS,
    child,
    expect_alert_list,
    expect_list,
    expect_object,
    expect_status,
    expect_str,
    expect_str_map,
    is_http_url,
    item,
    optional_str,
    optional_timestamp,
    parse_level,
    require,
    wrong_type,
)

DEFAULT_SOURCE = "generic"
MAX_TITLE_CHARS = 1000
MAX_SOURCE_CHARS = 100
MAX_LINKS = 20
MAX_LINK_TITLE_CHARS = 200
MAX_URL_CHARS = 4096

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
    }
)


def parse_generic(payload: object) -> list[AlertEvent]:
    """The events in a generic-format body (the value ``json.loads`` returned).

    An object with an ``alerts`` field is the list form; any other object is a single alert.
    Raises :class:`PayloadError` naming the offending field.
    """
    body = expect_object(payload, field="")
    if "alerts" not in body:
        return [_parse_alert(body, path="")]
    others = sorted(key for key in body if key != "alerts")
    if others:
        raise PayloadError(others[0], 'is not allowed next to "alerts"; put it in each alert')
    alerts = expect_alert_list(body["alerts"], field="alerts")
    return [
        _parse_alert(expect_object(raw, field=item("alerts", i)), path=item("alerts", i))
        for i, raw in enumerate(alerts)
    ]


def _parse_alert(alert: Mapping[str, object], *, path: str) -> AlertEvent:
    def text(key: str) -> str:
        return optional_str(alert, key, path=path) or ""

    title = expect_str(
        require(alert, "title", path=path),
        field=child(path, "title"),
        max_chars=MAX_TITLE_CHARS,
        non_empty=True,
    ).strip()
    raw_labels = alert.get("labels")
    labels = {} if raw_labels is None else expect_str_map(raw_labels, field=child(path, "labels"))
    raw_status = alert.get("status")
    status = (
        SourceStatus.FIRING
        if raw_status is None
        else expect_status(raw_status, field=child(path, "status"))
    )
    raw_level = alert.get("level")
    category = text("category").strip().lower()
    fingerprint = _fingerprint(alert, path=path) or derive_fingerprint(title=title, labels=labels)
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
        details={key: value for key, value in alert.items() if key not in KNOWN_FIELDS},
        metric=_metric(alert, path=path),
    )


def _metric(alert: Mapping[str, object], *, path: str) -> Metric | None:
    """Minimal metric form (``metric``, ``value``, ``baseline``/``threshold``, ``unit``,
    ``window``) for deviation grading; the intake work owns the full form."""
    name = optional_str(alert, "metric", path=path, max_chars=200, non_empty=True)
    if name is None:
        return None

    def number(key: str) -> float | None:
        value = alert.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise wrong_type(child(path, key), "a number", value)
        return float(value)

    value = number("value")
    if value is None:
        raise PayloadError(child(path, "value"), "is required with metric")
    return Metric(
        name=name.strip(),
        value=value,
        baseline=number("baseline"),
        threshold=number("threshold"),
        unit=optional_str(alert, "unit", path=path, max_chars=40),
        window=optional_str(alert, "window", path=path, max_chars=40),
    )


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
