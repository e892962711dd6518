"""Rotations fed by a calendar: fetch each feed (or read each file) every ``refresh``, keep
the last good copy, and lay its events out as the rotation's shifts.

* A feed is fetched with ``httpx``, retried a few times (``tenacity``) on a transport error
  or a 5xx; a file is read from disk. What comes back must parse as a calendar
  (bot.schedule.calendar_parse) to replace the copy.
* The **last good copy** is kept in memory and in the database (``rotation_calendar``), and
  at start the database's copy is used until the first fetch succeeds: a restart while the
  feed is down still pages whoever the calendar names.
* A failure is logged (``rotation_feed_failed``), counted
  (``tocsin_rotation_feed_errors_total``), shown in ``/readyz`` (``calendars``), and the age
  of the copy in use is ``tocsin_rotation_feed_age_seconds``.
* With **no copy at all** (never fetched, nothing saved), the rotation's ``fallback`` is on
  call; so is it for any time the calendar leaves uncovered.
* An email in an event (attendee, or in the summary or description) that the rotation's
  ``people`` map does not name is looked up in Slack (``users.lookupByEmail``, through the
  same :class:`~bot.policy.people_lookup.PeopleLookup` as the policy file's emails) before
  the copy is laid out. ``people`` wins over Slack. An email Slack does not know is not
  asked again for ``UNKNOWN_FOR``; a lookup that fails (Slack away) is logged and its event
  skipped like any event naming nobody: the layout never waits on Slack to come back.
* Each refresh (failed or not) lays the copy out again for ``WINDOW_PAST`` before now to
  ``WINDOW_AHEAD`` after it, so a recurring event keeps producing shifts while a feed is
  down for days.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from bot.policy.directory import rotation_of
from bot.policy.people_lookup import PeopleLookup
from bot.runtime.clock import Clock
from bot.runtime.metrics import Metrics
from bot.runtime.wakeup import Wakeup, run_until_cancelled
from bot.schedule.calendar_parse import CalendarParseError, parse_calendar
from config.policy import PolicyFile
from config.sections.escalation import RotationConfig
from escalation.calendar import CalendarEvent, Resolve, emails_to_resolve, slots_from_events
from escalation.oncall import Rotation
from storage.db import Database
from storage.rotation_calendars import save_calendar, saved_calendars

log = structlog.get_logger("tocsin.calendar_rotations")

WINDOW_PAST = timedelta(days=14)
WINDOW_AHEAD = timedelta(days=92)
MAX_BYTES = 5_000_000
"""A feed larger than this is refused (a calendar of on-call shifts is far smaller)."""
FETCH_ATTEMPTS = 3
POLL_SECONDS = 30.0
"""How often the worker looks for a feed due for its refresh."""
UNKNOWN_FOR = timedelta(hours=1)
"""An email Slack said it does not know is not asked about again for this long."""


def _no_one(_: str) -> str | None:
    return None


@dataclass
class _Feed:
    name: str
    config: RotationConfig
    rotation: Rotation
    body: bytes | None = None
    fetched_at: datetime | None = None
    error: str | None = None
    failed_at: datetime | None = None
    skipped: list[str] = field(default_factory=list)
    due: datetime | None = None
    busy: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Held by the refresh under way: the worker's timer and a caller (a reload, a test, the
    CLI) never fetch, look people up and lay out the same feed at once."""


class FeedFailed(Exception):
    """The feed could not be fetched, read or parsed; the message says why."""


