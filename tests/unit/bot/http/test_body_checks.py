"""Webhook bodies: every malformed body is refused with a status and a message naming the
problem; any bytes at all give either a JSON value or such a refusal, never another error."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.http.intake.body_checks import (
    MAX_DEPTH,
    BodyRefused,
    check_content_type,
    check_values,
    decode_json,
)
from tests.support.fuzz import fuzz, json_values, ran


def refusal(body: bytes) -> BodyRefused:
    with pytest.raises(BodyRefused) as caught:
        decode_json(body)
    return caught.value


def outcome(body: bytes) -> BodyRefused | None:
    try:
        decode_json(body)
    except BodyRefused as refused:
        return refused
    return None


def test_duplicate_keys_are_refused_naming_the_key() -> None:
    refused = refusal(b'{"title": "a", "labels": {"env": "x", "env": "y"}}')
    assert (refused.status, refused.reason) == (400, "duplicate_key")
    assert '"env"' in refused.message


def test_invalid_utf8_is_refused_naming_the_byte() -> None:
    refused = refusal(b'{"title": "caf\xe9"}')
    assert (refused.status, refused.reason) == (400, "not_utf8")
    assert "byte 14" in refused.message


def test_nesting_deeper_than_the_limit_is_refused_with_its_place() -> None:
    deep = b'{"a":' * (MAX_DEPTH + 1) + b"1" + b"}" * (MAX_DEPTH + 1)
    refused = refusal(deep)
    assert refused.reason == "too_deep"
    assert str(refused.field).startswith("a.a.a")
    assert decode_json(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None


def test_nesting_beyond_the_parsers_recursion_limit_is_refused_not_crashed() -> None:
    assert refusal(b"[" * 200_000).reason == "too_deep"


@pytest.mark.parametrize(
    "body",
    [b'{"v": NaN}', b'{"v": Infinity}', b'{"v": -Infinity}', b'{"v": 1e999}', b"9" * 5000],
)
def test_numbers_json_does_not_allow_or_python_cannot_hold_are_refused(body: bytes) -> None:
    assert refusal(body).reason == "bad_value"


@pytest.mark.parametrize(
    ("body", "field"),
    [(b'{"title": "a\\u0000b"}', "title"), (b'{"labels": {"\\ud800": "x"}}', "labels.\\ud800")],
)
def test_strings_no_database_accepts_are_refused_naming_the_field(body: bytes, field: str) -> None:
    refused = refusal(body)
    assert refused.reason == "bad_value"
    assert refused.field == field


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"\\u0000\\ud800": 1}', "\\x00\\ud800"),
        (b'{"a\\ud800": {"b\\u0000": 1}}', "a\\ud800"),
        (b'{"caf\xc3\xa9": "\\u0000"}', "caf\u00e9"),
        (b'{"\\u0000' + b"k" * 500 + b'": 1}', "\\x00" + "k" * 199),
    ],
)
def test_the_field_of_a_refusal_is_printable_and_short_whatever_the_key(
    body: bytes, field: str
) -> None:
    refused = refusal(body)
    assert refused.field == field
    json.dumps({"field": refused.field}, ensure_ascii=False).encode("utf-8")  # as answered


def test_paired_surrogate_escapes_are_ordinary_text() -> None:
    assert decode_json(b'{"t": "\\ud83d\\udd25"}') == {"t": "\U0001f525"}


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "application/json",
        "application/json; charset=utf-8",
        "application/vnd.alert+json",
        "text/plain",
        "Application/JSON; Charset=UTF8",
    ],
)
def test_json_content_types_are_accepted(header: str | None) -> None:
    check_content_type(header)


@pytest.mark.parametrize(
    ("header", "said"),
    [
        ("application/x-www-form-urlencoded", "application/x-www-form-urlencoded"),
        ("multipart/form-data; boundary=x", "multipart/form-data"),
        ("application/xml", "application/xml"),
        ("application/json; charset=latin-1", "latin-1"),
    ],
)
def test_other_content_types_are_415_naming_what_was_sent(header: str, said: str) -> None:
    with pytest.raises(BodyRefused) as caught:
        check_content_type(header)
    assert caught.value.status == 415
    assert said in caught.value.message


@fuzz(300)
@given(st.binary(max_size=300))
def test_any_bytes_decode_or_are_refused_with_a_4xx(body: bytes) -> None:
    ran("body_checks: arbitrary bytes")
    refused = outcome(body)
    if refused is not None:
        assert 400 <= refused.status < 500
        assert refused.message


@fuzz(300)
@given(json_values)
def test_any_json_value_within_the_limits_decodes_to_itself(value: object) -> None:
    ran("body_checks: JSON values")
    encoded = json.dumps(value).encode()
    refused = outcome(encoded)
    if refused is None:
        assert decode_json(encoded) == value
    else:  # only strings no database stores (NUL, lone surrogates)
        assert refused.reason == "bad_value"


def _nested(depth: int, leaf: object) -> object:
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


_tricky_text = st.sampled_from(["plain", "nul \x00 inside", "lone \ud800 surrogate", "\U0001f600"])
_tricky_values = st.builds(
    _nested, st.integers(0, MAX_DEPTH + 2), st.one_of(_tricky_text, st.integers(), st.none())
) | st.dictionaries(_tricky_text, _tricky_text, max_size=3)


@fuzz(300)
@given(_tricky_values)
def test_the_quick_check_refuses_exactly_what_the_full_walk_refuses(value: object) -> None:
    """decode_json skips the path-building walk when a quick pass finds nothing; both must
    agree on every value, at the depth limit and with every kind of bad string."""
    ran("body_checks: quick check against the full walk")
    encoded = json.dumps(value).encode()
    try:
        check_values(value)
        expected = None
    except BodyRefused as refused:
        expected = (refused.reason, refused.field)
    got = outcome(encoded)
    assert (None if got is None else (got.reason, got.field)) == expected
