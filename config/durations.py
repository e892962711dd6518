"""Durations written as ``30s``, ``5m``, ``4h``, ``1d`` or ``1h30m``."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+)([smhdw])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: object) -> int:
    """Seconds in ``value``; raise ``ValueError`` with a message fit for the operator."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration (write it like 30s, 5m, 4h or 1d)")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{value} is negative; a duration must be 0 or more")
        return value
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a duration (write it like 30s, 5m, 4h or 1d)")
    text = value.strip().lower()
    if text == "0":
        return 0
    pos, total = 0, 0
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        total += int(match.group(1)) * _SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError(f'"{value}" is not a duration (write it like 30s, 5m, 4h or 1d)')
    return total


def format_duration(seconds: int) -> str:
    if seconds == 0:
        return "0s"
    out = []
    for unit in ("d", "h", "m", "s"):
        size = _SECONDS[unit]
        if seconds >= size:
            out.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(out)
