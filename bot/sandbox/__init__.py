"""A local Slack sandbox — a development aid, used when no SLACK_BOT_TOKEN is set, and by tests.

It holds an in-memory Slack workspace (`SlackWorld`), serves a fake Slack Web API that the bot's
real `AsyncWebClient` talks to over HTTP (`build_sandbox_app`, mounted by the bot at `/sandbox`,
Web API base URL `<public_url>/api/`), acts as Slack users by sending the bot Slack-signed
interactions and slash commands (`SandboxDriver`), and shows it all on a browser page.

Rooms: `workspace/` (the in-memory workspace), `web_api/` (the Web API served over HTTP and
Slack's checks), and here the driver, its request signing, the page and the app wiring them.
`SandboxStateFile` keeps the workspace across restarts in a JSON file whose path the bot
gives. It imports nothing else of Tocsin (import-linter keeps it so): the bot wires it in.
"""

from bot.sandbox.app import build_sandbox_app
from bot.sandbox.driver import SandboxDriver
from bot.sandbox.signing import (
    Actor,
    block_actions_payload,
    sign_request,
    slash_command_form,
    view_submission_payload,
)
from bot.sandbox.web_api.fake_api import build_fake_slack_api
from bot.sandbox.web_api.limits import block_errors, check_message, check_view
from bot.sandbox.workspace.models import (
    DEFAULT_USERS,
    ApiError,
    Channel,
    Ephemeral,
    Message,
    SandboxError,
    User,
    View,
)
from bot.sandbox.workspace.state_file import SandboxStateFile
from bot.sandbox.workspace.world import SlackWorld

__all__ = [
    "DEFAULT_USERS",
    "Actor",
    "ApiError",
    "Channel",
    "Ephemeral",
    "Message",
    "SandboxDriver",
    "SandboxError",
    "SandboxStateFile",
    "SlackWorld",
    "User",
    "View",
    "block_actions_payload",
    "block_errors",
    "build_fake_slack_api",
    "build_sandbox_app",
    "check_message",
    "check_view",
    "sign_request",
    "slash_command_form",
    "view_submission_payload",
]
