"""Reading Slack payloads without trusting their shape.

``envelope_problem`` refuses, before Bolt parses it, a signed body whose outer shape Bolt
itself would crash on (a payload that is not an object, an event that is not an object,
actions that are not objects). ``dig``/``text_at`` read nested values that may be missing or
of another type than expected.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs


def dig(value: object, *keys: str | int) -> object:
    """``value[k1][k2]…``, or ``None`` where a step is missing or of the wrong type."""
    for key in keys:
        if isinstance(key, str) and isinstance(value, dict):
            value = value.get(key)
        elif isinstance(key, int) and isinstance(value, list) and -len(value) <= key < len(value):
            value = value[key]
        else:
            return None
    return value


def text_at(value: object, *keys: str | int) -> str:
    """The string at ``keys``, or ``""``."""
    found = dig(value, *keys)
    return found if isinstance(found, str) else ""


def envelope_problem(body: str, content_type: str) -> str | None:
    """What is wrong with the outer shape of a (signed) Slack request body, if anything."""
    if content_type.split(";")[0].strip().lower() == "application/json":
        return _json_problem(body)
    form = parse_qs(body, keep_blank_values=True)
    if "payload" not in form:
        return None  # a slash command (or ssl_check): form fields are strings
    try:
        payload: Any = json.loads(form["payload"][0])
    except ValueError:
        return "payload is not JSON"
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        return "payload is not an object with a type"
    kind = payload["type"]
    acts = kind in ("block_actions", "view_submission", "view_closed")
    if (acts or "user" in payload) and not isinstance(dig(payload, "user", "id"), str):
        return "payload.user.id is not a string"
    actions = payload.get("actions", [])
    if not isinstance(actions, list) or not all(isinstance(a, dict) for a in actions):
        return "payload.actions is not a list of objects"
    if kind == "block_actions" and not (actions and isinstance(payload.get("trigger_id"), str)):
        return "block_actions without actions or trigger_id"
    if kind in ("view_submission", "view_closed") and not isinstance(
        dig(payload, "view", "id"), str
    ):
        return "payload.view.id is not a string"
    for key in ("view", "container", "channel", "message", "team"):
        if key in payload and not isinstance(payload[key], dict | None):
            return f"payload.{key} is not an object"
    if isinstance(payload.get("view"), dict):
        state = payload["view"].get("state")
        if state is not None and not isinstance(dig(state, "values"), dict):
            return "payload.view.state.values is not an object"
    return None


def _json_problem(body: str) -> str | None:
    try:
        envelope: Any = json.loads(body)
    except ValueError:
        return "body is not JSON"
    if not isinstance(envelope, dict) or not isinstance(envelope.get("type"), str):
        return "body is not an object with a type"
    if envelope["type"] == "event_callback" and not isinstance(envelope.get("event"), dict):
        return "event is not an object"
    if "event" in envelope and not isinstance(envelope["event"], dict):
        return "event is not an object"
    return None
