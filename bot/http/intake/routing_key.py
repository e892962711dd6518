"""PagerDuty's ``routing_key`` (an integration's token, sent in the body) found without
decoding the body, and taken out of the body before it is stored.

Decoding and checking a 1 MiB body costs ~100 times what refusing a wrong header token does,
and the body is the only place a PagerDuty sender puts its key: so the key is looked for
first, by a byte search for the member name, and a body with no right key is refused before
it is decoded. The search is only a gate: the decoded body's top-level ``routing_key`` is
checked afterwards as before, so a right key hidden in a detail opens nothing.

The member name must be written plainly (``"routing_key"``, as every sender writes it; its
value may use escapes), and only the first :data:`MAX_CANDIDATES` occurrences count, so a body
holding the name 40,000 times costs no more than one holding it once.
"""

from __future__ import annotations

import json
import re

MAX_CANDIDATES = 16
REDACTED = "[redacted]"
_NAME = b'"routing_key"'
# the value: a JSON string of at most 1,024 characters (or escapes), right after the colon
_VALUE = re.compile(rb'[ \t\r\n]*:[ \t\r\n]*("(?:[^"\\\x00-\x1f]|\\.){0,1024}")')


def routing_keys(body: bytes) -> list[str]:
    """The string values of the first :data:`MAX_CANDIDATES` ``"routing_key"`` members in
    ``body``, wherever they are; the body is not decoded."""
    found: list[str] = []
    start = 0
    for _ in range(MAX_CANDIDATES):
        at = body.find(_NAME, start)
        if at < 0:
            break
        start = at + len(_NAME)
        value = _VALUE.match(body, start)
        if value is None:
            continue
        try:
            key = json.loads(value.group(1))
        except ValueError:  # a bad escape or bad UTF-8: not a key
            continue
        if isinstance(key, str):
            found.append(key)
    return found


def redacted(payload: dict[str, object]) -> tuple[dict[str, object], bytes]:
    """``payload`` with its ``routing_key`` replaced by :data:`REDACTED` (the key is a token;
    the inbox keeps bodies for days), and as the JSON body to store. Members keep their order
    and their values, so the stored body parses to the same events."""
    clean = {**payload, "routing_key": REDACTED}
    return clean, json.dumps(clean, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
