"""The Block Kit limits the sandbox's fake Slack enforces, worded as Slack words them."""

from __future__ import annotations

from typing import Any

import pytest

from bot.sandbox.web_api.limits import block_errors, check_message, check_view
from bot.sandbox.workspace.models import ApiError


def section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(text: str = "Ack", **extra: Any) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": "a",
        **extra,
    }


def modal(**extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Resolve"},
        "blocks": [],
        **extra,
    }


def plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def test_valid_message_blocks_have_no_errors() -> None:
    blocks = [
        {"type": "header", "text": plain("DB down")},
        section("*bold* _it_", accessory=button()),
        {"type": "divider"},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "source"}]},
        {"type": "actions", "elements": [button("Ack", value="v", style="primary")]},
    ]
    assert block_errors(blocks) == []
    check_message(text="fallback", blocks=blocks)


def test_message_needs_text_or_blocks() -> None:
    with pytest.raises(ApiError) as raised:
        check_message(text=None, blocks=None)
    assert raised.value.error == "no_text"
    check_message(text="", blocks=[section("x")])
    check_message(text="x", blocks=None)


def test_message_text_over_40000_chars_is_msg_too_long() -> None:
    check_message(text="x" * 40_000, blocks=None)
    with pytest.raises(ApiError) as raised:
        check_message(text="x" * 40_001, blocks=None)
    assert raised.value.error == "msg_too_long"


def test_more_than_50_blocks_in_a_message_is_invalid_blocks() -> None:
    assert block_errors([{"type": "divider"}] * 50) == []
    with pytest.raises(ApiError) as raised:
        check_message(text="x", blocks=[{"type": "divider"}] * 51)
    assert raised.value.error == "invalid_blocks"
    assert raised.value.messages == ["no more than 50 items allowed [json-pointer:/blocks]"]
    body = raised.value.to_body()
    assert body["ok"] is False
    assert body["errors"] == raised.value.messages
    assert body["response_metadata"]["messages"][0].startswith("[ERROR] ")


def test_section_text_over_3000_chars_names_the_field() -> None:
    assert block_errors([section("x" * 3000)]) == []
    assert block_errors([section("ok"), section("x" * 3001)]) == [
        "must be less than 3001 characters [json-pointer:/blocks/1/text/text]"
    ]


def test_header_text_is_plain_and_at_most_150_chars() -> None:
    assert block_errors([{"type": "header", "text": plain("x" * 150)}]) == []
    assert block_errors([{"type": "header", "text": plain("x" * 151)}]) == [
        "must be less than 151 characters [json-pointer:/blocks/0/text/text]"
    ]
    mrkdwn_header = {"type": "header", "text": {"type": "mrkdwn", "text": "x"}}
    assert block_errors([mrkdwn_header]) == [
        "must be a plain_text text object [json-pointer:/blocks/0/text/type]"
    ]


def test_context_holds_at_most_10_elements() -> None:
    elements = [{"type": "mrkdwn", "text": "x"}] * 11
    assert block_errors([{"type": "context", "elements": elements}]) == [
        "no more than 10 items allowed [json-pointer:/blocks/0/elements]"
    ]


def test_section_holds_at_most_10_fields() -> None:
    fields = [{"type": "mrkdwn", "text": "x"}] * 11
    errors = block_errors([{"type": "section", "fields": fields}])
    assert errors == ["no more than 10 items allowed [json-pointer:/blocks/0/fields]"]


def test_actions_hold_at_most_25_elements() -> None:
    assert block_errors([{"type": "actions", "elements": [button()] * 25}]) == []
    errors = block_errors([{"type": "actions", "elements": [button()] * 26}])
    assert errors == ["no more than 25 items allowed [json-pointer:/blocks/0/elements]"]


def test_button_text_value_and_action_id_limits() -> None:
    bad = button("x" * 76, value="v" * 2001, action_id="a" * 256)
    errors = block_errors([{"type": "actions", "elements": [bad]}])
    assert sorted(errors) == sorted(
        [
            "must be less than 256 characters [json-pointer:/blocks/0/elements/0/action_id]",
            "must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]",
            "must be less than 2001 characters [json-pointer:/blocks/0/elements/0/value]",
        ]
    )


