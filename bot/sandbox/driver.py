"""Act as a Slack user: send the bot what Slack sends — signed over HTTP, or over Socket Mode."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Literal

import httpx

from bot.sandbox.signing import (
    Actor,
    action_payload,
    block_actions_payload,
    form_body,
    interactive_body,
    sign_request,
    slash_command_form,
    view_closed_payload,
    view_submission_payload,
)
from bot.sandbox.web_api.limits import check_view
from bot.sandbox.web_api.responses import show_reply
from bot.sandbox.workspace.blocks import (
    SELECTS,
    find_element,
    find_option,
    input_blocks,
    input_state,
)
from bot.sandbox.workspace.models import (
    JSON,
    ApiError,
    Channel,
    InputsMissing,
    SandboxError,
    View,
)
from bot.sandbox.workspace.socket_mode import SOCKET_PATH, Delivery, EnvelopeType
from bot.sandbox.workspace.world import SlackWorld

FORM = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"
Transport = Literal["http", "socket", "auto"]
# Envelopes whose ack may carry an answer (as the HTTP response body would).
ANSWERED_INTERACTIONS = ("view_submission", "block_suggestion")


class SandboxDriver:
    """Sends what Slack would send when a sandbox user clicks, picks, submits or types.

    Each method POSTs one signed request to `events_url` (the bot's `/slack/events`) and
    returns the bot's response. Users and channels may be named by id or by name.

    With `transport="socket"` the same requests go as Socket Mode envelopes to the app
    connected to the world (SandboxError if none is), and the ack comes back as a response:
    200 with the ack's payload as a JSON body (empty if none), or 504 with
    `{"error": "operation_timeout"}` if the app did not ack in time. `"auto"` uses the socket
    while an app is connected and HTTP otherwise.
    """

    def __init__(
        self,
        world: SlackWorld,
        *,
        signing_secret: str,
        events_url: str,
        http: httpx.AsyncClient | None = None,
        signing_clock: Callable[[], float] = time.time,
        transport: Transport = "http",
    ) -> None:
        self.world = world
        self.signing_secret = signing_secret
        self.events_url = events_url
        self.http = http
        self.signing_clock = signing_clock
        self.transport = transport

    async def send(self, body: str, *, content_type: str = FORM) -> httpx.Response:
        """POST a body (form, or JSON for events) to the bot, signed as Slack signs it."""
        headers = sign_request(
            signing_secret=self.signing_secret, body=body, timestamp=int(self.signing_clock())
        )
        headers["Content-Type"] = content_type
        if self.http is not None:
            return await self.http.post(self.events_url, content=body.encode(), headers=headers)
        async with httpx.AsyncClient(timeout=10.0) as http:
            return await http.post(self.events_url, content=body.encode(), headers=headers)

    def _over_socket(self) -> bool:
        if self.transport == "http":
            return False
        if self.world.socket_mode.connected:
            return True
        if self.transport == "socket":
            raise SandboxError("transport is socket but no app is connected over Socket Mode")
        return False

    async def deliver(
        self, type_: EnvelopeType, payload: JSON, *, accepts_response_payload: bool
    ) -> httpx.Response:
        """Send one Socket Mode envelope and return its ack as an HTTP-like response."""
        delivery = await self.world.socket_mode.deliver(
            type_, payload, accepts_response_payload=accepts_response_payload
        )
        return self._ack_response(delivery)

    def _ack_response(self, delivery: Delivery) -> httpx.Response:
        request = httpx.Request("POST", f"{self.world.public_url}{SOCKET_PATH}")
        ack = delivery.ack
        if ack is None:
            error = {"ok": False, "error": "operation_timeout"}
            return httpx.Response(504, json=error, request=request)
        if ack.payload is None:
            return httpx.Response(200, request=request)
        return httpx.Response(200, json=ack.payload, request=request)

    async def _interactive(self, payload: JSON) -> httpx.Response:
        if self._over_socket():
            answered = payload.get("type") in ANSWERED_INTERACTIONS
            return await self.deliver("interactive", payload, accepts_response_payload=answered)
        return await self.send(interactive_body(payload))

    async def _command(self, form: dict[str, str]) -> httpx.Response:
        if self._over_socket():
            return await self.deliver("slash_commands", dict(form), accepts_response_payload=True)
        return await self.send(form_body(form))

    async def send_event(self, event: JSON) -> httpx.Response:
        """Deliver an Events API event (wrapped in its `event_callback`) to the bot."""
        w = self.world
        body: JSON = {
            "token": w.verification_token,
            "team_id": w.team_id,
            "api_app_id": w.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": "Ev" + uuid.uuid4().hex[:10].upper(),
            "event_time": int(w.wall_clock()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": w.team_id,
                    "user_id": w.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        if self._over_socket():
            return await self.deliver("events_api", body, accepts_response_payload=False)
        return await self.send(json.dumps(body, separators=(",", ":")), content_type=JSON_TYPE)

    async def mention(self, *, text: str, user: str, channel: str = "#alerts") -> httpx.Response:
        """Post `@bot text` as `user` in a channel; the bot hears it as an `app_mention`."""
        actor = self.actor(user)
        chan = self.world.find_channel(channel) or self.world.ensure_channel(channel)
        message = self.world.post_message(
            chan.id, text=f"<@{self.world.bot_user_id}> {text}", user=actor.user_id
        )
        event: JSON = {
            "type": "app_mention",
            "user": actor.user_id,
            "text": message.text,
            "ts": message.ts,
            "channel": chan.id,
            "event_ts": message.ts,
            "team": self.world.team_id,
        }
        return await self.send_event(event)

    def actor(self, user: str) -> Actor:
        found = self.world.user(user)
        w = self.world
        return Actor(found.id, found.name, w.team_id, w.team_domain, w.app_id, w.verification_token)

    def _channel(self, ref: str) -> Channel:
        channel = self.world.find_channel(ref)
        if channel is None:
            raise SandboxError(f"no channel {ref!r} in the sandbox")
        return channel

    async def _act_on_message(
        self,
        *,
        channel: str,
        ts: str,
        user: str,
        action_id: str,
        types: tuple[str, ...],
        value: str | None = None,
        **selection: object,
    ) -> httpx.Response:
        actor, chan = self.actor(user), self._channel(channel)
        message = self.world.messages.get((chan.id, ts))
        ephemeral = None if message else self.world.find_ephemeral(chan.id, ts)
        if message is None and (ephemeral is None or ephemeral.user != actor.user_id):
            raise SandboxError(f"no message {ts} in {channel} that {actor.user_name} can see")
        blocks = message.blocks if message else ephemeral.blocks if ephemeral else []
        block_id, element = find_element(blocks, action_id, types=types, value=value)
        if element.get("type") in SELECTS:
            selection = {"selected_option": find_option(element, str(value))}
        action = action_payload(
            element, block_id=block_id, action_ts=f"{self.signing_clock():.6f}", **selection
        )
        state = {}
        if "selected_option" in selection or "selected_user" in selection:
            kept = {k: v for k, v in action.items() if k.startswith("selected_")}
            state = {block_id: {action_id: {"type": element.get("type"), **kept}}}
        payload = block_actions_payload(
            actor=actor,
            channel_id=chan.id,
            channel_name=chan.name if not chan.is_im else "directmessage",
            message_ts=ts,
            message=message.to_api(team_id=self.world.team_id, app_id=self.world.app_id)
            if message
            else None,
            actions=[action],
            trigger_id=self.world.issue_trigger(actor.user_id),
            response_url=self.world.response_urls.issue(
                channel=chan.id, user=actor.user_id, message_ts=ts, is_ephemeral=not message
            ),
            is_ephemeral=message is None,
            thread_ts=message.thread_ts if message else None,
            state_values=state,
        )
        return await self._interactive(payload)

    async def press_button(
        self, *, channel: str, ts: str, action_id: str, user: str, value: str | None = None
    ) -> httpx.Response:
        """Click the button `action_id` of a message (the one with `value`, if given)."""
        return await self._act_on_message(
            channel=channel, ts=ts, user=user, action_id=action_id, types=("button",), value=value
        )

    async def select_option(
        self, *, channel: str, ts: str, action_id: str, user: str, value: str
    ) -> httpx.Response:
        """Pick the option `value` of a static_select or overflow menu on a message."""
        return await self._act_on_message(
            channel=channel, ts=ts, user=user, action_id=action_id, types=SELECTS, value=value
        )

    async def select_user(
        self, *, channel: str, ts: str, action_id: str, user: str, selected_user: str
    ) -> httpx.Response:
        """Pick a person in a users_select menu on a message."""
        picked = self.world.user(selected_user).id
        return await self._act_on_message(
            channel=channel,
            ts=ts,
            user=user,
            action_id=action_id,
            types=("users_select",),
            selected_user=picked,
        )

    def _view_for(self, view_id: str, user: str) -> tuple[Actor, View]:
        actor = self.actor(user)
        try:
            view = self.world.views.get(view_id)
        except ApiError:
            raise SandboxError(f"no open view {view_id!r}") from None
        if view.user != actor.user_id:
            raise SandboxError(f"view {view_id} is open for {view.user}, not {actor.user_id}")
        return actor, view

    def _view_json(self, view: View, state: JSON | None = None) -> JSON:
        w = self.world
        return view.to_api(team_id=w.team_id, app_id=w.app_id, bot_id=w.bot_id, state=state)

    async def submit_view(
        self, *, view_id: str, user: str, values: dict[str, dict[str, str]]
    ) -> httpx.Response:
        """Submit a modal with `values[block_id][action_id]` (a text, or an option's value).

        Like Slack's client, keeps what was typed in the view (`View.typed`, shown again after
        a refusal) and refuses (InputsMissing, a SandboxError, with an error per block) when a
        required input is empty. Then acts on the bot's answer: an empty 200 closes the view;
        `response_action` errors (left for the caller to show), update, push or clear are
        applied as Slack would.
        """
        actor, view = self._view_for(view_id, user)
        unknown = set(values) - {block_id for block_id, _, _ in input_blocks(view.blocks)}
        if unknown:
            raise SandboxError(f"view {view_id} has no input blocks {sorted(unknown)}")
        view.typed = {block_id: dict(typed) for block_id, typed in values.items()}
        state: JSON = {}
        missing: list[tuple[str, str]] = []
        for block_id, block, element in input_blocks(view.blocks):
            action_id = str(element.get("action_id"))
            value = values.get(block_id, {}).get(action_id)
            if not value and not block.get("optional", False):
                missing.append((block_id, action_id))
            state.setdefault(block_id, {})[action_id] = input_state(element, value)
        if missing:
            self.world.touch()
            raise InputsMissing(missing)
        payload = view_submission_payload(
            actor=actor,
            view=self._view_json(view, state),
            trigger_id=self.world.issue_trigger(actor.user_id),
        )
        response = await self._interactive(payload)
        if response.status_code == 200:
            self._apply_view_answer(view, response)
        return response

    def _apply_view_answer(self, view: View, response: httpx.Response) -> None:
        try:
            answer = response.json() if response.content.strip() else {}
        except ValueError:
            answer = {}
        action = answer.get("response_action") if isinstance(answer, dict) else None
        if action is None:
            self.world.views.close(view.id)
        elif action == "update":
            self.world.views.update(view, check_view(answer.get("view")))
        elif action == "push":
            self.world.views.push_on(view, check_view(answer.get("view")))
        elif action == "clear":
            self.world.views.close(view.id, whole_stack=True)

    async def close_view(self, *, view_id: str, user: str) -> httpx.Response | None:
        """Close a modal with its ✕; the bot hears of it only if the view has notify_on_close."""
        actor, view = self._view_for(view_id, user)
        self.world.views.close(view.id)
        if not view.definition.get("notify_on_close"):
            return None
        payload = view_closed_payload(actor=actor, view=self._view_json(view))
        return await self._interactive(payload)

    async def slash_command(
        self, *, text: str, user: str, channel: str = "#alerts", command: str = "/tocsin"
    ) -> httpx.Response:
        """Type `/tocsin text` in a channel; an immediate reply body is shown as Slack shows it."""
        actor = self.actor(user)
        chan = self.world.find_channel(channel) or self.world.ensure_channel(channel)
        form = slash_command_form(
            actor=actor,
            channel_id=chan.id,
            channel_name=chan.name if not chan.is_im else "directmessage",
            command=command,
            text=text,
            response_url=self.world.response_urls.issue(
                channel=chan.id, user=actor.user_id, message_ts=None
            ),
            trigger_id=self.world.issue_trigger(actor.user_id),
        )
        response = await self._command(form)
        reply: JSON | None = None
        if response.status_code != 200:
            error = "operation_timeout" if response.status_code == 504 else "dispatch_failed"
            reply = {"text": f'{command} failed with the error "{error}"'}
        elif response.content.strip():
            try:
                parsed = response.json()
                reply = parsed if isinstance(parsed, dict) else {"text": str(parsed)}
            except (ValueError, json.JSONDecodeError):
                reply = {"text": response.text}
        if reply is not None:
            show_reply(self.world, channel=chan.id, user=actor.user_id, payload=reply)
        return response
