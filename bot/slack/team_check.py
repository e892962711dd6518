"""Requests from another Slack workspace are refused.

A request signed with our signing secret comes from Slack, but not necessarily from our
workspace: an app installed in several (or distributed) gets them all. The workspace is
``SLACK_TEAM_ID`` (several, comma-separated, for an Enterprise Grid) or else the one
``auth.test`` names for the bot token (Bolt calls it once, on the first request). A request
that names another team is answered 403, logged and counted (``wrong_team``); one that names
no team (rare org-wide events) is let through. HTTP and Socket Mode alike: this is a Bolt
middleware.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

log = structlog.get_logger("tocsin.slack")


def check_team(bolt: AsyncApp, *, team_ids: str | None, refused: Callable[[str], None]) -> None:
    """Refuse requests from a workspace other than ``team_ids`` (or ``auth.test``'s)."""
    configured = {t.strip() for t in (team_ids or "").split(",") if t.strip()}

    async def team_is_ours(
        req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse:
        given = req.context.team_id
        installed = req.context.authorize_result.team_id if req.context.authorize_result else None
        ours = configured or ({installed} if installed else set())
        if given and ours and given not in ours:
            refused("wrong_team")
            log.warning("slack_request_refused", reason="wrong_team", team_id=given[:20])
            return BoltResponse(status=403, body="this app does not serve that workspace")
        return await next()

    bolt.use(team_is_ours)