def test_button_style_must_be_primary_or_danger() -> None:
    errors = block_errors([{"type": "actions", "elements": [button(style="green")]}])
    assert errors == ["must be one of primary, danger [json-pointer:/blocks/0/elements/0/style]"]


def test_block_id_at_most_255_chars_and_unique() -> None:
    errors = block_errors([section("a", block_id="b" * 256)])
    assert errors == ["must be less than 256 characters [json-pointer:/blocks/0/block_id]"]
    errors = block_errors([section("a", block_id="same"), section("b", block_id="same")])
    assert errors == ["duplicate block_id [json-pointer:/blocks/1/block_id]"]


def test_option_text_at_most_75_chars() -> None:
    select = {
        "type": "static_select",
        "action_id": "snooze",
        "options": [{"text": plain("x" * 76), "value": "1h"}],
    }
    errors = block_errors([{"type": "actions", "elements": [select]}])
    assert errors == [
        "must be less than 76 characters [json-pointer:/blocks/0/elements/0/options/0/text/text]"
    ]


def test_overflow_holds_at_most_5_options() -> None:
    option = {"text": plain("x"), "value": "x"}
    overflow = {"type": "overflow", "action_id": "more", "options": [option] * 6}
    errors = block_errors([{"type": "actions", "elements": [overflow]}])
    assert errors == ["no more than 5 items allowed [json-pointer:/blocks/0/elements/0/options]"]


def test_unknown_block_type_is_rejected() -> None:
    assert block_errors([{"type": "carousel"}]) == [
        "unsupported type: carousel [json-pointer:/blocks/0/type]"
    ]


def test_blocks_that_are_not_a_list_are_invalid_blocks_format() -> None:
    with pytest.raises(ApiError) as raised:
        check_message(text="x", blocks={"type": "divider"})
    assert raised.value.error == "invalid_blocks_format"


def test_valid_modal_passes() -> None:
    view = modal(
        submit=plain("Resolve"),
        close=plain("Cancel"),
        callback_id="resolve",
        blocks=[
            {
                "type": "input",
                "block_id": "note",
                "label": plain("Note"),
                "element": {"type": "plain_text_input", "action_id": "v", "multiline": True},
            }
        ],
    )
    assert check_view(view) is view


def test_modal_title_submit_and_close_at_most_24_chars() -> None:
    view = modal(title=plain("x" * 25), submit=plain("y" * 25), close=plain("z" * 25))
    with pytest.raises(ApiError) as raised:
        check_view(view)
    assert raised.value.error == "invalid_arguments"
    assert raised.value.messages == [
        "must be less than 25 characters [json-pointer:/view/title/text]",
        "must be less than 25 characters [json-pointer:/view/submit/text]",
        "must be less than 25 characters [json-pointer:/view/close/text]",
    ]


def test_modal_holds_up_to_100_blocks() -> None:
    check_view(modal(blocks=[{"type": "divider"}] * 100))
    with pytest.raises(ApiError) as raised:
        check_view(modal(blocks=[{"type": "divider"}] * 101))
    assert raised.value.messages == ["no more than 100 items allowed [json-pointer:/view/blocks]"]


def test_input_label_at_most_2000_chars() -> None:
    block = {
        "type": "input",
        "label": plain("x" * 2001),
        "element": {"type": "plain_text_input", "action_id": "v"},
    }
    with pytest.raises(ApiError) as raised:
        check_view(modal(submit=plain("OK"), blocks=[block]))
    assert raised.value.messages == [
        "must be less than 2001 characters [json-pointer:/view/blocks/0/label/text]"
    ]


def test_modal_with_inputs_needs_a_submit_button() -> None:
    block = {"type": "input", "label": plain("Note"), "element": {"type": "plain_text_input"}}
    with pytest.raises(ApiError) as raised:
        check_view(modal(blocks=[block]))
    assert raised.value.messages == [
        "must provide submit when the view has input blocks [json-pointer:/view/submit]"
    ]


def test_private_metadata_at_most_3000_chars() -> None:
    with pytest.raises(ApiError) as raised:
        check_view(modal(private_metadata="x" * 3001))
    assert raised.value.messages == [
        "must be less than 3001 characters [json-pointer:/view/private_metadata]"
    ]
