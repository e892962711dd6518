"""Label matchers in Alertmanager's syntax: ``service=db,env=~prod.*,team!=web``.

Operators: ``=`` (equal), ``!=`` (not equal), ``=~`` (regex, whole value), ``!~`` (regex
does not match). A value may be double-quoted to hold commas or spaces
(``summary="disk, full"``). A missing label counts as the empty string, as in Alertmanager,
so ``env!=prod`` matches an alert without ``env``.

Kept in a module of its own so that the routing/grading matcher design can replace it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}\Z")
MAX_MATCHERS = 20


class Op(StrEnum):
    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


def code_span(text: str) -> str:
    """``text`` as an inline code span: problems are shown in Slack's mrkdwn, where ``~…~``,
    ``*…*`` and ``_…_`` in an example or an echoed input would restyle the message."""
    return "`" + text.replace("`", "'") + "`"


class MatcherError(ValueError):
    """A matcher list that cannot be parsed; ``field`` names the matcher, ``problem`` says
    what is wrong."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Matcher:
    name: str
    op: Op
    value: str

    def __post_init__(self) -> None:
        if self.op in (Op.REGEX, Op.NOT_REGEX):
            _compile(self.value, self.name)  # fail early on a bad pattern

    def matches(self, values: Mapping[str, str]) -> bool:
        actual = values.get(self.name, "")
        match self.op:
            case Op.EQUAL:
                return actual == self.value
            case Op.NOT_EQUAL:
                return actual != self.value
            case Op.REGEX:
                return _compile(self.value, self.name).fullmatch(actual) is not None
            case Op.NOT_REGEX:
                return _compile(self.value, self.name).fullmatch(actual) is None

    def __str__(self) -> str:
        value = self.value
        if not value or any(c in value for c in ', "'):
            value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"{self.name}{self.op.value}{value}"

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "op": self.op.value, "value": self.value}

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> Matcher:
        return cls(data["name"], Op(data["op"]), data["value"])


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _compile(pattern: str, name: str) -> re.Pattern[str]:
    found = _PATTERNS.get(pattern)
    if found is None:
        try:
            found = re.compile(pattern)
        except re.error as exc:
            raise MatcherError(
                name, f"{code_span(pattern)} is not a valid regular expression ({exc})"
            ) from None
        if len(_PATTERNS) < 1000:
            _PATTERNS[pattern] = found
    return found


def matches_all(matchers: Sequence[Matcher], values: Mapping[str, str]) -> bool:
    return all(m.matches(values) for m in matchers)


def describe(matchers: Sequence[Matcher]) -> str:
    return ",".join(str(m) for m in matchers)


def parse_matchers(text: str) -> tuple[Matcher, ...]:
    """``service=db,env=~prod.*`` → matchers; :class:`MatcherError` names the bad one."""
    text = text.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]  # Alertmanager's {a="b"} form
    if not text:
        raise MatcherError("matchers", "give at least one matcher, like `service=db`")
    found: list[Matcher] = []
    at = 0
    while at < len(text):
        matcher, at = _one(text, at, len(found) + 1)
        found.append(matcher)
        if at < len(text):
            if text[at] != ",":
                raise MatcherError(f"matcher {len(found)}", "expected a comma after the value")
            at += 1
            if at >= len(text):
                raise MatcherError(f"matcher {len(found) + 1}", "is empty (trailing comma)")
    if len(found) > MAX_MATCHERS:
        raise MatcherError("matchers", f"at most {MAX_MATCHERS} matchers, got {len(found)}")
    if all(_matches_empty(m) for m in found):
        raise MatcherError(
            "matchers", "would match every alert; at least one matcher must need a value"
        )
    return tuple(found)


def _matches_empty(matcher: Matcher) -> bool:
    return matcher.matches({})


_OP_AT = re.compile(r"(!=|=~|!~|=)")


def _one(text: str, start: int, number: int) -> tuple[Matcher, int]:
    where = f"matcher {number}"
    op_match = _OP_AT.search(text, start)
    comma = text.find(",", start)
    if op_match is None or (comma != -1 and comma < op_match.start()):
        piece = text[start : comma if comma != -1 else len(text)]
        raise MatcherError(
            where,
            f"{code_span(piece)} has no operator (use `=`, `!=`, `=~` or `!~`, like `service=db`)",
        )
    name = text[start : op_match.start()].strip()
    if not _NAME.match(name):
        raise MatcherError(
            where, f"{code_span(name)} is not a label name (letters, digits, `_` `.` `-`)"
        )
    at = op_match.end()
    while at < len(text) and text[at] == " ":
        at += 1
    if at < len(text) and text[at] == '"':
        value, at = _quoted(text, at, f"{where} ({name})")
    else:
        end = text.find(",", at)
        end = len(text) if end == -1 else end
        value, at = text[at:end].strip(), end
    try:
        return Matcher(name, Op(op_match.group(1)), value), at
    except MatcherError as exc:
        raise MatcherError(where, exc.problem) from None


def _quoted(text: str, start: int, where: str) -> tuple[str, int]:
    out: list[str] = []
    at = start + 1
    while at < len(text):
        char = text[at]
        if char == "\\" and at + 1 < len(text):
            out.append(text[at + 1])
            at += 2
            continue
        if char == '"':
            return "".join(out), at + 1
        out.append(char)
        at += 1
    raise MatcherError(where, "the quoted value has no closing quote")
