"""The sandbox's fake Slack, driven over real HTTP by slack_sdk's AsyncWebClient and the driver."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.http.same_origin import cross_site_problem
from bot.sandbox import SandboxDriver, SandboxError, SlackWorld, build_sandbox_app
from bot.sandbox.testing import bind_free_socket, serve_app, url_of
from bot.sandbox.workspace.models import REQUIRED_INPUT

BOT_TOKEN = "xoxb-sandbox-test-token"
SIGNING_SECRET = "sandbox-signing-secret"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Receiver:
    """A stand-in for the bot's /slack/events: checks Slack's signature, records, answers."""

    verifier: SignatureVerifier = field(default_factory=lambda: SignatureVerifier(SIGNING_SECRET))
    received: list[dict[str, Any]] = field(default_factory=list)
    answer: Response | None = None

    async def handle(self, request: Request) -> Response:
        body = (await request.body()).decode()
        valid = self.verifier.is_valid_request(body, dict(request.headers))
        form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
        payload = json.loads(form["payload"]) if "payload" in form else form
        self.received.append({"valid": valid, "payload": payload, "headers": request.headers})
        if not valid:
            return Response("invalid signature", status_code=401)
        return self.answer or Response(status_code=200)


@dataclass
class Sandbox:
    world: SlackWorld
    base_url: str
    client: AsyncWebClient
    driver: SandboxDriver
    receiver: Receiver


async def start(stack: AsyncExitStack, world: SlackWorld, receiver_app: Any = None) -> Sandbox:
    receiver = Receiver()
    bot_sock = bind_free_socket()
    bot_app = receiver_app or Starlette(
        routes=[Route("/slack/events", receiver.handle, methods=["POST"])]
    )
    events_url = url_of(bot_sock) + "/slack/events"
    sock = bind_free_socket()
    app = build_sandbox_app(
        world,
        bot_token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        events_url=events_url,
        public_url=url_of(sock),
        page_guard=partial(cross_site_problem, public_url=url_of(sock)),
    )
    base_url = await stack.enter_async_context(serve_app(app, sock=sock))
    await stack.enter_async_context(serve_app(bot_app, sock=bot_sock))
    client = AsyncWebClient(token=BOT_TOKEN, base_url=base_url + "/api/")
    driver = SandboxDriver(world, signing_secret=SIGNING_SECRET, events_url=events_url)
    return Sandbox(world, base_url, client, driver, receiver)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def sandbox(clock: FakeClock) -> AsyncIterator[Sandbox]:
    async with AsyncExitStack() as stack:
        yield await start(stack, SlackWorld(clock=clock))


def actions_block(*elements: dict[str, Any], block_id: str = "alert-actions") -> dict[str, Any]:
    return {"type": "actions", "block_id": block_id, "elements": list(elements)}


def button(action_id: str, text: str, value: str, style: str | None = None) -> dict[str, Any]:
    element = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": text},
        "value": value,
    }
    return element | ({"style": style} if style else {})


RESOLVE_VIEW: dict[str, Any] = {
    "type": "modal",
    "callback_id": "resolve",
    "private_metadata": "alert-42",
    "title": {"type": "plain_text", "text": "Resolve alert"},
    "submit": {"type": "plain_text", "text": "Resolve"},
    "blocks": [
        {
            "type": "input",
            "block_id": "note",
            "label": {"type": "plain_text", "text": "What was done"},
            "element": {"type": "plain_text_input", "action_id": "text", "multiline": True},
        },
        {
            "type": "input",
            "block_id": "cause",
            "label": {"type": "plain_text", "text": "Root cause"},
            "optional": True,
            "element": {
                "type": "static_select",
                "action_id": "category",
                "options": [
                    {"text": {"type": "plain_text", "text": "Data"}, "value": "data"},
                    {"text": {"type": "plain_text", "text": "Process"}, "value": "process"},
                ],
            },
        },
    ],
}


# ---- Web API ---------------------------------------------------------------------------------


async def test_post_message_by_name_creates_channel_and_answers_id_ts_and_message(
    sandbox: Sandbox,
) -> None:
    response = await sandbox.client.chat_postMessage(channel="#alerts", text="DB is down")
    assert response["channel"] == SlackWorld.channel_id_for("alerts")
    assert response["channel"].startswith("C")
    assert len(response["channel"]) == 9
    assert response["message"]["text"] == "DB is down"
    assert response["message"]["bot_id"] == "B0TOCSIN"
    again = await sandbox.client.chat_postMessage(channel="alerts", text="again")
    assert again["channel"] == response["channel"]
    assert float(again["ts"]) > float(response["ts"])
    stored = sandbox.world.message(response["channel"], response["ts"])
    assert stored.text == "DB is down"


async def test_thread_replies_are_in_replies_not_in_history(sandbox: Sandbox) -> None:
    parent = await sandbox.client.chat_postMessage(channel="#alerts", text="parent")
    channel = parent["channel"]
    await sandbox.client.chat_postMessage(channel=channel, text="reply", thread_ts=parent["ts"])
    history = await sandbox.client.conversations_history(channel=channel)
    assert [m["text"] for m in history["messages"]] == ["parent"]
    assert history["messages"][0]["reply_count"] == 1
    replies = await sandbox.client.conversations_replies(channel=channel, ts=parent["ts"])
    assert [m["text"] for m in replies["messages"]] == ["parent", "reply"]
    assert replies["messages"][1]["thread_ts"] == parent["ts"]


async def test_update_edits_in_place_keeping_history(sandbox: Sandbox) -> None:
    posted = await sandbox.client.chat_postMessage(channel="#alerts", text="firing")
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*acked*"}}]
    updated = await sandbox.client.chat_update(
        channel=posted["channel"], ts=posted["ts"], text="acked", blocks=blocks
    )
    assert updated["ts"] == posted["ts"]
    message = sandbox.world.message(posted["channel"], posted["ts"])
    assert (message.text, message.edited) == ("acked", 1)
    assert message.blocks[0]["text"]["text"] == "*acked*"
    assert message.history[0]["text"] == "firing"


async def test_update_needs_channel_id_and_existing_ts(sandbox: Sandbox) -> None:
    posted = await sandbox.client.chat_postMessage(channel="#alerts", text="x")
    with pytest.raises(SlackApiError) as raised:
        await sandbox.client.chat_update(channel=posted["channel"], ts="1.000001", text="y")
    assert raised.value.response["error"] == "message_not_found"
    with pytest.raises(SlackApiError) as raised:
        await sandbox.client.chat_update(channel="#nowhere", ts=posted["ts"], text="y")
    assert raised.value.response["error"] == "channel_not_found"


async def test_ephemeral_is_stored_for_its_user_only(sandbox: Sandbox) -> None:
    response = await sandbox.client.chat_postEphemeral(
        channel="#alerts", user="U0BOB", text="only you may approve"
    )
    channel = SlackWorld.channel_id_for("alerts")
    [ephemeral] = sandbox.world.ephemerals_for("U0BOB", channel)
    assert (ephemeral.ts, ephemeral.text) == (response["message_ts"], "only you may approve")
    assert sandbox.world.ephemerals_for("U0ALICE") == []
    assert sandbox.world.channel_messages(channel) == []


async def test_conversations_open_gives_a_dm_to_post_to(sandbox: Sandbox) -> None:
    opened = await sandbox.client.conversations_open(users="U0ALICE")
    dm = opened["channel"]["id"]
    assert dm.startswith("D")
    await sandbox.client.chat_postMessage(channel=dm, text="you are paged")
    info = await sandbox.client.conversations_info(channel=dm)
    assert info["channel"]["is_im"] is True
    assert info["channel"]["user"] == "U0ALICE"
    assert [m.text for m in sandbox.world.channel_messages(dm)] == ["you are paged"]
    link = await sandbox.client.chat_getPermalink(
        channel=dm, message_ts=sandbox.world.channel_messages(dm)[0].ts
    )
    assert link["permalink"].startswith(sandbox.base_url)


async def test_users_and_usergroups_are_listed(sandbox: Sandbox) -> None:
    alice = await sandbox.client.users_info(user="U0ALICE")
    assert alice["user"]["name"] == "alice"
    members = await sandbox.client.users_list()
    names = {m["name"] for m in members["members"]}
    assert {"alice", "bob", "carol", "dave", "tocsin"} <= names
    sandbox.world.add_usergroup("S0DBMGR", ["U0CAROL"])
    group = await sandbox.client.usergroups_users_list(usergroup="S0DBMGR")
    assert group["users"] == ["U0CAROL"]
    empty = await sandbox.client.usergroups_users_list(usergroup="S0OTHER")
    assert empty["users"] == []


async def test_users_are_found_by_email_as_slack_finds_them(sandbox: Sandbox) -> None:
    alice = await sandbox.client.users_lookupByEmail(email="Alice@Example.com")
    assert alice["user"]["id"] == "U0ALICE"
    assert alice["user"]["profile"]["email"] == "alice@example.com"
    sandbox.world.add_user("U0ERIN", "erin", "Erin Ek", email="erin@corp.example")
    erin = await sandbox.client.users_lookupByEmail(email="erin@corp.example")
    assert erin["user"]["id"] == "U0ERIN"
    with pytest.raises(SlackApiError) as missing:
        await sandbox.client.users_lookupByEmail(email="nobody@example.com")
    assert missing.value.response["error"] == "users_not_found"
    with pytest.raises(SlackApiError) as bot:
        await sandbox.client.users_lookupByEmail(email="tocsin@example.com")
    assert bot.value.response["error"] == "users_not_found"  # bots have no email


async def test_wrong_token_is_invalid_auth_and_missing_is_not_authed_with_http_200(
    sandbox: Sandbox,
) -> None:
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=sandbox.base_url + "/api/")
    with pytest.raises(SlackApiError) as raised:
        await wrong.auth_test()
    assert raised.value.response.status_code == 200
    assert raised.value.response["error"] == "invalid_auth"
    async with httpx.AsyncClient() as http:
        answer = await http.post(sandbox.base_url + "/api/auth.test")
    assert (answer.status_code, answer.json()) == (200, {"ok": False, "error": "not_authed"})


async def test_form_body_with_token_field_is_accepted(sandbox: Sandbox) -> None:
    blocks = json.dumps([{"type": "divider"}])
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            sandbox.base_url + "/api/chat.postMessage",
            data={"token": BOT_TOKEN, "channel": "#alerts", "text": "form", "blocks": blocks},
        )
    assert answer.json()["ok"] is True
    assert answer.json()["message"]["blocks"][0]["type"] == "divider"


async def test_unknown_method_is_unknown_method(sandbox: Sandbox) -> None:
    with pytest.raises(SlackApiError) as raised:
        await sandbox.client.api_call("reactions.add", json={"name": "eyes"})
    assert raised.value.response["error"] == "unknown_method"


async def test_broken_blocks_are_refused_as_invalid_blocks(sandbox: Sandbox) -> None:
    too_long = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    with pytest.raises(SlackApiError) as raised:
        await sandbox.client.chat_postMessage(channel="#alerts", text="x", blocks=too_long)
    assert raised.value.response["error"] == "invalid_blocks"
    assert raised.value.response["errors"] == [
        "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    ]
    with pytest.raises(SlackApiError) as raised:
        await sandbox.client.api_call("chat.postMessage", json={"channel": "#alerts"})
    assert raised.value.response["error"] == "no_text"
    assert sandbox.world.write_log.writes() == []


# ---- rate limits and faults ---------------------------------------------------------------------


async def test_writes_past_the_burst_get_429_with_retry_after_and_are_not_logged(
    sandbox: Sandbox, clock: FakeClock
) -> None:
    for i in range(3):
        await sandbox.client.chat_postMessage(channel="#alerts", text=f"burst {i}")
    with pytest.raises(SlackApiError) as raised:
        await sandbox.client.chat_postMessage(channel="#alerts", text="one too many")
    assert raised.value.response.status_code == 429
    assert raised.value.response["error"] == "ratelimited"
    assert int(raised.value.response.headers["Retry-After"]) >= 1
    assert len(sandbox.world.write_log.writes()) == 3
    assert sandbox.world.max_writes_per_second("#alerts") == 3
    other = await sandbox.client.chat_postMessage(channel="#other", text="other channel")
    assert other["ok"] is True
    clock.advance(1.0)
    again = await sandbox.client.chat_update(channel=other["channel"], ts=other["ts"], text="e")
    assert again["ok"] is True
    posted = await sandbox.client.chat_postMessage(channel="#alerts", text="after a second")
    assert posted["ok"] is True


async def test_slack_sdk_rate_limit_retry_handler_waits_and_then_succeeds() -> None:
    async with AsyncExitStack() as stack:
        sandbox = await start(stack, SlackWorld(rate_per_second=2.0, burst=1))
        client = AsyncWebClient(
            token=BOT_TOKEN,
            base_url=sandbox.base_url + "/api/",
            retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
        )
        await client.chat_postMessage(channel="#alerts", text="first")
        second = await client.chat_postMessage(channel="#alerts", text="second")
        assert second["ok"] is True
        writes = sandbox.world.write_log.writes()
        assert [w.method for w in writes] == ["chat.postMessage", "chat.postMessage"]
        assert writes[1].at - writes[0].at >= 1.0


async def test_fail_next_injects_http_errors_for_count_calls(sandbox: Sandbox) -> None:
    sandbox.world.fail_next("chat.postMessage", status=503, count=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as raised:
            await sandbox.client.chat_postMessage(channel="#alerts", text="x")
        assert raised.value.response.status_code == 503
    assert (await sandbox.client.chat_postMessage(channel="#alerts", text="x"))["ok"] is True
    sandbox.world.fail_next("chat.update", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as raised:
        await sandbox.client.chat_update(channel="C00000000", ts="1.0", text="x")
    assert raised.value.response.headers["Retry-After"] == "7"


# ---- views ------------------------------------------------------------------------------------


async def test_views_open_with_a_fresh_trigger_opens_the_modal(sandbox: Sandbox) -> None:
    trigger = sandbox.world.issue_trigger("U0ALICE")
    opened = await sandbox.client.views_open(trigger_id=trigger, view=RESOLVE_VIEW)
    view = opened["view"]
    assert view["id"].startswith("V")
    assert view["callback_id"] == "resolve"
    assert view["private_metadata"] == "alert-42"
    [stored] = sandbox.world.open_views("U0ALICE")
    assert stored.id == view["id"]
    assert stored.trigger_id == trigger
    with pytest.raises(SlackApiError) as raised:
        await sandbox.client.views_open(trigger_id=trigger, view=RESOLVE_VIEW)
    assert raised.value.response["error"] == "exchanged_trigger_id"


async def test_views_open_with_an_old_or_unknown_trigger_fails(
    sandbox: Sandbox, clock: FakeClock
) -> None:
    trigger = sandbox.world.issue_trigger("U0ALICE")
    clock.advance(3.5)
    with pytest.raises(SlackApiError) as raised:
        await sandbox.client.views_open(trigger_id=trigger, view=RESOLVE_VIEW)
    assert raised.value.response["error"] == "expired_trigger_id"
    with pytest.raises(SlackApiError) as raised:
        await sandbox.client.views_open(trigger_id="123.456.abc", view=RESOLVE_VIEW)
    assert raised.value.response["error"] == "invalid_trigger_id"
    assert sandbox.world.open_views() == []


async def test_views_update_checks_hash_and_views_push_stacks(sandbox: Sandbox) -> None:
    opened = await sandbox.client.views_open(
        trigger_id=sandbox.world.issue_trigger("U0ALICE"), view=RESOLVE_VIEW
    )
    view_id, old_hash = opened["view"]["id"], opened["view"]["hash"]
    retitled = RESOLVE_VIEW | {"title": {"type": "plain_text", "text": "Resolve (2)"}}
    updated = await sandbox.client.views_update(view_id=view_id, view=retitled, hash=old_hash)
    assert updated["view"]["title"]["text"] == "Resolve (2)"
    with pytest.raises(SlackApiError) as raised:
        await sandbox.client.views_update(view_id=view_id, view=retitled, hash=old_hash)
    assert raised.value.response["error"] == "hash_conflict"
    pushed = await sandbox.client.views_push(
        trigger_id=sandbox.world.issue_trigger("U0ALICE"), view=RESOLVE_VIEW
    )
    assert pushed["view"]["previous_view_id"] == view_id
    assert [v.id for v in sandbox.world.open_views("U0ALICE")] == [view_id, pushed["view"]["id"]]
    bad = RESOLVE_VIEW | {"title": {"type": "plain_text", "text": "x" * 25}}
    with pytest.raises(SlackApiError) as raised:
        await sandbox.client.views_update(view_id=view_id, view=bad)
    assert raised.value.response["error"] == "invalid_arguments"


# ---- the driver: signed interactions -----------------------------------------------------------


async def post_alert(sandbox: Sandbox) -> tuple[str, str]:
    snooze = {
        "type": "static_select",
        "action_id": "snooze",
        "placeholder": {"type": "plain_text", "text": "Snooze"},
        "options": [
            {"text": {"type": "plain_text", "text": "1 hour"}, "value": "1h"},
            {"text": {"type": "plain_text", "text": "1 day"}, "value": "1d"},
        ],
    }
    assign = {"type": "users_select", "action_id": "assign"}
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*DB down*"}},
        actions_block(
            button("ack", "Acknowledge", "alert-42", "primary"),
            button("resolve", "Resolve", "alert-42"),
            snooze,
            assign,
        ),
    ]
    posted = await sandbox.client.chat_postMessage(channel="#alerts", text="DB down", blocks=blocks)
    return posted["channel"], posted["ts"]


async def test_press_button_sends_a_signed_block_actions_payload(sandbox: Sandbox) -> None:
    channel, ts = await post_alert(sandbox)
    response = await sandbox.driver.press_button(
        channel="#alerts", ts=ts, action_id="ack", user="alice"
    )
    assert response.status_code == 200
    [request] = sandbox.receiver.received
    assert request["valid"] is True
    assert request["headers"]["content-type"] == "application/x-www-form-urlencoded"
    payload = request["payload"]
    assert payload["type"] == "block_actions"
    assert payload["user"] == {
        "id": "U0ALICE",
        "username": "alice",
        "name": "alice",
        "team_id": "T0TOCSIN",
    }
    assert payload["team"]["id"] == "T0TOCSIN"
    assert payload["api_app_id"] == "A0TOCSIN"
    assert payload["channel"] == {"id": channel, "name": "alerts"}
    assert payload["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": channel,
        "is_ephemeral": False,
    }
    assert payload["message"]["ts"] == ts
    assert payload["message"]["blocks"][1]["type"] == "actions"
    [action] = payload["actions"]
    assert action["type"] == "button"
    assert action["action_id"] == "ack"
    assert (action["block_id"], action["value"]) == ("alert-actions", "alert-42")
    assert action["text"]["text"] == "Acknowledge"
    assert action["style"] == "primary"
    assert payload["response_url"].startswith(sandbox.base_url + "/response/")
    assert payload["trigger_id"]
    assert payload["state"] == {"values": {}}


async def test_select_option_and_select_user_send_the_selection(sandbox: Sandbox) -> None:
    _, ts = await post_alert(sandbox)
    await sandbox.driver.select_option(
        channel="#alerts", ts=ts, action_id="snooze", user="U0BOB", value="1d"
    )
    await sandbox.driver.select_user(
        channel="#alerts", ts=ts, action_id="assign", user="U0BOB", selected_user="carol"
    )
    snooze, assign = (r["payload"] for r in sandbox.receiver.received)
    assert snooze["actions"][0]["type"] == "static_select"
    assert snooze["actions"][0]["selected_option"]["value"] == "1d"
    assert snooze["state"]["values"]["alert-actions"]["snooze"]["selected_option"]["value"] == "1d"
    assert assign["actions"][0] | {"action_ts": None} == {
        "type": "users_select",
        "action_id": "assign",
        "block_id": "alert-actions",
        "selected_user": "U0CAROL",
        "action_ts": None,
    }
    assert all(r["valid"] for r in sandbox.receiver.received)


async def test_driver_refuses_actions_the_message_does_not_have(sandbox: Sandbox) -> None:
    _, ts = await post_alert(sandbox)
    with pytest.raises(SandboxError, match="no element with action_id 'escalate'"):
        await sandbox.driver.press_button(
            channel="#alerts", ts=ts, action_id="escalate", user="bob"
        )
    with pytest.raises(SandboxError, match="not one of"):
        await sandbox.driver.press_button(channel="#alerts", ts=ts, action_id="snooze", user="bob")
    with pytest.raises(SandboxError, match="has no option"):
        await sandbox.driver.select_option(
            channel="#alerts", ts=ts, action_id="snooze", user="bob", value="1w"
        )
    assert sandbox.receiver.received == []


async def test_response_url_posts_ephemeral_or_replaces_the_original(sandbox: Sandbox) -> None:
    channel, ts = await post_alert(sandbox)
    await sandbox.driver.press_button(channel=channel, ts=ts, action_id="ack", user="alice")
    response_url = sandbox.receiver.received[0]["payload"]["response_url"]
    async with httpx.AsyncClient() as http:
        first = await http.post(response_url, json={"text": "only alice sees this"})
        second = await http.post(response_url, json={"text": "Acked", "replace_original": True})
    assert (first.status_code, second.status_code) == (200, 200)
    [ephemeral] = sandbox.world.ephemerals_for("U0ALICE", channel)
    assert ephemeral.text == "only alice sees this"
    assert ephemeral.source == "response_url"
    message = sandbox.world.message(channel, ts)
    assert (message.text, message.blocks, message.edited) == ("Acked", [], 1)


async def test_slash_command_sends_a_signed_form_and_shows_the_reply(sandbox: Sandbox) -> None:
    sandbox.receiver.answer = Response(
        json.dumps({"text": "Usage: /tocsin oncall|list"}), media_type="application/json"
    )
    response = await sandbox.driver.slash_command(text="help", user="dave")
    assert response.status_code == 200
    [request] = sandbox.receiver.received
    assert request["valid"] is True
    form = request["payload"]
    channel = SlackWorld.channel_id_for("alerts")
    assert form["command"] == "/tocsin"
    assert form["text"] == "help"
    assert (form["user_id"], form["user_name"]) == ("U0DAVE", "dave")
    assert (form["channel_id"], form["channel_name"]) == (channel, "alerts")
    assert form["team_id"] == "T0TOCSIN"
    assert form["api_app_id"] == "A0TOCSIN"
    assert form["trigger_id"]
    assert form["response_url"].startswith(sandbox.base_url)
    [reply] = sandbox.world.ephemerals_for("U0DAVE", channel)
    assert reply.text == "Usage: /tocsin oncall|list"


async def test_submit_view_closes_it_on_plain_ack_and_keeps_it_on_errors(sandbox: Sandbox) -> None:
    opened = await sandbox.client.views_open(
        trigger_id=sandbox.world.issue_trigger("U0ALICE"), view=RESOLVE_VIEW
    )
    view_id = opened["view"]["id"]
    with pytest.raises(SandboxError, match="note/text is required"):
        await sandbox.driver.submit_view(view_id=view_id, user="alice", values={})
    errors = {"response_action": "errors", "errors": {"note": "Say what was done"}}
    sandbox.receiver.answer = Response(json.dumps(errors), media_type="application/json")
    values = {"note": {"text": "restarted"}, "cause": {"category": "data"}}
    refused = await sandbox.driver.submit_view(view_id=view_id, user="alice", values=values)
    assert refused.json()["errors"] == {"note": "Say what was done"}
    assert [v.id for v in sandbox.world.open_views("U0ALICE")] == [view_id]
    sandbox.receiver.answer = None
    accepted = await sandbox.driver.submit_view(view_id=view_id, user="alice", values=values)
    assert accepted.status_code == 200
    assert sandbox.world.open_views() == []
    payload = sandbox.receiver.received[-1]["payload"]
    assert payload["type"] == "view_submission"
    assert payload["user"]["id"] == "U0ALICE"
    view = payload["view"]
    assert (view["id"], view["callback_id"], view["private_metadata"]) == (
        view_id,
        "resolve",
        "alert-42",
    )
    assert view["state"]["values"]["note"]["text"] == {
        "type": "plain_text_input",
        "value": "restarted",
    }
    category = view["state"]["values"]["cause"]["category"]
    assert category["type"] == "static_select"
    assert category["selected_option"]["value"] == "data"
    assert payload["response_urls"] == []
    assert payload["trigger_id"]


# ---- the page ---------------------------------------------------------------------------------


async def test_page_shows_the_banner_and_acts_through_the_driver(sandbox: Sandbox) -> None:
    channel, ts = await post_alert(sandbox)
    async with httpx.AsyncClient(base_url=sandbox.base_url) as http:
        page = await http.get("/")
        assert "Local Slack sandbox — a development aid" in page.text
        assert (await http.get("/static/sandbox.js")).status_code == 200
        state = (await http.get("/state", params={"user": "U0ALICE"})).json()
        [alerts] = [c for c in state["channels"] if c["id"] == channel]
        assert alerts["messages"][0]["ts"] == ts
        acted = await http.post(
            "/act",
            json={"kind": "button", "user": "U0BOB", "channel": channel, "ts": ts,
                  "action_id": "resolve", "value": "alert-42"},
        )  # fmt: skip
        assert acted.json() == {"ok": True, "status": 200}
        wrong = await http.post("/act", json={"kind": "button", "user": "U0BOB"})
        assert wrong.status_code == 400
        assert "required" in wrong.json()["error"]
    [request] = sandbox.receiver.received
    assert request["valid"] is True
    assert request["payload"]["user"]["id"] == "U0BOB"
    assert request["payload"]["actions"][0]["action_id"] == "resolve"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        # what any web page may send without asking: a text/plain "simple request"
        ({"Content-Type": "text/plain", "Origin": "https://evil.example"}, 403),
        ({"Content-Type": "text/plain"}, 415),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
        ({"Content-Type": "application/json", "Origin": "https://evil.example"}, 403),
        ({"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, 403),
    ],
)
async def test_page_act_refuses_what_another_site_could_send(
    sandbox: Sandbox, headers: dict[str, str], status: int
) -> None:
    channel, ts = await post_alert(sandbox)
    press = {"kind": "button", "user": "U0BOB", "channel": channel, "ts": ts,
             "action_id": "resolve", "value": "alert-42"}  # fmt: skip
    async with httpx.AsyncClient(base_url=sandbox.base_url) as http:
        acted = await http.post("/act", content=json.dumps(press), headers=headers)
        same_site = await http.post("/act", json=press, headers={"Origin": sandbox.base_url})

    assert acted.status_code == status
    assert acted.json()["ok"] is False
    assert same_site.json() == {"ok": True, "status": 200}
    assert len(sandbox.receiver.received) == 1  # only the same-site press reached the bot


async def test_page_keeps_what_was_typed_and_shows_missing_inputs_under_them(
    sandbox: Sandbox,
) -> None:
    opened = await sandbox.client.views_open(
        trigger_id=sandbox.world.issue_trigger("U0ALICE"), view=RESOLVE_VIEW
    )
    view_id = opened["view"]["id"]
    submit = {"kind": "submit_view", "user": "U0ALICE", "view_id": view_id}
    async with httpx.AsyncClient(base_url=sandbox.base_url) as http:
        # empty: refused by "Slack's client" under the input, the bot never hears of it
        empty = await http.post("/act", json=submit | {"values": {}})
        assert empty.json() == {"ok": False, "status": None, "errors": {"note": REQUIRED_INPUT}}
        assert sandbox.receiver.received == []
        # the bot refuses a field: the modal stays open with everything typed still in it
        errors = {"response_action": "errors", "errors": {"cause": "Pick one"}}
        sandbox.receiver.answer = Response(json.dumps(errors), media_type="application/json")
        typed = {"note": {"text": "restarted the primary"}, "cause": {"category": "data"}}
        refused = await http.post("/act", json=submit | {"values": typed})
        assert refused.json()["errors"] == {"cause": "Pick one"}
        state = (await http.get("/state", params={"user": "U0ALICE"})).json()
    [view] = state["views"]
    assert view["values"] == typed


async def test_the_page_resets_the_sandbox_without_asking_the_bot(sandbox: Sandbox) -> None:
    channel, ts = await post_alert(sandbox)
    await sandbox.client.chat_postMessage(channel=channel, thread_ts=ts, text="a reply")
    async with httpx.AsyncClient(base_url=sandbox.base_url) as http:
        reset = await http.post("/act", json={"kind": "reset"})
        assert reset.json() == {"ok": True, "status": None}
        state = (await http.get("/state", params={"user": "U0ALICE"})).json()
    [alerts] = [c for c in state["channels"] if c["id"] == channel]
    assert alerts["messages"] == []
    assert sandbox.receiver.received == []
    with pytest.raises(SlackApiError, match="message_not_found"):
        await sandbox.client.chat_update(channel=channel, ts=ts, text="too late")
    after = await sandbox.client.chat_postMessage(channel=channel, text="after the reset")
    assert float(after["ts"]) > float(ts)


# ---- a real bolt app, end to end ----------------------------------------------------------------


def bolt_app(client: AsyncWebClient) -> AsyncApp:
    app = AsyncApp(client=client, signing_secret=SIGNING_SECRET)

    @app.action("ack")
    async def on_ack(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        user = body["user"]["id"]
        await client.chat_update(
            channel=body["channel"]["id"], ts=body["message"]["ts"], text=f"Acked by <@{user}>"
        )
        await respond(f"Thanks <@{user}>")

    @app.action("resolve")
    async def on_resolve(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=RESOLVE_VIEW)

    @app.view("resolve")
    async def on_submit(ack: AsyncAck, view: dict[str, Any]) -> None:
        note = view["state"]["values"]["note"]["text"]["value"]
        if note == "?":
            await ack(response_action="errors", errors={"note": "Say what was done"})
        else:
            await ack()

    @app.command("/tocsin")
    async def on_command(ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack(f"You asked for {command['text']}")

    return app


async def test_real_bolt_app_round_trip_through_the_sandbox() -> None:
    world = SlackWorld()
    async with AsyncExitStack() as stack:
        sock = bind_free_socket()
        client = AsyncWebClient(token=BOT_TOKEN, base_url=url_of(sock) + "/api/")
        handler = AsyncSlackRequestHandler(bolt_app(client))

        async def events(request: Request) -> Response:
            return await handler.handle(request)

        receiver = Starlette(routes=[Route("/slack/events", events, methods=["POST"])])
        bot_sock = bind_free_socket()
        events_url = url_of(bot_sock) + "/slack/events"
        app = build_sandbox_app(
            world,
            bot_token=BOT_TOKEN,
            signing_secret=SIGNING_SECRET,
            events_url=events_url,
            public_url=url_of(sock),
            page_guard=partial(cross_site_problem, public_url=url_of(sock)),
        )
        await stack.enter_async_context(serve_app(app, sock=sock))
        await stack.enter_async_context(serve_app(receiver, sock=bot_sock))
        driver = SandboxDriver(world, signing_secret=SIGNING_SECRET, events_url=events_url)
        sandbox = Sandbox(world, url_of(sock), client, driver, Receiver())
        channel, ts = await post_alert(sandbox)

        assert (
            await driver.press_button(channel=channel, ts=ts, action_id="ack", user="bob")
        ).status_code == 200
        await world.wait_for(lambda: bool(world.ephemerals_for("U0BOB")))
        assert world.message(channel, ts).text == "Acked by <@U0BOB>"
        assert world.ephemerals_for("U0BOB")[0].text == "Thanks <@U0BOB>"

        await driver.press_button(channel=channel, ts=ts, action_id="resolve", user="bob")
        await world.wait_for(lambda: bool(world.open_views("U0BOB")))
        [view] = world.open_views("U0BOB")
        refused = await driver.submit_view(
            view_id=view.id, user="bob", values={"note": {"text": "?"}}
        )
        assert refused.json() == {
            "response_action": "errors",
            "errors": {"note": "Say what was done"},
        }
        await driver.submit_view(view_id=view.id, user="bob", values={"note": {"text": "fixed"}})
        assert world.open_views() == []

        await driver.slash_command(text="oncall", user="carol", channel=channel)
        assert world.ephemerals_for("U0CAROL", channel)[0].text == "You asked for oncall"
