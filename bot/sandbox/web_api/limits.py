"""Block Kit limits the fake Web API enforces, answering as Slack does when one is broken.

A message: `text` or `blocks` (`no_text`), text ≤ 40,000 (`msg_too_long`), ≤ 50 blocks. A modal:
≤ 100 blocks, title/submit/close ≤ 24, `submit` needed when there are inputs. Blocks and their
elements: the per-field limits of Slack's Block Kit reference (a useful subset, below). Broken
blocks give `invalid_blocks` (messages) or `invalid_arguments` (views) with one error per problem
in Slack's style: "must be less than 3001 characters [json-pointer:/blocks/0/text/text]".
"""

from __future__ import annotations

from typing import Any

from bot.sandbox.workspace.models import JSON, ApiError

MESSAGE_TEXT_MAX = 40_000
MESSAGE_BLOCKS_MAX = 50
MODAL_BLOCKS_MAX = 100
ID_MAX = 255  # block_id, action_id, callback_id, external_id

# (field, max characters) for the text objects of each block type.
_BLOCK_TEXTS: dict[str, tuple[tuple[str, int], ...]] = {
    "section": (("text", 3000),),
    "header": (("text", 150),),
    "input": (("label", 2000), ("hint", 2000)),
    "image": (("title", 2000),),
}
_ELEMENT_TEXTS: dict[str, tuple[tuple[str, int], ...]] = {
    "button": (("text", 75),),
    "static_select": (("placeholder", 150),),
    "multi_static_select": (("placeholder", 150),),
    "users_select": (("placeholder", 150),),
    "multi_users_select": (("placeholder", 150),),
    "conversations_select": (("placeholder", 150),),
    "channels_select": (("placeholder", 150),),
    "external_select": (("placeholder", 150),),
    "plain_text_input": (("placeholder", 150),),
    "datepicker": (("placeholder", 150),),
    "timepicker": (("placeholder", 150),),
}
_OPTION_LISTS = {"overflow": 5, "checkboxes": 10, "radio_buttons": 10}
_KNOWN_BLOCKS = {
    "section", "header", "context", "divider", "actions", "input", "image", "rich_text",
    "markdown", "video", "file",
}  # fmt: skip


class _Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, message: str, pointer: str) -> None:
        self.errors.append(f"{message} [json-pointer:{pointer}]")

    def length(self, value: object, limit: int, pointer: str) -> None:
        if not isinstance(value, str):
            self.fail("must be a string", pointer)
        elif len(value) > limit:
            self.fail(f"must be less than {limit + 1} characters", pointer)

    def items(self, value: object, limit: int, pointer: str, *, minimum: int = 0) -> list[Any]:
        if not isinstance(value, list):
            self.fail("must be an array", pointer)
            return []
        if len(value) > limit:
            self.fail(f"no more than {limit} items allowed", pointer)
        elif len(value) < minimum:
            self.fail(f"must provide at least {minimum} items", pointer)
        return value

    def text(self, obj: object, limit: int, pointer: str, *, plain: bool = False) -> None:
        if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
            self.fail("must be a text object (plain_text or mrkdwn)", pointer)
            return
        if plain and obj["type"] != "plain_text":
            self.fail("must be a plain_text text object", f"{pointer}/type")
        self.length(obj.get("text"), limit, f"{pointer}/text")
        if isinstance(obj.get("text"), str) and not obj["text"]:
            self.fail("must be at least 1 characters", f"{pointer}/text")

    def option(self, obj: object, pointer: str) -> None:
        if not isinstance(obj, dict):
            self.fail("must be an option object", pointer)
            return
        self.text(obj.get("text"), 75, f"{pointer}/text")
        self.length(obj.get("value"), 150, f"{pointer}/value")
        if "description" in obj:
            self.text(obj["description"], 75, f"{pointer}/description")

    def element(self, el: object, pointer: str) -> None:
        if not isinstance(el, dict) or not isinstance(el.get("type"), str):
            self.fail("missing required field: type", pointer)
            return
        kind = el["type"]
        if "action_id" in el:
            self.length(el["action_id"], ID_MAX, f"{pointer}/action_id")
        for name, limit in _ELEMENT_TEXTS.get(kind, ()):
            if name in el:
                self.text(el[name], limit, f"{pointer}/{name}", plain=True)
        if kind == "button":
            if "text" not in el:
                self.fail("missing required field: text", pointer)
            if "value" in el:
                self.length(el["value"], 2000, f"{pointer}/value")
            if "url" in el:
                self.length(el["url"], 3000, f"{pointer}/url")
            if el.get("style") not in (None, "primary", "danger"):
                self.fail("must be one of primary, danger", f"{pointer}/style")
        elif kind in ("static_select", "multi_static_select") and "option_groups" not in el:
            options = self.items(el.get("options"), 100, f"{pointer}/options", minimum=1)
            for i, opt in enumerate(options):
                self.option(opt, f"{pointer}/options/{i}")
        elif kind in _OPTION_LISTS:
            limit = _OPTION_LISTS[kind]
            options = self.items(el.get("options"), limit, f"{pointer}/options", minimum=1)
            for i, opt in enumerate(options):
                self.option(opt, f"{pointer}/options/{i}")
        elif kind == "plain_text_input" and el.get("max_length", 1) not in range(1, 3001):
            self.fail("must be between 1 and 3000", f"{pointer}/max_length")

    def block(self, block: object, pointer: str, block_ids: set[str]) -> None:
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            self.fail("missing required field: type", pointer)
            return
        kind = block["type"]
        if kind not in _KNOWN_BLOCKS:
            self.fail(f"unsupported type: {kind}", f"{pointer}/type")
            return
        if "block_id" in block:
            self.length(block["block_id"], ID_MAX, f"{pointer}/block_id")
            if block["block_id"] in block_ids:
                self.fail("duplicate block_id", f"{pointer}/block_id")
            block_ids.add(str(block["block_id"]))
        for name, limit in _BLOCK_TEXTS.get(kind, ()):
            if name in block:
                self.text(block[name], limit, f"{pointer}/{name}", plain=kind != "section")
        if kind == "header" and "text" not in block:
            self.fail("missing required field: text", pointer)
        elif kind == "section":
            if "text" not in block and "fields" not in block:
                self.fail("must provide either text or fields", pointer)
            fields = self.items(block.get("fields", []), 10, f"{pointer}/fields")
            for i, field in enumerate(fields):
                self.text(field, 2000, f"{pointer}/fields/{i}")
            if "accessory" in block:
                self.element(block["accessory"], f"{pointer}/accessory")
        elif kind == "context":
            for i, el in enumerate(
                self.items(block.get("elements"), 10, f"{pointer}/elements", minimum=1)
            ):
                if isinstance(el, dict) and el.get("type") in ("plain_text", "mrkdwn"):
                    self.text(el, 3000, f"{pointer}/elements/{i}")
        elif kind == "actions":
            for i, el in enumerate(
                self.items(block.get("elements"), 25, f"{pointer}/elements", minimum=1)
            ):
                self.element(el, f"{pointer}/elements/{i}")
        elif kind == "input":
            if "label" not in block:
                self.fail("missing required field: label", pointer)
            if "element" not in block:
                self.fail("missing required field: element", pointer)
            else:
                self.element(block["element"], f"{pointer}/element")

    def blocks(self, blocks: object, limit: int, pointer: str) -> None:
        block_ids: set[str] = set()
        for i, block in enumerate(self.items(blocks, limit, pointer)):
            self.block(block, f"{pointer}/{i}", block_ids)


