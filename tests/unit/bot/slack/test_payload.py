"""Slack payloads read without trusting their shape."""

from __future__ import annotations

import json
import urllib.parse

import pytest

from bot.slack.payload import dig, envelope_problem, text_at


def test_dig_and_text_at_give_nothing_where_the_shape_differs() -> None:
    body = {"view": {"state": {"values": {"b": {"a": {"value": "note"}}}}}, "actions": [{"x": 1}]}
    assert text_at(body, "view", "state", "values", "b", "a", "value") == "note"
    assert dig(body, "actions", 0, "x") == 1
    assert dig(body, "actions", 5) is None
    assert dig({"view": None}, "view", "state") is None
    assert text_at({"v": {"value": 5}}, "v", "value") == ""
    assert text_at([1], "v") == ""


def form(payload: object) -> str:
    return "payload=" + urllib.parse.quote(json.dumps(payload))


USER = {"id": "U0ALICE"}


@pytest.mark.parametrize(
    ("body", "content_type", "problem"),
    [
        (form([1]), "application/x-www-form-urlencoded", "not an object with a type"),
        ("payload=%7Bnope", "application/x-www-form-urlencoded", "not JSON"),
        (
            form({"type": "block_actions", "user": USER, "actions": [], "trigger_id": "t"}),
            "",
            "without actions",
        ),
        (
            form({"type": "block_actions", "user": {"id": 5}, "actions": [{}], "trigger_id": "t"}),
            "",
            "user.id",
        ),
        (
            form({"type": "block_actions", "user": USER, "actions": ["x"], "trigger_id": "t"}),
            "",
            "actions",
        ),
        (form({"type": "view_submission", "user": USER, "view": {"state": {}}}), "", "view.id"),
        (
            form(
                {
                    "type": "view_submission",
                    "user": USER,
                    "view": {"id": "V", "state": {"values": 1}},
                }
            ),
            "",
            "values",
        ),
        ('{"type": "event_callback", "event": null}', "application/json", "event is not an object"),
        ("[]", "application/json", "not an object with a type"),
    ],
)
def test_shapes_bolt_would_crash_on_are_named(body: str, content_type: str, problem: str) -> None:
    found = envelope_problem(body, content_type or "application/x-www-form-urlencoded")
    assert found is not None
    assert problem in found


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (
            form(
                {
                    "type": "block_actions",
                    "user": USER,
                    "actions": [{"action_id": "a"}],
                    "trigger_id": "t",
                }
            ),
            "application/x-www-form-urlencoded",
        ),
        (
            form(
                {
                    "type": "view_submission",
                    "user": USER,
                    "view": {"id": "V1", "state": {"values": {}}},
                }
            ),
            "application/x-www-form-urlencoded",
        ),
        ("command=%2Ftocsin&text=list&user_id=U0ALICE", "application/x-www-form-urlencoded"),
        ('{"type": "url_verification", "challenge": "x"}', "application/json"),
        (
            '{"type": "event_callback", "event": {"type": "app_mention"}}',
            "application/json; charset=utf-8",
        ),
    ],
)
def test_what_slack_sends_passes(body: str, content_type: str) -> None:
    assert envelope_problem(body, content_type) is None
