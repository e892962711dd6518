"""The sandbox's browser page: `GET /` (the page), `GET /state` (JSON), `POST /act` (do something:
act as a user, or `{"kind": "reset"}` to clear the sandbox's messages).

The page never holds the signing secret: `/act` asks a SandboxDriver to send the signed request.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.sandbox.driver import SandboxDriver
from bot.sandbox.workspace.models import JSON, InputsMissing, Message, SandboxError
from bot.sandbox.workspace.world import SlackWorld

STATIC_DIR = Path(__file__).parent / "static"


def _message_state(world: SlackWorld, message: Message) -> JSON:
    author = world.users.get(message.user)
    data: JSON = {
        "ts": message.ts,
        "user": message.user,
        "user_name": author.name if author else message.user,
        "is_bot": message.bot_id is not None,
        "text": message.text,
        "blocks": message.blocks,
        "attachments": message.attachments,
        "edited": message.edited,
        "thread_ts": message.thread_ts,
    }
    if message.replies:
        replies = [world.messages[(message.channel, ts)] for ts in message.replies]
        data["replies"] = [_message_state(world, reply) for reply in replies]
    return data


def world_state(world: SlackWorld, user: str | None) -> JSON:
    """Everything the page shows, as seen by `user` (ephemerals and modals are theirs only)."""
    channels = sorted(world.channels.values(), key=lambda c: (c.is_im, c.name))
    return {
        "version": world.version,
        "bot": {"id": world.bot_user_id, "name": world.users[world.bot_user_id].name},
        "users": [
            {"id": u.id, "name": u.name, "real_name": u.real_name, "is_bot": u.is_bot}
            for u in world.users.values()
        ],
        "channels": [
            {
                "id": c.id,
                "name": c.name,
                "is_im": c.is_im,
                "user": c.user,
                "writes": len(world.write_log.writes(c.id)),
                "messages": [_message_state(world, m) for m in world.channel_messages(c.id)],
            }
            for c in channels
        ],
        "ephemerals": [
            {"channel": e.channel, "ts": e.ts, "text": e.text, "blocks": e.blocks}
            | {"thread_ts": e.thread_ts, "source": e.source}
            for e in (world.ephemerals_for(user) if user else [])
        ],
        "views": [
            {"id": v.id, "hash": v.hash, "callback_id": v.callback_id, **v.definition}
            | {"values": v.typed}
            for v in (world.open_views(user) if user else [])
        ],
    }


def _text(data: JSON, key: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or not value:
        raise SandboxError(f"'{key}' is required")
    return value


def _values(data: JSON) -> dict[str, dict[str, str]]:
    raw: Any = data.get("values", {})
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise SandboxError("'values' must map block_id to {action_id: value}")
    return {str(b): {str(a): str(v) for a, v in acts.items() if v} for b, acts in raw.items()}


async def _dispatch(driver: SandboxDriver, data: JSON) -> httpx.Response | None:
    if data.get("kind") == "reset":  # the page's "Reset sandbox": not an action of a user
        driver.world.reset()
        return None
    kind, user = data.get("kind"), _text(data, "user")
    if kind == "slash":
        return await driver.slash_command(
            text=str(data.get("text", "")),
            user=user,
            channel=_text(data, "channel", "#alerts"),
            command=_text(data, "command", "/tocsin"),
        )
    if kind == "submit_view":
        return await driver.submit_view(
            view_id=_text(data, "view_id"), user=user, values=_values(data)
        )
    if kind == "close_view":
        return await driver.close_view(view_id=_text(data, "view_id"), user=user)
    where = {"channel": _text(data, "channel"), "ts": _text(data, "ts"), "user": user}
    action_id = _text(data, "action_id")
    if kind == "button":
        value = data.get("value")
        return await driver.press_button(
            **where, action_id=action_id, value=value if isinstance(value, str) else None
        )
    if kind == "select":
        return await driver.select_option(**where, action_id=action_id, value=_text(data, "value"))
    if kind == "user_select":
        selected = _text(data, "selected_user")
        return await driver.select_user(**where, action_id=action_id, selected_user=selected)
    raise SandboxError(f"unknown kind {kind!r}")


def _describe(response: httpx.Response | None) -> JSON:
    if response is None:
        return {"ok": True, "status": None}
    result: JSON = {"ok": response.status_code == 200, "status": response.status_code}
    try:
        body = response.json() if response.content.strip() else None
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("response_action") == "errors":
        result.update(ok=False, errors=body.get("errors", {}))
    elif response.status_code != 200:
        result["error"] = f"the bot answered HTTP {response.status_code}: {response.text[:300]}"
    return result


PageGuard = Callable[[Request], "str | None"]
"""Why a request to `/act` looks sent by another site's page, or None (the app that mounts the
sandbox decides what counts as its own pages)."""


def page_routes(world: SlackWorld, driver: SandboxDriver, *, guard: PageGuard) -> list[BaseRoute]:
    """The page's routes: `/`, `/state`, `/act` and `/static/…`.

    `/act` presses buttons as any user: it takes only JSON (a page elsewhere can send a form
    or `text/plain` without asking, but not JSON) from pages `guard` lets through."""

    async def index(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "sandbox.html", headers={"Cache-Control": "no-store"})

    async def state(request: Request) -> Response:
        user = request.query_params.get("user")
        return JSONResponse(world_state(world, user))

    async def act(request: Request) -> Response:
        cross_site = guard(request)
        if cross_site is not None:
            return JSONResponse({"ok": False, "error": cross_site}, status_code=403)
        media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if media != "application/json":
            error = f"send application/json, not {media[:60] or 'no Content-Type'}"
            return JSONResponse({"ok": False, "error": error}, status_code=415)
        try:
            data = await request.json()
            if not isinstance(data, dict):
                raise SandboxError("send a JSON object")
            return JSONResponse(_describe(await _dispatch(driver, data)))
        except InputsMissing as missing:  # shown under the inputs, as Slack's client does
            return JSONResponse({"ok": False, "status": None, "errors": missing.errors})
        except (SandboxError, ValueError) as error:
            return JSONResponse({"ok": False, "error": str(error)}, status_code=400)
        except httpx.HTTPError as error:
            message = f"could not reach the bot at {driver.events_url}: {error!r}"
            return JSONResponse({"ok": False, "error": message}, status_code=502)

    return [
        Route("/", index, methods=["GET"]),
        Route("/state", state, methods=["GET"]),
        Route("/act", act, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="sandbox-static"),
    ]
