"""Slack's request signing and the interaction payloads Slack sends to an app.

The payloads follow Slack's documented shapes (block_actions, view_submission, view_closed,
slash commands) with the fields slack_bolt reads: `type`, `user`, `team`, `channel`,
`container`, `trigger_id`, `response_url(s)`, `actions`, `view`, `state`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from urllib.parse import urlencode

from bot.sandbox.workspace.models import JSON


def sign_request(*, signing_secret: str, body: str, timestamp: int) -> dict[str, str]:
    """The two headers Slack signs a request with: v0=hex(hmac_sha256(secret, "v0:ts:body"))."""
    base = f"v0:{timestamp}:{body}".encode()
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}


def interactive_body(payload: JSON) -> str:
    """The form body of an interactivity request: `payload=<json>`."""
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))})


def form_body(fields: dict[str, str]) -> str:
    """The form body of a slash command request."""
    return urlencode(fields)


@dataclass(frozen=True)
class Actor:
    """Who acts, in which workspace and toward which app."""

    user_id: str
    user_name: str
    team_id: str
    team_domain: str
    api_app_id: str
    verification_token: str

    def user(self) -> JSON:
        return {
            "id": self.user_id,
            "username": self.user_name,
            "name": self.user_name,
            "team_id": self.team_id,
        }

    def team(self) -> JSON:
        return {"id": self.team_id, "domain": self.team_domain}

    def common(self) -> JSON:
        return {
            "user": self.user(),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "team": self.team(),
            "enterprise": None,
            "is_enterprise_install": False,
        }


def block_actions_payload(
    *,
    actor: Actor,
    channel_id: str,
    channel_name: str,
    message_ts: str,
    message: JSON | None,
    actions: list[JSON],
    trigger_id: str,
    response_url: str,
    is_ephemeral: bool = False,
    thread_ts: str | None = None,
    state_values: JSON | None = None,
) -> JSON:
    """A `block_actions` payload for an action on a message (`message` is None if ephemeral)."""
    container: JSON = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel_id,
        "is_ephemeral": is_ephemeral,
    }
    if thread_ts is not None:
        container["thread_ts"] = thread_ts
    payload: JSON = {"type": "block_actions", **actor.common()}
    payload.update(
        {
            "container": container,
            "trigger_id": trigger_id,
            "channel": {"id": channel_id, "name": channel_name},
            "state": {"values": state_values or {}},
            "response_url": response_url,
            "actions": actions,
        }
    )
    if message is not None:
        payload["message"] = message
    return payload


def action_payload(element: JSON, *, block_id: str, action_ts: str, **selection: object) -> JSON:
    """One entry of `actions`: the element's type/ids/text/value plus the selection made
    (`selected_option=…`, `selected_user=…`)."""
    action: JSON = {
        "type": element.get("type"),
        "action_id": element.get("action_id"),
        "block_id": block_id,
        "action_ts": action_ts,
    }
    for key in ("text", "value", "style", "placeholder", "url"):
        if key in element:
            action[key] = element[key]
    action.update(selection)
    return action


def view_submission_payload(
    *,
    actor: Actor,
    view: JSON,
    trigger_id: str,
    response_urls: list[JSON] | None = None,
) -> JSON:
    """A `view_submission` payload; `view` is the full view with `state.values` filled in."""
    payload: JSON = {"type": "view_submission", **actor.common()}
    payload.update({"trigger_id": trigger_id, "view": view, "response_urls": response_urls or []})
    return payload


def view_closed_payload(*, actor: Actor, view: JSON, is_cleared: bool = False) -> JSON:
    """A `view_closed` payload (sent only for views opened with notify_on_close)."""
    payload: JSON = {"type": "view_closed", **actor.common()}
    payload.update({"view": view, "is_cleared": is_cleared})
    return payload


def slash_command_form(
    *,
    actor: Actor,
    channel_id: str,
    channel_name: str,
    command: str,
    text: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, str]:
    """The form fields of a slash command request."""
    return {
        "token": actor.verification_token,
        "team_id": actor.team_id,
        "team_domain": actor.team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": actor.user_id,
        "user_name": actor.user_name,
        "command": command,
        "text": text,
        "api_app_id": actor.api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