class CalendarRotations:
    def __init__(
        self,
        policy: PolicyFile,
        *,
        db: Database,
        clock: Clock,
        http: httpx.AsyncClient,
        metrics: Metrics,
        base_dir: Path,
        resolve: Resolve = _no_one,
        people: PeopleLookup | None = None,
        retry_wait: float = 1.0,
    ) -> None:
        self._db = db
        self._clock = clock
        self._http = http
        self._metrics = metrics
        self._base = base_dir
        self._resolve = resolve
        self.people = people
        """Looks up in Slack the emails of events that ``people`` maps do not name."""
        self._known: dict[str, str] = {}
        """Emails Slack found, and their user ids (like the lookup, for the process's life)."""
        self._unknown: dict[str, datetime] = {}
        """Emails Slack said it does not know, and when it said so."""
        self.retry_wait = retry_wait
        self.wakeup = Wakeup()
        self._loaded = False
        self._feeds = {
            name: _Feed(name, config, rotation_of(name, config))
            for name, config in policy.rotations.items()
            if config.ical is not None
        }
        for feed in self._feeds.values():
            gauge = metrics.rotation_feed_age.labels(rotation=feed.name)
            gauge.set_function(partial(self._age, feed))
            metrics.rotation_feed_errors.labels(rotation=feed.name)

    def __bool__(self) -> bool:
        return bool(self._feeds)

    def current(self) -> Mapping[str, Rotation]:
        """The calendar-fed rotations as the latest good copy lays them out."""
        return {name: feed.rotation for name, feed in self._feeds.items()}

    def set_resolver(self, resolve: Resolve) -> None:
        """Emails and names in events → Slack ids, after each rotation's ``people`` map."""
        self._resolve = resolve

    # --- the worker ------------------------------------------------------------------

    async def run(self) -> None:
        await run_until_cancelled(
            self.refresh_due,
            wakeup=self.wakeup,
            poll_seconds=POLL_SECONDS,
            name="calendar_rotations",
            again_after_work=False,
        )

    async def load_saved(self) -> int:
        """Take the database's copies (of the same source) until a fetch brings a newer one."""
        saved = await saved_calendars(self._db)
        self._loaded = True
        now, used = self._clock(), 0
        for name, feed in self._feeds.items():
            copy = saved.get(name)
            assert feed.config.ical is not None
            if copy is None or copy.source != feed.config.ical.source or feed.body is not None:
                continue
            try:
                await self._lay_out(feed, copy.body, now=now)
            except CalendarParseError as exc:
                log.warning("rotation_feed_saved_copy_unreadable", rotation=name, error=str(exc))
                continue
            feed.body, feed.fetched_at = copy.body, copy.fetched_at
            used += 1
            log.info("rotation_feed_saved_copy_used", rotation=name, fetched_at=copy.fetched_at)
        return used

    async def refresh_due(self) -> int:
        if not self._loaded:  # first the saved copies (retried if the database is away)
            await self.load_saved()
        now = self._clock()
        due = [f for f in self._feeds.values() if f.due is None or f.due <= now]
        for feed in due:
            if not feed.busy.locked():  # a refresh under way already brings it up to date
                await self.refresh(feed.name)
        return len(due)

    async def refresh(self, name: str) -> bool:
        """Fetch the feed again; on success it is the new copy. Either way the copy in use is
        laid out again around now. True if the fetch succeeded. One refresh of a feed at a
        time: a second waits for the first, then finds the emails it looked up in the caches."""
        feed = self._feeds[name]
        async with feed.busy:
            return await self._refresh(feed)

    async def _refresh(self, feed: _Feed) -> bool:
        name = feed.name
        config = feed.config.ical
        assert config is not None
        now = self._clock()
        feed.due = now + timedelta(seconds=config.refresh)
        try:
            body = await self._fetch(feed)
            await self._lay_out(feed, body, now=now)
        except (FeedFailed, CalendarParseError) as exc:
            feed.error, feed.failed_at = str(exc), now
            self._metrics.rotation_feed_errors.labels(rotation=name).inc()
            log.warning(
                "rotation_feed_failed",
                rotation=name,
                source=_shown(config.source),
                error=str(exc),
                keeps="last good copy" if feed.body is not None else "fallback",
            )
            if feed.body is not None:
                await self._lay_out(feed, feed.body, now=now)
            return False
        feed.body, feed.fetched_at, feed.error, feed.failed_at = body, now, None, None
        try:
            await save_calendar(self._db, name, source=config.source, body=body, fetched_at=now)
        except Exception as exc:  # the copy in memory still serves; the next refresh saves
            log.warning("rotation_feed_not_saved", rotation=name, error=repr(exc)[:300])
        log.info("rotation_feed_refreshed", rotation=name, shifts=len(feed.rotation.calendar or ()))
        return True

    # --- what is shown -------------------------------------------------------------------

    def report(self) -> dict[str, dict[str, Any]]:
        """Each calendar-fed rotation's feed, for ``/readyz``."""
        now = self._clock()
        shown: dict[str, dict[str, Any]] = {}
        for name, feed in self._feeds.items():
            assert feed.config.ical is not None
            status = "ok" if feed.error is None else "stale"
            if feed.body is None:
                status = "fallback" if feed.error is not None else "pending"
            entry: dict[str, Any] = {"status": status, "source": _shown(feed.config.ical.source)}
            if feed.fetched_at is not None:
                entry["fetched_at"] = feed.fetched_at.isoformat()
                entry["age_seconds"] = round((now - feed.fetched_at).total_seconds())
            if feed.error is not None:
                entry["error"] = feed.error
            if feed.skipped:
                entry["skipped_events"] = feed.skipped[:5]
            shown[name] = entry
        return shown

    def sources(self) -> dict[str, str]:
        """A line per calendar-fed rotation for the schedule page: its source and freshness."""
        lines: dict[str, str] = {}
        for name, feed in self._feeds.items():
            assert feed.config.ical is not None
            line = f"from the calendar {_shown(feed.config.ical.source)}"
            if feed.fetched_at is not None:
                line += f", read {feed.fetched_at:%Y-%m-%d %H:%M} UTC"
            else:
                line += ", not read yet: the fallback is on call"
            if feed.error is not None:
                line += f"; the last try failed ({feed.error})"
            lines[name] = line
        return lines

    def _age(self, feed: _Feed) -> float:
        if feed.fetched_at is None:
            return math.inf
        return max((self._clock() - feed.fetched_at).total_seconds(), 0.0)

    # --- internals -------------------------------------------------------------------

    async def _lay_out(self, feed: _Feed, body: bytes, *, now: datetime) -> None:
        config = feed.config
        events = parse_calendar(
            body, start=now - WINDOW_PAST, end=now + WINDOW_AHEAD, timezone=config.timezone
        )
        people = config.people
        in_slack = await self._look_up(feed, events, now=now)

        def resolve(key: str) -> str | None:
            key = key.strip().lower()
            return people.get(key) or in_slack.get(key) or self._resolve(key)

        slots, skipped = slots_from_events(events, resolve)
        for problem in skipped[:20]:
            if problem not in feed.skipped:
                log.warning("rotation_feed_event_skipped", rotation=feed.name, problem=problem)
        feed.skipped = skipped
        feed.rotation = rotation_of(feed.name, config, calendar=tuple(slots))

    async def _look_up(
        self, feed: _Feed, events: list[CalendarEvent], *, now: datetime
    ) -> dict[str, str]:
        """Emails → Slack ids, as Slack answered (now or before) for the events' emails that
        the rotation's ``people`` does not name. Never raises: after a failed lookup the rest
        are not asked this time (Slack is away; the lookup's retries already waited), and
        events naming only them are skipped."""
        if self.people is None:
            return {}
        self._unknown = {e: t for e, t in self._unknown.items() if now - t < UNKNOWN_FOR}
        wanted = [
            email
            for email in dict.fromkeys(e for event in events for e in emails_to_resolve(event))
            if email not in feed.config.people
            and email not in self._known
            and email not in self._unknown
        ]
        for asked, email in enumerate(wanted):
            try:
                user = await self.people.slack_id(email)
            except Exception as exc:  # Slack did not answer, after the lookup's retries
                log.warning(
                    "rotation_feed_people_lookup_failed",
                    rotation=feed.name,
                    email=email,
                    not_asked=len(wanted) - asked - 1,
                    error=repr(exc)[:300],
                    keeps="events naming only these emails are skipped until a lookup succeeds",
                )
                break
            if user is None:
                self._unknown[email] = now
            else:
                self._known[email] = user
        return self._known

    async def _fetch(self, feed: _Feed) -> bytes:
        config = feed.config.ical
        assert config is not None
        if config.file is not None:
            path = self._base / config.file
            try:
                return await asyncio.to_thread(path.read_bytes)
            except OSError as exc:
                raise FeedFailed(f"cannot read {path}: {exc.strerror or exc}") from None
        assert config.url is not None
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(FETCH_ATTEMPTS),
                wait=wait_exponential(multiplier=self.retry_wait, max=10 * self.retry_wait),
                retry=retry_if_exception(_worth_retrying),
                reraise=True,
            ):
                with attempt:
                    response = await self._http.get(config.url, timeout=10.0, follow_redirects=True)
                    response.raise_for_status()
        except httpx.HTTPStatusError as exc:
            raise FeedFailed(f"the feed answered HTTP {exc.response.status_code}") from None
        except httpx.HTTPError as exc:
            raise FeedFailed(f"the feed cannot be reached: {type(exc).__name__}") from None
        if len(response.content) > MAX_BYTES:
            raise FeedFailed(f"the feed is larger than {MAX_BYTES} bytes")
        return response.content


