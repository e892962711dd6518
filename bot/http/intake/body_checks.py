"""Webhook bodies decoded strictly: every way a body can be malformed is refused with a 4xx
that says what is wrong, before anything is stored.

The checks, in order: the content type (JSON, ``text/plain`` for tools that cannot set a
header, or none); strict UTF-8; JSON with no duplicate keys, no ``NaN``/``Infinity``, no
number that overflows or has thousands of digits; then a walk of the decoded value that
refuses nesting deeper than :data:`MAX_DEPTH` and strings that no database or Slack accepts
(a NUL character, a lone UTF-16 surrogate from a ``\\ud800`` escape).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

MAX_DEPTH = 32
JSON_TYPES = ("application/json", "text/plain")


class BodyRefused(Exception):
    """Why a body was refused: the HTTP status, a metric reason and a message for the sender."""

    def __init__(self, status: int, reason: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.reason, self.message, self.field = status, reason, message, field


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class _BadNumber(ValueError):
    pass


def check_content_type(header: str | None) -> None:
    """JSON media types (``application/json``, ``application/*+json``), ``text/plain`` or none;
    a charset other than UTF-8 is refused."""
    if not header or not header.strip():
        return
    media, _, params = header.partition(";")
    media = media.strip().lower()
    if not (media in JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))):
        raise BodyRefused(
            415, "content_type", f"Content-Type must be application/json, got {media[:80]!r}"
        )
    for param in params.split(";"):
        name, _, value = param.partition("=")
        charset = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and charset not in ("utf-8", "utf8"):
            raise BodyRefused(
                415, "content_type", f"the body must be UTF-8, Content-Type says {charset[:40]!r}"
            )


def decode_json(body: bytes) -> object:
    """The JSON value of ``body``, or :class:`BodyRefused` naming the problem."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyRefused(
            400, "not_utf8", f"body is not valid UTF-8 (byte {exc.start}: {exc.reason})"
        ) from None
    try:
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constant,
            parse_float=_finite_float,
        )
    except _DuplicateKey as exc:
        raise BodyRefused(
            400, "duplicate_key", f"duplicate key {_short(exc.key)} in a JSON object"
        ) from None
    except _BadNumber as exc:
        raise BodyRefused(400, "bad_value", str(exc)) from None
    except json.JSONDecodeError as exc:
        raise BodyRefused(
            400, "not_json", f"body is not JSON: {exc.msg} at line {exc.lineno} col {exc.colno}"
        ) from None
    except RecursionError:
        raise BodyRefused(
            400, "too_deep", f"body is nested deeper than {MAX_DEPTH} levels"
        ) from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        problem = str(exc).split(":", 1)[0]
        raise BodyRefused(400, "bad_value", f"body has an unusable number ({problem})") from None
    # A NUL or a lone surrogate can only come from a \u escape: strict JSON refuses raw
    # control characters and the UTF-8 decoder refuses encoded surrogates.
    if not _plainly_fine(value, strings=b"\\u" in body):
        check_values(value)  # finds the problem and names its place
    return value


def _plainly_fine(value: object, *, strings: bool) -> bool:
    """Whether ``value`` passes :func:`check_values`, without building a path for every node
    (the common case, several times faster); ``strings=False`` skips the string checks.

    Level by level: ``level`` holds the containers ``depth`` levels down."""
    if isinstance(value, str):
        return not strings or _text_ok(value)
    level: list[object] = [value]
    depth = 0
    while level:
        deeper: list[object] = []
        for node in level:
            if isinstance(node, dict):
                if strings and not all(map(_text_ok, node)):
                    return False
                members: Iterable[object] = node.values()
            elif isinstance(node, list):
                members = node
            else:
                continue
            if depth == MAX_DEPTH and node:  # its members, scalars too, are one level deeper
                return False
            for member in members:
                kind = type(member)
                if kind is dict or kind is list:
                    deeper.append(member)
                elif strings and isinstance(member, str) and not _text_ok(member):
                    return False
        level = deeper
        depth += 1
    return True


def _text_ok(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_values(value: object) -> None:
    """Nesting at most :data:`MAX_DEPTH` deep; no string (or key) with NUL or a lone surrogate."""
    stack: list[tuple[object, str, int]] = [(value, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BodyRefused(
                400,
                "too_deep",
                f"body is nested deeper than {MAX_DEPTH} levels",
                _printable(path) or None,
            )
        if isinstance(node, str):
            _check_text(node, path)
        elif isinstance(node, dict):
            for key, child in node.items():
                where = f"{path}.{key}" if path else key
                _check_text(key, where)
                stack.append((child, where, depth + 1))
        elif isinstance(node, list):
            stack.extend((child, f"{path}[{i}]", depth + 1) for i, child in enumerate(node))


def _check_text(text: str, path: str) -> None:
    if "\x00" in text:
        raise BodyRefused(
            400, "bad_value", "a string holds a NUL character (\\u0000)", _printable(path)
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BodyRefused(
            400,
            "bad_value",
            "a string holds a lone UTF-16 surrogate (an unpaired \\ud800-\\udfff escape)",
            _printable(path),
        ) from None


def _printable(path: str) -> str:
    """A field path fit for an answer and a log line, whatever the keys hold: at most 200
    characters, control characters and lone surrogates as escapes (``\\x00``, ``\\ud800``),
    which every encoder takes."""
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in path[:200]
    )


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return result


def _no_constant(name: str) -> object:
    raise _BadNumber(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _BadNumber(f"the number {text[:40]} is too large")
    return number


def _short(key: str) -> str:
    shown = key if len(key) <= 60 else key[:60] + "…"
    return json.dumps(shown, ensure_ascii=True)
