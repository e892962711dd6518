"""PagerDuty routing keys found without decoding the body, and redacted before storing."""

from __future__ import annotations

import json

from bot.http.intake.routing_key import MAX_CANDIDATES, REDACTED, redacted, routing_keys


def test_keys_are_found_wherever_they_are_with_escapes_decoded() -> None:
    body = b'{"a": {"routing_key" :\n "inner"}, "routing_key": "k\\u00e9y"}'

    assert routing_keys(body) == ["inner", "k\u00e9y"]


def test_what_is_not_a_string_member_is_no_key() -> None:
    body = b'{"note": "routing_key", "routing_key": 5, "x": "\\"routing_key\\": \\"no\\""}'

    assert routing_keys(body) == []


def test_only_the_first_candidates_are_read() -> None:
    body = ", ".join(f'{{"routing_key": "k{i}"}}' for i in range(1000)).encode()

    assert routing_keys(body) == [f"k{i}" for i in range(MAX_CANDIDATES)]


def test_a_bad_escape_or_a_very_long_value_is_no_key() -> None:
    assert routing_keys(b'{"routing_key": "\\ud800\\x"}') == []
    assert routing_keys(b'{"routing_key": "' + b"a" * 2000 + b'"}') == []


def test_redacted_keeps_every_other_member_in_order() -> None:
    payload: dict[str, object] = {"event_action": "trigger", "routing_key": "secret", "n": 1.5}

    clean, body = redacted(payload)

    assert list(clean) == ["event_action", "routing_key", "n"]
    assert json.loads(body) == {"event_action": "trigger", "routing_key": REDACTED, "n": 1.5}
    assert b"secret" not in body
    assert payload["routing_key"] == "secret"  # the caller's dict is left alone
