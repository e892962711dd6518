"""Request ids made for requests that bring none: distinct, 16 hex digits, one process's
sharing its random half."""

from __future__ import annotations

import re

from bot.http.request_id import new_request_id


def test_new_request_ids_are_distinct_hex_of_sixteen_digits() -> None:
    made = [new_request_id() for _ in range(10_000)]
    assert len(set(made)) == len(made)
    assert all(re.fullmatch(r"[0-9a-f]{16}", rid) for rid in made)
    assert len({rid[:8] for rid in made}) == 1  # the process's half
