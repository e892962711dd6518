"""Label matchers in Alertmanager's syntax: parsing (with errors that name the matcher) and
matching."""

from __future__ import annotations

import pytest

from escalation.noise.label_matchers import Matcher, MatcherError, Op, describe, parse_matchers


def test_parses_the_four_operators_in_order() -> None:
    found = parse_matchers("service=db,env=~prod.*,team!=web,host!~canary-.*")
    assert found == (
        Matcher("service", Op.EQUAL, "db"),
        Matcher("env", Op.REGEX, "prod.*"),
        Matcher("team", Op.NOT_EQUAL, "web"),
        Matcher("host", Op.NOT_REGEX, "canary-.*"),
    )


def test_quoted_values_keep_commas_and_spaces_and_braces_are_accepted() -> None:
    found = parse_matchers('{summary="disk, full", job="a \\"b\\""}')
    assert found == (Matcher("summary", Op.EQUAL, "disk, full"), Matcher("job", Op.EQUAL, 'a "b"'))


def test_describe_round_trips_through_the_parser() -> None:
    matchers = parse_matchers('summary="disk, full",env=~prod.*')
    assert parse_matchers(describe(matchers)) == matchers


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"service": "db", "env": "prod-eu"}, True),
        ({"service": "db", "env": "preprod"}, False),  # regexes match the whole value
        ({"service": "dbx", "env": "prod"}, False),
        ({"service": "db"}, False),  # a missing label is ""
    ],
)
def test_every_matcher_must_hold(values: dict[str, str], expected: bool) -> None:
    matchers = parse_matchers("service=db,env=~prod.*")
    assert all(m.matches(values) for m in matchers) is expected


def test_negative_matchers_match_a_missing_label() -> None:
    [_, matcher] = parse_matchers("service=db,env!=prod")
    assert matcher.matches({})
    assert not matcher.matches({"env": "prod"})


@pytest.mark.parametrize(
    ("text", "field", "problem"),
    [
        ("", "matchers", "give at least one matcher"),
        ("service", "matcher 1", "has no operator"),
        ("service=db,env", "matcher 2", "has no operator"),
        ("service=db,", "matcher 2", "is empty (trailing comma)"),
        ("9lives=db", "matcher 1", "is not a label name"),
        ("env=~prod(", "matcher 1", "is not a valid regular expression"),
        ('summary="disk', "matcher 1 (summary)", "no closing quote"),
        ('a="b"c', "matcher 1", "expected a comma"),
        ("env!=prod", "matchers", "would match every alert"),
    ],
)
def test_bad_matchers_name_the_matcher_and_the_problem(text: str, field: str, problem: str) -> None:
    with pytest.raises(MatcherError) as caught:
        parse_matchers(text)
    assert caught.value.field == field
    assert problem in caught.value.problem