def block_errors(
    blocks: object, *, max_blocks: int = MESSAGE_BLOCKS_MAX, pointer: str = "/blocks"
) -> list[str]:
    """Every limit `blocks` breaks, each as Slack words it; empty when all is well."""
    checker = _Checker()
    checker.blocks(blocks, max_blocks, pointer)
    return checker.errors


def check_message(*, text: object, blocks: object, attachments: object = None) -> None:
    """Raise ApiError (no_text, msg_too_long, invalid_blocks) as chat.postMessage would."""
    if not text and not blocks and not attachments:
        raise ApiError("no_text")
    if text is not None and not isinstance(text, str):
        raise ApiError("invalid_arguments", messages=["must be a string [json-pointer:/text]"])
    if text is not None and len(text) > MESSAGE_TEXT_MAX:
        raise ApiError("msg_too_long")
    if blocks is not None:
        if not isinstance(blocks, list):
            raise ApiError("invalid_blocks_format")
        errors = block_errors(blocks)
        if errors:
            raise ApiError("invalid_blocks", messages=errors)


def check_view(view: object) -> JSON:
    """Return `view` if valid, else raise ApiError (invalid_arguments) as views.open would."""
    checker = _Checker()
    if not isinstance(view, dict):
        raise ApiError("invalid_arguments", messages=["must be an object [json-pointer:/view]"])
    if view.get("type") != "modal":
        checker.fail("must be modal", "/view/type")
    if "title" not in view:
        checker.fail("missing required field: title", "/view")
    for name in ("title", "submit", "close"):
        if view.get(name) is not None:
            checker.text(view[name], 24, f"/view/{name}", plain=True)
    for name, limit in (
        ("callback_id", ID_MAX),
        ("external_id", ID_MAX),
        ("private_metadata", 3000),
    ):
        if name in view:
            checker.length(view[name], limit, f"/view/{name}")
    checker.blocks(view.get("blocks"), MODAL_BLOCKS_MAX, "/view/blocks")
    blocks = view.get("blocks") if isinstance(view.get("blocks"), list) else []
    has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks or [])
    if has_input and view.get("submit") is None:
        checker.fail("must provide submit when the view has input blocks", "/view/submit")
    if checker.errors:
        raise ApiError("invalid_arguments", messages=checker.errors)
    return view
