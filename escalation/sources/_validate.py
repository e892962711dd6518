"""Small checks shared by the source parsers.

Every failure is a :class:`PayloadError` whose ``field`` is the exact path into the payload
(``""`` for the payload itself) and whose ``problem`` says what was expected and what was got.
A JSON ``null`` counts as an absent field everywhere a field is optional.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from itertools import repeat
from typing import TypeGuard
from urllib.parse import urlsplit

from escalation.errors import MissingFieldsError, PayloadError
from escalation.model import SourceStatus
from escalation.sources._fingerprint import STORED_FINGERPRINT_CHARS

MAX_ALERTS = 1000
MAX_LABELS = 100
MAX_LABEL_CHARS = 1024
MAX_FINGERPRINT_CHARS = STORED_FINGERPRINT_CHARS
"""A fingerprint the database can keep (its columns are ``VARCHAR(255)``), else a clear 422
rather than an inbox body PostgreSQL refuses."""

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})",
    re.ASCII,
)


def child(path: str, key: str) -> str:
    """The path of ``key`` inside the object at ``path``."""
    return f"{path}.{key}" if path else key


def item(path: str, index: int) -> str:
    """The path of element ``index`` of the list at ``path``."""
    return f"{path}[{index}]"


def json_type(value: object) -> str:
    """The JSON name of the type of ``value``, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def show(value: object) -> str:
    """A short rendering of a scalar as JSON (strings quoted), or the type of anything else."""
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 40 else value[:40] + "…", ensure_ascii=False)
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)
    return json_type(value)


def problem(field: str, text: str) -> PayloadError:
    """A PayloadError; at the root (``field == ""``) the text names "the payload"."""
    return PayloadError(field, text if field else f"the payload {text}")


def wrong_type(field: str, expected: str, value: object) -> PayloadError:
    return problem(field, f"must be {expected}, got {json_type(value)}")


def require(obj: Mapping[str, object], key: str, *, path: str) -> object:
    """The value of a required field; absent or null is an error."""
    value = obj.get(key)
    if value is None:
        raise PayloadError(child(path, key), "is required")
    return value


def absent(obj: Mapping[str, object], keys: tuple[str, ...], *, path: str) -> list[str]:
    """The paths of the ``keys`` that ``obj`` lacks (absent or null), in the order given."""
    return [child(path, key) for key in keys if obj.get(key) is None]


def raise_missing(paths: list[str]) -> None:
    """Raise one :class:`MissingFieldsError` naming every path, if there are any."""
    if paths:
        raise MissingFieldsError(tuple(paths))


