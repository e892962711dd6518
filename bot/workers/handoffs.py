"""Hand-off notices: when a rotation's shift changes, say so in the rotation's channel.

An APScheduler job looks every minute for shifts that started since the last look (after the
overrides from the policy file and those made from Slack, so an override's start and end are
hand-offs too). Each
notice is recorded (``processed_request``) before it is sent, so replicas and restarts never
post it twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

import structlog
from slack_sdk.web.async_client import AsyncWebClient

from bot.policy.directory import PolicyDirectory
from bot.runtime.clock import Clock
from bot.slack.blocks.render import slack_date
from escalation.oncall import LATEST, handoffs_between, on_call
from storage.db import Database
from storage.requests import first_time

log = structlog.get_logger("tocsin.handoffs")


class Handoffs:
    def __init__(
        self,
        *,
        db: Database,
        client: AsyncWebClient,
        directory: PolicyDirectory,
        channels: Mapping[str, str],
        clock: Clock,
        refresh_overrides: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._refresh_overrides = refresh_overrides
        self._db = db
        self._client = client
        self._directory = directory
        self._channels = channels
        self._clock = clock
        self._since: datetime | None = None

    async def check(self) -> int:
        """Post a notice for every hand-off since the last check; returns how many. The
        overrides made from Slack count: the notice names who is really on call."""
        if self._refresh_overrides is not None:
            await self._refresh_overrides()
        now = self._clock()
        since = self._since or now - timedelta(minutes=1)
        self._since = now
        posted = 0
        for name, channel in self._channels.items():
            rotation = self._directory.rotations.get(name)
            if rotation is None:
                continue
            for shift in handoffs_between(rotation, start=since, end=now):
                before = on_call(rotation, at=shift.start - timedelta(microseconds=1))
                if before.user == shift.user:
                    continue
                key = f"handoff:{name}:{shift.start.isoformat()}"
                if not await first_time(self._db, key=key, now=now):
                    continue
                until = (  # a calendar rotation's fallback, with no shift in the calendar ahead
                    "the calendar names someone" if shift.end >= LATEST else slack_date(shift.end)
                )
                text = (
                    f":arrows_counterclockwise: *{name}*: <@{shift.user}> is now on call "
                    f"(taking over from <@{before.user}>) until {until}."
                )
                try:
                    await self._client.chat_postMessage(channel=channel, text=text)
                except Exception as exc:
                    log.warning("handoff_notice_failed", rotation=name, error=str(exc))
                    continue
                posted += 1
                log.info("handoff_notice", rotation=name, user=shift.user)
        return posted
