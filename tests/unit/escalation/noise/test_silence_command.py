"""``/tocsin silence <matchers> <duration> [starting <when>] <comment>``: what it means, and
errors that say which part is wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from escalation.noise.label_matchers import Matcher, Op
from escalation.noise.silence_command import (
    SilenceCommandError,
    format_duration,
    parse_duration,
    parse_silence_command,
)

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def test_the_example_of_the_issue() -> None:
    request = parse_silence_command("service=db,env=~prod.* 2h upgrading", now=NOW)
    assert request.matchers == (
        Matcher("service", Op.EQUAL, "db"),
        Matcher("env", Op.REGEX, "prod.*"),
    )
    assert (request.starts_at, request.ends_at) == (NOW, NOW + timedelta(hours=2))
    assert request.comment == "upgrading"


def test_a_comment_of_several_words_and_a_quoted_matcher_value() -> None:
    request = parse_silence_command('summary="disk full" 1h30m resize the  volume', now=NOW)
    assert request.matchers == (Matcher("summary", Op.EQUAL, "disk full"),)
    assert request.ends_at == NOW + timedelta(minutes=90)
    assert request.comment == "resize the volume"


def test_a_maintenance_window_starting_later_by_offset_or_by_time() -> None:
    later = parse_silence_command("service=db 1h starting +3h failover test", now=NOW)
    assert (later.starts_at, later.ends_at) == (NOW + timedelta(hours=3), NOW + timedelta(hours=4))
    at = parse_silence_command(
        "service=db 2h starting 2026-11-22T02:00+01:00 kernel upgrade", now=NOW
    )
    assert at.starts_at == datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
    assert at.ends_at == datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    assert at.comment == "kernel upgrade"
    zulu = parse_silence_command("service=db 2h starting 2026-11-22T01:00Z x", now=NOW)
    assert zulu.starts_at == at.starts_at


@pytest.mark.parametrize(
    ("text", "field", "problem"),
    [
        ("", "matchers", "missing"),
        ("service", "matcher 1", "has no operator"),
        ("service=db", "duration", "missing"),
        ("service=db soon fix", "duration", "is not a duration"),
        ("service=db 0m fix", "duration", "is not a positive duration"),
        ("service=db 31d fix", "duration", "longer than the 30d allowed"),
        ("service=db 2h", "comment", "missing"),
        ("service=db 2h starting", "starting", "give a time"),
        ("service=db 2h starting tomorrow x", "starting", "is not `+<duration>` or a time"),
        ("service=db 2h starting 2026-11-22T02:00 x", "starting", "needs a UTC offset"),
        ("service=db 2h starting 2026-11-20T02:00Z x", "starting", "is in the past"),
        ("service=db 2h starting +1x x", "starting", "is not a duration"),
        ("service=db 2h starting 2027-06-01T00:00Z x", "starting", "more than 90 days ahead"),
        ("service=db 2h " + "x" * 501, "comment", "longer than 500"),
    ],
)
def test_errors_name_the_part_and_the_problem(text: str, field: str, problem: str) -> None:
    with pytest.raises(SilenceCommandError) as caught:
        parse_silence_command(text, now=NOW)
    assert caught.value.field == field
    assert problem in caught.value.problem


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30m", 1800), ("2h", 7200), ("1h30m", 5400), ("1d", 86400), ("1w", 604800)],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)
    assert parse_duration(format_duration(timedelta(seconds=seconds))) == timedelta(seconds=seconds)
