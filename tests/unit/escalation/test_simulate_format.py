"""Offsets in `policy simulate`: seconds shown when there are some, never rounded away."""

from __future__ import annotations

from datetime import timedelta

import pytest

from escalation.simulate import format_offset


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "+0m"),
        (8, "+8s"),
        (90, "+1m30s"),
        (600, "+10m"),
        (3900, "+1h05m"),
        (3908, "+1h05m08s"),
    ],
)
def test_offsets_keep_their_seconds(seconds: int, shown: str) -> None:
    assert format_offset(timedelta(seconds=seconds)) == shown
