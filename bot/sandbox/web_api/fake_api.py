"""A fake Slack Web API over HTTP: `POST|GET /api/{method}` and the `/response/{token}` receiver.

It answers like Slack: HTTP 200 with `{"ok": false, "error": …}` for failures, HTTP 429 with a
`Retry-After` header when a channel's write budget is spent, and it takes the bot token from
`Authorization: Bearer …` or a `token` field. Bodies may be JSON or form-encoded, and arguments
may also come in the query string (slack_sdk sends all three, depending on the method).
`apps.connections.open` (Socket Mode) takes the app-level token instead, when one is set.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.sandbox.web_api.api_methods import APP_TOKEN_METHODS, METHODS
from bot.sandbox.web_api.args import Args
from bot.sandbox.web_api.responses import apply_response
from bot.sandbox.workspace.models import JSON, ApiError, Outage
from bot.sandbox.workspace.world import SlackWorld


async def _read_args(request: Request) -> dict[str, Any]:
    args: dict[str, Any] = dict(request.query_params)
    raw = await request.body()
    if not raw:
        return args
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            data = json.loads(raw)
        except ValueError:
            raise ApiError("invalid_json") from None
        if not isinstance(data, dict):
            raise ApiError("json_not_object")
        args.update(data)
    elif content_type in ("application/x-www-form-urlencoded", ""):
        args.update(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    else:
        raise ApiError("invalid_form_data")
    return args


def _token(request: Request, args: dict[str, Any]) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    token = args.pop("token", None)
    return str(token) if token else None


def _error_response(error: ApiError) -> JSONResponse:
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
    return JSONResponse(error.to_body(), status_code=error.status, headers=headers)


class FakeSlackApi:
    """The request handlers, bound to one world, one bot token and maybe an app-level token.

    Without `app_token` Socket Mode is off: `apps.connections.open` answers `invalid_auth`.
    """

    def __init__(self, world: SlackWorld, *, bot_token: str, app_token: str | None = None) -> None:
        self.world = world
        self.bot_token = bot_token
        self.app_token = app_token

    def _check_token(self, method: str, token: str) -> None:
        """As Slack: app-level methods take only the app token, the rest only the bot token."""
        if method in APP_TOKEN_METHODS:
            if self.app_token is not None and token == self.app_token:
                return
            raise ApiError("not_allowed_token_type" if token == self.bot_token else "invalid_auth")
        if token == self.bot_token:
            return
        if self.app_token is not None and token == self.app_token:
            raise ApiError("not_allowed_token_type")
        raise ApiError("invalid_auth")

    async def call(self, request: Request) -> JSONResponse:
        method = str(request.path_params["method"])
        try:
            args = await _read_args(request)
            token = _token(request, args)
            if token is None:
                raise ApiError("not_authed")
            self._check_token(method, token)
            handler = METHODS.get(method)
            if handler is None:
                raise ApiError("unknown_method")
            outage = self.world.faults.current_outage(self.world.clock())
            if outage is not None and method not in APP_TOKEN_METHODS:
                return await self._down(outage, method, Args(args))
            fault = self.world.faults.take(method, args.get("channel"))
            if fault is not None:
                if fault.apply:
                    handler(self.world, Args(args))
                retry_after = fault.retry_after
                if fault.status == 429 and retry_after is None:
                    retry_after = 1
                raise ApiError(fault.error_code, status=fault.status, retry_after=retry_after)
            body: JSON = {"ok": True}
            body.update(handler(self.world, Args(args)))
            return JSONResponse(body)
        except ApiError as error:
            return _error_response(error)

    async def _down(self, outage: Outage, method: str, args: Args) -> JSONResponse:
        """Answer as Slack does while it is down (see `SlackWorld.start_outage`)."""
        applied: JSON | None = None
        if outage.apply:
            applied = {"ok": True}
            applied.update(METHODS[method](self.world, args))
        if outage.hang > 0:
            await asyncio.sleep(outage.hang)
        if applied is not None:
            return JSONResponse(applied)  # too late for a client that timed out
        retry_after = outage.retry_after
        if outage.status == 429 and retry_after is None:
            retry_after = 1
        return _error_response(
            ApiError(outage.error_code, status=outage.status, retry_after=retry_after)
        )

    async def upload(self, request: Request) -> Response:
        """Step 2 of an external upload: the bytes, POSTed to the URL step 1 gave out."""
        try:
            self.world.files.receive(str(request.path_params["ticket"]), await request.body())
        except ApiError as error:
            return PlainTextResponse(error.error, status_code=error.status)
        self.world.touch()
        return PlainTextResponse("OK")

    async def respond(self, request: Request) -> JSONResponse:
        """Take what the bot sends to a response_url (bolt's `respond()`)."""
        try:
            raw = await request.body()
            try:
                if request.headers.get("content-type", "").startswith("application/json"):
                    payload = json.loads(raw or b"{}")
                else:
                    payload = json.loads(dict(parse_qsl(raw.decode())).get("payload", "{}"))
            except ValueError:
                raise ApiError("invalid_payload", status=400) from None
            if not isinstance(payload, dict):
                raise ApiError("invalid_payload", status=400)
            apply_response(self.world, str(request.path_params["token"]), payload)
            return JSONResponse({"ok": True})
        except ApiError as error:
            return _error_response(error)


def build_fake_slack_api(
    world: SlackWorld, *, bot_token: str, app_token: str | None = None
) -> Starlette:
    """The fake Web API (`/api/{method}`), the response_url receiver (`/response/{token}`)
    and the Socket Mode WebSocket (`/socket-mode/link`, see `bot.sandbox.workspace.socket_mode`)."""
    api = FakeSlackApi(world, bot_token=bot_token, app_token=app_token)
    return Starlette(routes=api_routes(api))


def api_routes(api: FakeSlackApi) -> list[BaseRoute]:
    return [
        Route("/api/{method:str}", api.call, methods=["GET", "POST"]),
        Route("/response/{token:str}", api.respond, methods=["POST"]),
        Route("/upload/v1/{ticket:str}", api.upload, methods=["POST"]),
        *api.world.socket_mode.routes(),
    ]
