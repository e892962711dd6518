"""The weekly digest: each team with ``digest:`` in the policy file gets the last 7 days'
review posted to its channel on its day and time (team time zone), with a chart image
uploaded through Slack's external file upload when matplotlib (the ``charts`` extra) is
installed; without it the report goes alone and one log line per process says how to add it.

APScheduler runs one cron job per team in the team's zone, plus an hourly catch-up that posts
a digest whose slot passed while no replica was running (up to ``GRACE`` late) and retries
one whose posting failed. Whatever fires, the database decides (``storage.review.digests.claim``):
one post per team and week, however many replicas run.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot.review.charts import INSTALL_HINT, review_chart_png
from bot.review.reports import make_review
from bot.runtime.clock import Clock
from bot.slack.blocks.report_blocks import report_message
from config.policy import PolicyFile
from escalation.review.offhours import WEEKDAYS
from escalation.review.weekly import last_slot
from storage.db import Database
from storage.review import digests
from storage.review.facts import ReviewFilter

log = structlog.get_logger("tocsin.digest")
GRACE = timedelta(hours=12)
"""A digest whose slot passed longer ago than this is skipped (next week's will come)."""
STALE_CLAIM = timedelta(minutes=10)
PERIOD = timedelta(days=7)


@functools.cache
def _say_chart_is_off() -> None:
    """Once per process, not once per digest."""
    log.info("digest_chart_off", reason="matplotlib is not installed", hint=INSTALL_HINT)


@dataclass(frozen=True)
class Schedule:
    team: str
    weekday: int
    at: time
    zone: ZoneInfo
    channel: str


def schedules(policy: PolicyFile) -> list[Schedule]:
    found = []
    for name, team in policy.teams.items():
        if team.digest is None:
            continue
        channel = team.digest.channel or team.channel
        assert channel is not None  # the policy file's validation makes sure
        found.append(
            Schedule(
                team=name,
                weekday=WEEKDAYS.index(team.digest.day),
                at=time.fromisoformat(team.digest.time),
                zone=ZoneInfo(team.timezone),
                channel=channel,
            )
        )
    return found


class WeeklyDigest:
    def __init__(
        self,
        *,
        db: Database,
        policy: PolicyFile,
        client: AsyncWebClient,
        clock: Clock,
        instance: str | None = None,
    ) -> None:
        self._db = db
        self._policy = policy
        self._client = client
        self._clock = clock
        self._schedules = {s.team: s for s in schedules(policy)}
        self.instance = instance or f"{socket.gethostname()[:40]}-{uuid.uuid4().hex[:8]}"
        self._scheduler: Any = None

    def use_policy(self, policy: PolicyFile) -> None:
        """Names and levels from ``policy`` (a reloaded policy); the digests' days and times
        are scheduled at start and change with a restart."""
        self._policy = policy

    def register(self, scheduler: Any) -> None:
        """One cron job per team (its day and time in its zone), and the hourly catch-up."""
        for schedule in self._schedules.values():
            scheduler.add_job(
                self.post_due,
                CronTrigger(
                    day_of_week=WEEKDAYS[schedule.weekday][:3],
                    hour=schedule.at.hour,
                    minute=schedule.at.minute,
                    timezone=schedule.zone,
                ),
                args=[schedule.team],
                id=f"tocsin-digest-{schedule.team}",
                coalesce=True,
                max_instances=1,
                misfire_grace_time=int(GRACE.total_seconds()),
            )
        if self._schedules:
            scheduler.add_job(
                self.catch_up,
                "interval",
                hours=1,
                id="tocsin-digest-catch-up",
                coalesce=True,
                max_instances=1,
            )

    async def run(self) -> None:
        """Start the scheduler, catch up once, and run until cancelled."""
        if not self._schedules:
            return
        scheduler = AsyncIOScheduler(timezone="UTC")
        self.register(scheduler)
        scheduler.start()
        try:
            await self.catch_up()
            await asyncio.Event().wait()
        finally:
            scheduler.shutdown(wait=False)

    async def catch_up(self) -> None:
        for team in self._schedules:
            try:
                await self.post_due(team)
            except Exception:  # one team's failure must not stop the others' digests
                log.exception("digest_catch_up_failed", team=team)

    async def post_due(self, team: str) -> bool:
        """Post ``team``'s digest for its latest slot if nobody has; True if this call did."""
        schedule = self._schedules[team]
        now = self._clock()
        slot = last_slot(now, weekday=schedule.weekday, at=schedule.at, zone=schedule.zone)
        if now - slot > GRACE:
            return False
        key = f"{team}:{slot.astimezone(schedule.zone).date().isoformat()}"
        if not await digests.claim(
            self._db,
            key=key,
            team=team,
            slot=slot,
            instance=self.instance,
            now=now,
            stale_after=STALE_CLAIM,
        ):
            return False
        try:
            await self._post(schedule, slot)
        except Exception as exc:
            log.exception("digest_failed", team=team, key=key)
            await digests.mark(self._db, key=key, now=self._clock(), error=repr(exc)[:500])
            raise
        await digests.mark(self._db, key=key, now=self._clock())
        log.info("digest_posted", team=team, key=key, channel=schedule.channel)
        return True

    async def _post(self, schedule: Schedule, slot: datetime) -> None:
        spec = ReviewFilter(since=slot - PERIOD, until=slot, team=schedule.team)
        review = await make_review(self._db, self._policy, spec)
        team_name = self._policy.teams[schedule.team].name or schedule.team
        local = slot.astimezone(schedule.zone)
        title = f"Weekly review · {team_name} · week to {local:%a %d %b %Y}"
        names = {u: p.name for u, p in self._policy.people.items()}
        text, blocks = report_message(review.as_dict(), title=title, names=names)
        posted = await self._client.chat_postMessage(  # the chart follows in the channel
            channel=schedule.channel, text=text, blocks=blocks
        )
        levels: dict[int, str] = {n: level.name for n, level in self._policy.levels.items()}
        png = await asyncio.to_thread(review_chart_png, review.series(), level_names=levels)
        if png is None:
            _say_chart_is_off()
            return
        try:
            await self._client.files_upload_v2(
                channel=str(posted["channel"]),
                file=png,
                filename=f"tocsin-review-{schedule.team}-{local:%Y-%m-%d}.png",
                title=f"Alerts per day and MTTA/MTTR · {team_name}",
                alt_txt="Alerts per day by level, and the daily median time to acknowledge "
                "and to resolve",
            )
        except (SlackApiError, SlackRequestError):
            # The report is out; a missing chart is not worth posting the report twice.
            log.warning("digest_chart_upload_failed", team=schedule.team, exc_info=True)
