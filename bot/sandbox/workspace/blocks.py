"""Walking Block Kit as Slack does: ids it fills in, and the interactive elements a user can use."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator
from typing import Any

from bot.sandbox.workspace.models import JSON, SandboxError

SELECTS = ("static_select", "overflow")


def _generated_id(index: int, item: object) -> str:
    digest = hashlib.sha1(
        f"{index}:{json.dumps(item, sort_keys=True)}".encode(), usedforsecurity=False
    )
    return digest.hexdigest()[:5]


def _element_ids(element: object, index: int) -> None:
    if not isinstance(element, dict) or "action_id" in element:
        return
    if element.get("type") not in (None, "plain_text", "mrkdwn", "image"):
        element["action_id"] = _generated_id(index, element)


def assign_ids(blocks: object) -> Any:
    """A copy of `blocks` where blocks lacking `block_id` and elements lacking `action_id` get
    short generated ones, as Slack stores them (and then sends them back in payloads)."""
    if not isinstance(blocks, list):
        return blocks
    result = copy.deepcopy(blocks)
    for index, block in enumerate(result):
        if not isinstance(block, dict):
            continue
        block.setdefault("block_id", _generated_id(index, block))
        for i, element in enumerate(block.get("elements") or []):
            if block.get("type") == "actions":
                _element_ids(element, i)
        _element_ids(block.get("accessory"), 0)
        _element_ids(block.get("element"), 0)
    return result


def interactive_elements(blocks: list[JSON]) -> Iterator[tuple[str, JSON]]:
    """(block_id, element) for every element a user can act on: actions and accessories."""
    for block in blocks:
        block_id = str(block.get("block_id", ""))
        if block.get("type") == "actions":
            for element in block.get("elements") or []:
                yield block_id, element
        elif isinstance(block.get("accessory"), dict):
            yield block_id, block["accessory"]


def find_element(
    blocks: list[JSON], action_id: str, *, types: tuple[str, ...], value: str | None = None
) -> tuple[str, JSON]:
    """The (block_id, element) with `action_id` (and, for buttons, `value` when given)."""
    found = [
        (block_id, el)
        for block_id, el in interactive_elements(blocks)
        if el.get("action_id") == action_id
    ]
    if not found:
        known = sorted({str(el.get("action_id")) for _, el in interactive_elements(blocks)})
        raise SandboxError(f"no element with action_id {action_id!r} (there are: {known})")
    typed = [(b, el) for b, el in found if el.get("type") in types]
    if not typed:
        raise SandboxError(f"{action_id!r} is a {found[0][1].get('type')}, not one of {types}")
    if value is not None and "button" in types:
        typed = [(b, el) for b, el in typed if el.get("value") == value]
        if not typed:
            raise SandboxError(f"no {action_id!r} button has the value {value!r}")
    return typed[0]


def find_option(element: JSON, value: str) -> JSON:
    """The option of a select, overflow, radio or checkbox element that has `value`."""
    options: list[JSON] = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    for option in options:
        if option.get("value") == value:
            return option
    values = [o.get("value") for o in options]
    raise SandboxError(f"{element.get('action_id')!r} has no option {value!r} (has: {values})")


def input_blocks(blocks: list[JSON]) -> Iterator[tuple[str, JSON, JSON]]:
    """(block_id, block, element) of each input block of a view."""
    for block in blocks:
        if block.get("type") == "input" and isinstance(block.get("element"), dict):
            yield str(block.get("block_id", "")), block, block["element"]


def input_state(element: JSON, value: str | None) -> JSON:
    """The `state.values[block_id][action_id]` entry Slack sends for an input element."""
    kind = str(element.get("type"))
    state: JSON = {"type": kind}
    if kind in ("static_select", "radio_buttons"):
        state["selected_option"] = find_option(element, value) if value else None
    elif kind == "users_select":
        state["selected_user"] = value or None
    elif kind == "conversations_select":
        state["selected_conversation"] = value or None
    elif kind == "channels_select":
        state["selected_channel"] = value or None
    elif kind in ("checkboxes", "multi_static_select"):
        chosen = [v for v in (value or "").split(",") if v]
        state["selected_options"] = [find_option(element, v) for v in chosen]
    elif kind == "multi_users_select":
        state["selected_users"] = [v for v in (value or "").split(",") if v]
    elif kind == "datepicker":
        state["selected_date"] = value or None
    elif kind == "timepicker":
        state["selected_time"] = value or None
    else:  # plain_text_input and the other text inputs
        state["value"] = value if value not in (None, "") else None
    return state


def plain(text_object: object) -> str:
    """The text of a text object ("" if absent)."""
    return str(text_object.get("text", "")) if isinstance(text_object, dict) else ""
