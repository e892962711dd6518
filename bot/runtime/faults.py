"""Fault points: places where a test makes the process kill itself (SIGKILL), to prove that a
crash at exactly that moment loses nothing and doubles nothing.

Off unless ``TOCSIN_FAULT_POINT`` names a point (tests only; never set it in production).
With it set, the process dies the first time it reaches that point.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import structlog
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.delivery.slack_health import HealthReportingWebClient
from config.settings import FaultPoint

log = structlog.get_logger("tocsin.faults")


class FaultPoints:
    def __init__(self, armed: FaultPoint | None = None) -> None:
        self.armed = armed

    def reached(self, point: FaultPoint) -> None:
        if point != self.armed:
            return
        log.warning("fault_point_kill", point=point, pid=os.getpid())
        sys.stdout.flush()
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)


NO_FAULTS = FaultPoints()


class FaultyWebClient(HealthReportingWebClient):
    """The Slack client with the ``slack_after_post`` point: Slack has the message, Tocsin
    has not yet recorded it."""

    faults: FaultPoints = NO_FAULTS

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        response = await super().api_call(api_method, **kwargs)
        if api_method == "chat.postMessage":
            self.faults.reached("slack_after_post")
        return response
