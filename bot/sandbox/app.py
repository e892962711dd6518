"""The whole sandbox as one ASGI app: fake Web API, response_url receiver, and the page."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request

from bot.sandbox.driver import SandboxDriver
from bot.sandbox.page import PageGuard, page_routes
from bot.sandbox.web_api.fake_api import FakeSlackApi, api_routes
from bot.sandbox.workspace.world import SlackWorld


def _any_page(request: Request) -> None:
    return None


def build_sandbox_app(
    world: SlackWorld,
    *,
    bot_token: str,
    signing_secret: str,
    events_url: str,
    public_url: str,
    page_guard: PageGuard | None = None,
    app_token: str | None = None,
) -> Starlette:
    """The sandbox app. Routes (relative to where it is mounted):

    - `GET|POST /api/{method}` — the fake Slack Web API (use `<public_url>/api/` as base_url)
    - `POST /response/{token}` — response_urls handed out with interactions
    - `GET /`, `GET /state`, `POST /act`, `/static/…` — the page
    - `WS /socket-mode/link?ticket=…` — Socket Mode, reached through the URL that
      `apps.connections.open` gives for `app_token` (without one, Socket Mode is off)

    `events_url` is the bot's Slack endpoint (its `/slack/events`) that the page's actions are
    signed with `signing_secret` and sent to; `public_url` is this app's own absolute URL
    (e.g. "http://127.0.0.1:8080/sandbox"), from which response_urls and Socket Mode URLs are
    made. With `app_token`, the page's actions go over Socket Mode while an app is connected.
    `page_guard` refuses page actions sent by another site's page (the sandbox imports nothing
    else of Tocsin, so the app that mounts it passes its own same-origin check; without one,
    as in test harnesses no browser reaches, page actions are only held to JSON).
    """
    world.public_url = public_url.rstrip("/")
    driver = SandboxDriver(
        world,
        signing_secret=signing_secret,
        events_url=events_url,
        transport="http" if app_token is None else "auto",
    )
    api = FakeSlackApi(world, bot_token=bot_token, app_token=app_token)
    app = Starlette(
        routes=[*api_routes(api), *page_routes(world, driver, guard=page_guard or _any_page)]
    )
    app.state.world = world
    app.state.driver = driver
    return app
