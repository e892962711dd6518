"""``/tocsin silence <matchers> <duration> [starting <when>] <comment>``, parsed.

``<when>`` is ``+<duration>`` (from now) or an RFC 3339 time with an offset
(``2026-11-22T02:00+01:00``, ``2026-11-22T01:00Z``). Errors name the part that is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from escalation.noise.label_matchers import Matcher, MatcherError, code_span, parse_matchers

MAX_DURATION = timedelta(days=30)
MAX_AHEAD = timedelta(days=90)
MAX_COMMENT = 500
USAGE = (
    "Usage: `/tocsin silence <matchers> <duration> [starting <when>] <comment>`, e.g. "
    "`/tocsin silence service=db,env=~prod.* 2h upgrading the primary` or "
    "`/tocsin silence service=db 1h starting 2026-11-22T02:00+01:00 maintenance window`"
)
_DURATION = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?\Z")
_UNITS = (7 * 86400, 86400, 3600, 60, 1)


class SilenceCommandError(ValueError):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True, slots=True)
class SilenceRequest:
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    comment: str


def parse_duration(text: str) -> timedelta:
    """``2h``, ``90m``, ``1h30m``, ``1d``, ``1w`` → a positive duration; ``ValueError``."""
    match = _DURATION.match(text.strip().lower())
    if not text.strip() or match is None or not any(match.groups()):
        raise ValueError(
            f"{code_span(text)} is not a duration (write it like `30m`, `2h`, `1h30m` or `1d`)"
        )
    seconds = sum(int(g) * unit for g, unit in zip(match.groups(), _UNITS, strict=True) if g)
    if seconds <= 0:
        raise ValueError(f"{code_span(text)} is not a positive duration")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    parts = []
    for unit, name in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= unit:
            parts.append(f"{seconds // unit}{name}")
            seconds %= unit
    return "".join(parts) or f"{seconds}s"


def _tokens(text: str) -> list[str]:
    """Whitespace-separated words; a double-quoted stretch stays inside its word."""
    words: list[str] = []
    current: list[str] = []
    quoted = False
    at = 0
    while at < len(text):
        char = text[at]
        if char == "\\" and quoted and at + 1 < len(text):
            current.append(text[at : at + 2])
            at += 2
            continue
        if char == '"':
            quoted = not quoted
        if char.isspace() and not quoted:
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(char)
        at += 1
    if current:
        words.append("".join(current))
    return words


def parse_silence_command(args: str, *, now: datetime) -> SilenceRequest:
    """The text after ``silence``; :class:`SilenceCommandError` says which part is wrong."""
    words = _tokens(args)
    if not words:
        raise SilenceCommandError("matchers", "missing")
    try:
        matchers = parse_matchers(words[0])
    except MatcherError as exc:
        raise SilenceCommandError(exc.field, exc.problem) from None
    if len(words) < 2:
        raise SilenceCommandError("duration", "missing (like `2h`)")
    try:
        length = parse_duration(words[1])
    except ValueError as exc:
        raise SilenceCommandError("duration", str(exc)) from None
    if length > MAX_DURATION:
        raise SilenceCommandError(
            "duration", f"{code_span(words[1])} is longer than the 30d allowed"
        )
    rest = words[2:]
    starts_at = now
    if rest and rest[0].lower() == "starting":
        if len(rest) < 2:
            raise SilenceCommandError("starting", "give a time, like `+3h` or `2026-11-22T02:00Z`")
        starts_at = _start(rest[1], now=now)
        rest = rest[2:]
    comment = " ".join(rest).strip()
    if not comment:
        raise SilenceCommandError("comment", "missing: say why (it is shown to everyone)")
    if len(comment) > MAX_COMMENT:
        raise SilenceCommandError("comment", f"longer than {MAX_COMMENT} characters")
    return SilenceRequest(matchers, starts_at, starts_at + length, comment)


def _start(text: str, *, now: datetime) -> datetime:
    if text.startswith("+"):
        try:
            return now + parse_duration(text[1:])
        except ValueError as exc:
            raise SilenceCommandError("starting", str(exc)) from None
    raw = text.upper().replace("Z", "+00:00")
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise SilenceCommandError(
            "starting",
            f"{code_span(text)} is not `+<duration>` or a time like `2026-11-22T02:00+01:00`",
        ) from None
    if when.tzinfo is None:
        raise SilenceCommandError(
            "starting",
            f"{code_span(text)} needs a UTC offset (like `+01:00`) or `Z`, to be unambiguous",
        )
    if when < now - timedelta(minutes=1):
        raise SilenceCommandError("starting", f"{code_span(text)} is in the past")
    if when - now > MAX_AHEAD:
        raise SilenceCommandError("starting", f"{code_span(text)} is more than 90 days ahead")
    return max(when, now)
