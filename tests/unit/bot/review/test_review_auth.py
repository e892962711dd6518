"""The review's session cookie (itsdangerous, on the service's clock): a signed-in cookie is a
session until it expires; anything else, however it was tampered with, is no session — never
an error (issue 15, item 3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.review.auth import ReviewAuth
from tests.support.fuzz import fuzz, ran

START = datetime(2026, 11, 10, 12, tzinfo=UTC)
TAMPERED = [
    "².x",  # a digit to str.isdigit, not to int()
    "³.x",
    "1767225600.é" + "a" * 63,  # a non-ASCII signature
    "9" * 5000 + ".x",  # an expiry int() refuses
    "9" * 400 + ".x",  # an expiry datetime cannot hold
    "",
    ".",
    "review",
    "review..",
    "review.\x00.\x00",
]


class MovableClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


TOKEN = "review-token-0123456789"


def auth(clock: MovableClock, token: str = TOKEN) -> ReviewAuth:
    return ReviewAuth(token=token, clock=clock, session_seconds=3600, secure=False)


def test_a_session_holds_until_it_expires_on_the_services_clock() -> None:
    clock = MovableClock()
    value, lifetime = auth(clock).new_session()
    assert lifetime == 3600
    assert value.isascii()
    assert not {";", " ", ",", '"'} & set(value)  # fits a cookie as is
    clock.now += timedelta(seconds=3599)
    assert auth(clock).session_ok(value)
    clock.now += timedelta(seconds=2)
    assert not auth(clock).session_ok(value)


def test_changing_the_token_ends_every_session() -> None:
    clock = MovableClock()
    value, _ = auth(clock).new_session()
    assert not auth(clock, token="another-token-0123456789").session_ok(value)


@pytest.mark.parametrize("value", TAMPERED)
def test_a_tampered_cookie_is_no_session_not_an_error(value: str) -> None:
    assert auth(MovableClock()).session_ok(value) is False


def test_a_cookie_changed_anywhere_is_no_session() -> None:
    clock = MovableClock()
    value, _ = auth(clock).new_session()
    for i, char in enumerate(value):
        for other in {"A", "0", "_", ".", "²"} - {char}:
            assert not auth(clock).session_ok(value[:i] + other + value[i + 1 :]), (i, other)


@fuzz(300)
@given(st.text(max_size=120) | st.from_regex(r"\A[\w.\-²³]{0,80}\Z"))
def test_any_cookie_text_is_a_yes_or_a_no(value: str) -> None:
    ran("review cookie")
    assert auth(MovableClock()).session_ok(value) is False