def expect_number(value: object, *, field: str) -> float:
    """A finite JSON number (not a boolean)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise wrong_type(field, "a number", value)
    number = float(value)
    if number != number or number in (float("inf"), float("-inf")):
        raise PayloadError(field, "must be a finite number")
    return number


def expect_object(value: object, *, field: str) -> Mapping[str, object]:
    if not (type(value) is dict or isinstance(value, Mapping)) or not all(
        map(isinstance, value, repeat(str))
    ):
        raise wrong_type(field, "an object", value)
    return value


def expect_list(value: object, *, field: str, max_items: int | None = None) -> list[object]:
    if not isinstance(value, list):
        raise wrong_type(field, "an array", value)
    if max_items is not None and len(value) > max_items:
        raise PayloadError(field, f"has {len(value)} items; at most {max_items} are accepted")
    return value


def expect_alert_list(value: object, *, field: str) -> list[object]:
    """A non-empty list of at most :data:`MAX_ALERTS` elements."""
    alerts = expect_list(value, field=field)
    if not alerts:
        raise PayloadError(field, "must contain at least one alert")
    if len(alerts) > MAX_ALERTS:
        raise PayloadError(field, f"has {len(alerts)} alerts; at most {MAX_ALERTS} are accepted")
    return alerts


def expect_str(
    value: object, *, field: str, max_chars: int | None = None, non_empty: bool = False
) -> str:
    if not isinstance(value, str):
        raise wrong_type(field, "a string", value)
    if non_empty and not value.strip():
        raise PayloadError(field, "must not be empty")
    if max_chars is not None and len(value) > max_chars:
        raise PayloadError(
            field, f"is {len(value)} characters long; at most {max_chars} are accepted"
        )
    return value


def optional_str(
    obj: Mapping[str, object],
    key: str,
    *,
    path: str,
    max_chars: int | None = None,
    non_empty: bool = False,
) -> str | None:
    """The string value of an optional field, ``None`` when absent or null."""
    value = obj.get(key)
    if value is None:
        return None
    if type(value) is str and (max_chars is None or len(value) <= max_chars) and not non_empty:
        return value  # the common case, without building the field's path
    return expect_str(value, field=child(path, key), max_chars=max_chars, non_empty=non_empty)


def _str_values(obj: Mapping[str, object]) -> TypeGuard[Mapping[str, str]]:
    return all(map(isinstance, obj.values(), repeat(str)))


def expect_str_map(
    value: object,
    *,
    field: str,
    max_entries: int = MAX_LABELS,
    max_key_chars: int | None = MAX_LABEL_CHARS,
    max_value_chars: int | None = MAX_LABEL_CHARS,
) -> dict[str, str]:
    """An object whose values are all strings, within the given size limits."""
    obj = expect_object(value, field=field)
    if len(obj) > max_entries:
        raise PayloadError(field, f"has {len(obj)} entries; at most {max_entries} are accepted")
    if (
        _str_values(obj)
        and (max_key_chars is None or max(map(len, obj), default=0) <= max_key_chars)
        and (max_value_chars is None or max(map(len, obj.values()), default=0) <= max_value_chars)
    ):
        return dict(obj)
    result: dict[str, str] = {}
    for key, raw in obj.items():
        if max_key_chars is not None and len(key) > max_key_chars:
            raise PayloadError(
                field,
                f"has a key {len(key)} characters long; at most {max_key_chars} are accepted",
            )
        result[key] = expect_str(raw, field=child(field, key), max_chars=max_value_chars)
    return result


def expect_status(value: object, *, field: str) -> SourceStatus:
    if value == SourceStatus.FIRING.value:
        return SourceStatus.FIRING
    if value == SourceStatus.RESOLVED.value:
        return SourceStatus.RESOLVED
    raise PayloadError(field, f'must be "firing" or "resolved", got {show(value)}')


def _integral(value: object) -> int | None:
    """``value`` as an int if it is a JSON integer: ``3`` or, as JSON Schema counts it,
    ``3.0``; ``None`` for anything else (booleans included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def expect_count(value: object, *, field: str) -> int:
    """A non-negative JSON integer."""
    number = _integral(value)
    if number is None or number < 0:
        raise PayloadError(field, f"must be a non-negative integer, got {show(value)}")
    return number


def parse_level(value: object, *, field: str) -> int:
    """A warning level: the number 1, 2 or 3, or the same as a string."""
    number = _integral(value)
    if number in (1, 2, 3):
        return number
    if isinstance(value, str) and value.strip() in ("1", "2", "3"):
        return int(value)
    raise PayloadError(field, f"must be 1, 2 or 3, got {show(value)}")


def parse_rfc3339(text: str, *, field: str) -> datetime:
    """An RFC 3339 timestamp as an aware UTC datetime.

    Fractional seconds may have any number of digits (Go writes up to nine); digits beyond
    microseconds are dropped.
    """
    # only short texts are cached: a sender must not be able to fill memory with long ones
    moment = _rfc3339(text) if len(text) <= 64 else _rfc3339.__wrapped__(text)
    if moment is None:
        raise PayloadError(field, "is not an RFC 3339 timestamp")
    return moment


@lru_cache(maxsize=4096)
def _rfc3339(text: str) -> datetime | None:
    """Cached: the alerts of one payload mostly share their timestamps (a group's start,
    Go's zero time for "not ended")."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        if offset in ("Z", "z"):
            tz = UTC
        else:
            hours, minutes = int(offset[1:3]), int(offset[4:6])
            if hours > 23 or minutes > 59:
                raise ValueError(offset)
            delta = timedelta(hours=hours, minutes=minutes)
            tz = timezone(-delta if offset[0] == "-" else delta)
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micros, tz
        )
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


_COMPACT_OFFSET = re.compile(r"([+-]\d{2})(\d{2})\Z", re.ASCII)


def parse_iso8601(text: str, *, field: str) -> datetime:
    """Like :func:`parse_rfc3339`, also taking offsets without a colon (``+0000``), as
    PagerDuty's own examples write them."""
    return parse_rfc3339(_COMPACT_OFFSET.sub(r"\1:\2", text.strip()), field=field)


def optional_timestamp(obj: Mapping[str, object], key: str, *, path: str) -> datetime | None:
    """The timestamp in an optional field, ``None`` when absent or null."""
    text = optional_str(obj, key, path=path)
    return None if text is None else parse_rfc3339(text, field=child(path, key))


def is_http_url(text: str) -> bool:
    """Whether ``text`` is an absolute http:// or https:// URL with a host."""
    # the alerts of one payload mostly share their links; only short texts are cached
    return _is_http_url(text) if len(text) <= 512 else _is_http_url.__wrapped__(text)


@lru_cache(maxsize=1024)
def _is_http_url(text: str) -> bool:
    try:
        parts = urlsplit(text.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)
