"""Calendar feed tokens: one per feed and generation, refused when wrong or missing."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from bot.schedule.feeds import Feed
from bot.schedule.tokens import feed_token, subscribe_url, token_matches

KEY = bytes(range(32))
PRIMARY = Feed("rotation", "ops-primary")


def test_a_token_is_the_same_for_the_same_key_feed_and_generation() -> None:
    token = feed_token(KEY, PRIMARY, 0)
    assert token == feed_token(KEY, Feed("rotation", "ops-primary"), 0)
    assert len(token) == 32
    assert token_matches(token, KEY, PRIMARY, 0)


@pytest.mark.parametrize(
    ("key", "feed", "generation"),
    [
        (bytes(32), PRIMARY, 0),  # another key
        (KEY, Feed("rotation", "ops-secondary"), 0),
        (KEY, Feed("person", "ops-primary"), 0),  # a person feed of the same name
        (KEY, PRIMARY, 1),  # after a rotation
    ],
)
def test_a_token_opens_only_its_own_feed_and_generation(
    key: bytes, feed: Feed, generation: int
) -> None:
    token = feed_token(KEY, PRIMARY, 0)
    assert feed_token(key, feed, generation) != token
    assert not token_matches(token, key, feed, generation)


@pytest.mark.parametrize("given", [None, "", "x", "é" * 32, "\ud800"])
def test_a_missing_or_malformed_token_is_refused(given: str | None) -> None:
    assert not token_matches(given, KEY, PRIMARY, 0)


def test_the_subscribe_url_carries_the_token_in_its_query() -> None:
    token = feed_token(KEY, PRIMARY, 3)
    url = subscribe_url("https://tocsin.example.com/", Feed("rotation", "a b/c"), token)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", "tocsin.example.com")
    assert parts.path == "/calendar/rotations/a%20b%2Fc.ics"
    assert parse_qs(parts.query) == {"token": [token]}
