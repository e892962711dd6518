"""The calendar feeds over HTTP: ``GET /calendar/rotations/<name>.ics`` and
``GET /calendar/people/<slack id>.ics``, each behind its own token (``?token=``).

A wrong or missing token, and a feed the policy does not have, get the same answer as a page
that does not exist (404 ``{"detail": "Not Found"}``) after the same work: the answer never
tells whether a feed exists. The token is never logged (the access log redacts query values,
bot.runtime.logging_setup).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from urllib.parse import urlsplit

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from bot.policy.stored_overrides import StoredOverrides
from bot.runtime.clock import Clock
from bot.schedule.feeds import FEED_PAST, Feed, FeedKind, OnCallCalendars
from bot.schedule.ics import render_feed
from bot.schedule.tokens import token_matches
from escalation.oncall import Override
from storage.calendar_feeds import calendar_key, feed_generation
from storage.db import Database

log = structlog.get_logger("tocsin.calendar")

OverrideSource = Callable[[], Awaitable[Mapping[str, Sequence[Override]]]]
"""Overrides kept outside the policy file, by rotation: those made from Slack
(:func:`stored_calendar_overrides`); the calendar feeds and the schedule page
(bot.schedule.page) both take one."""

MEDIA_TYPE = "text/calendar; charset=utf-8"
HEADERS = {
    # private: the URL holds a secret, so no shared cache keeps it; five minutes spares a
    # calendar app that asks again at once, and an override still shows within minutes
    "Cache-Control": "private, max-age=300",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
NOT_FOUND = {"detail": "Not Found"}
"""What FastAPI answers for a path it does not know."""


async def no_overrides() -> Mapping[str, Sequence[Override]]:
    return {}


def stored_calendar_overrides(stored: StoredOverrides | None) -> OverrideSource:
    """The overrides made from Slack that a feed's window (``FEED_PAST`` on) can show."""
    if stored is None:
        return no_overrides

    async def source() -> Mapping[str, Sequence[Override]]:
        return await stored.since(FEED_PAST)

    return source


class CalendarFeedWeb:
    def __init__(
        self,
        *,
        db: Database,
        calendars: OnCallCalendars,
        clock: Clock,
        public_url: str,
        overrides: OverrideSource = no_overrides,
    ) -> None:
        self.db = db
        self.calendars = calendars
        self.clock = clock
        self.domain = urlsplit(public_url).hostname or "tocsin"
        self.overrides = overrides
        self._key: bytes | None = None

    def router(self) -> APIRouter:
        router = APIRouter()

        @router.api_route(  # :path: a rotation's name may hold a slash (sent as %2F)
            "/calendar/rotations/{name:path}.ics", methods=["GET", "HEAD"], include_in_schema=False
        )
        async def rotation_feed(name: str, request: Request) -> Response:
            return await self.answer("rotation", name, request)

        @router.api_route(
            "/calendar/people/{user}.ics", methods=["GET", "HEAD"], include_in_schema=False
        )
        async def person_feed(user: str, request: Request) -> Response:
            return await self.answer("person", user, request)

        return router

    async def answer(self, kind: FeedKind, name: str, request: Request) -> Response:
        given = request.query_params.get("token")
        feed = self.calendars.feed(kind, name)
        if not await self.admits(feed or Feed(kind, name), given) or feed is None:
            log.info("calendar_feed_refused", kind=kind, token_sent=given is not None)
            return JSONResponse(NOT_FOUND, status_code=404)
        now = self.clock()
        shifts = self.calendars.shifts(feed, now=now, extra=await self.overrides())
        title = self.calendars.title(feed)
        body = await asyncio.to_thread(render_feed, title, shifts, stamp=now, domain=self.domain)
        log.debug("calendar_feed_served", feed=feed.key, events=len(shifts))
        return Response(body, media_type=MEDIA_TYPE, headers=HEADERS)

    async def admits(self, feed: Feed, given: str | None) -> bool:
        """The token is the feed's current one (the feed need not exist: same work either
        way)."""
        if self._key is None:
            self._key = await calendar_key(self.db, now=self.clock())
        generation = await feed_generation(self.db, feed.key)
        return token_matches(given, self._key, feed, generation)