def _worth_retrying(exc: BaseException) -> bool:
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code >= 500 or exc.response.status_code == 429
    return isinstance(exc, httpx.TransportError)


def _shown(source: str) -> str:
    """A feed's scheme and host only: its path or query often holds a secret (Google's
    private addresses do)."""
    if not source.startswith(("http://", "https://")):
        return source
    parts = urlsplit(source)
    return f"{parts.scheme}://{parts.hostname}/…"


def calendar_files(
    policy: PolicyFile, *, base_dir: Path, now: datetime, resolve: Resolve = _no_one
) -> tuple[dict[str, Rotation], list[str]]:
    """Calendar-fed rotations laid out offline, for the CLI: the ones read from a ``file``
    (as it is on disk now); and a note for each fed from a ``url``, which is not fetched
    here (its fallback stands in)."""
    laid_out: dict[str, Rotation] = {}
    notes: list[str] = []
    for name, config in policy.rotations.items():
        if config.ical is None:
            continue
        if config.ical.file is None:
            notes.append(
                f"rotation {name!r} is fed from a URL, not fetched here: its fallback shown"
            )
            continue
        people = config.people

        def both(key: str, people: Mapping[str, str] = people) -> str | None:
            return people.get(key) or resolve(key)

        try:
            body = (base_dir / config.ical.file).read_bytes()
            events = parse_calendar(
                body, start=now - WINDOW_PAST, end=now + WINDOW_AHEAD, timezone=config.timezone
            )
        except (OSError, CalendarParseError) as exc:
            notes.append(f"rotation {name!r}: {exc}; its fallback shown")
            continue
        slots, skipped = slots_from_events(events, both)
        notes.extend(f"rotation {name!r}: {problem}" for problem in skipped)
        laid_out[name] = rotation_of(name, config, calendar=tuple(slots))
    return laid_out, notes
