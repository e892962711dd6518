"""A calendar rotation's events name people by email that the rotation's ``people`` map does
not list: Tocsin asks Slack (``users.lookupByEmail`` on the fake Slack, over HTTP with the real
slack_sdk client). Slack's people are paged; an address Slack does not know leaves its time to
the fallback and is not asked about again within the hour; ``people`` wins over Slack; and a
Slack that does not answer never stops the calendar from being laid out."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from bot.policy.people_lookup import PeopleLookup, SlackPeople
from bot.sandbox import SlackWorld
from bot.sandbox.workspace.models import Fault
from bot.schedule.calendar_rotations import CalendarRotations
from tests.support.databases import database
from tests.support.harness import FakeClock, Harness, running_tocsin

ALICE, BOB, CAROL, FALLBACK = "U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"  # the fake Slack's people
# Monday 16 March 2026, in UTC: Carol (only Slack knows her address) 09-12, a stranger (nobody
# knows) 12-14, Bob's address 14-16 (which `people` maps to Alice), Bob by Slack id 16-18.
CALENDAR = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//EN\r
BEGIN:VEVENT\r
UID:carol\r
DTSTART:20260316T090000Z\r
DTEND:20260316T120000Z\r
SUMMARY:Primary on call\r
ATTENDEE;CN=Carol:mailto:Carol@Example.com\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:stranger\r
DTSTART:20260316T120000Z\r
DTEND:20260316T140000Z\r
SUMMARY:Lunch cover\r
ATTENDEE:mailto:stranger@example.com\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:bob-address\r
DTSTART:20260316T140000Z\r
DTEND:20260316T160000Z\r
SUMMARY:Cover by bob@example.com\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:bob-id\r
DTSTART:20260316T160000Z\r
DTEND:20260316T180000Z\r
SUMMARY:<@U0BOB>\r
END:VEVENT\r
END:VCALENDAR\r
"""
MORNING = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)


def at(hour: int, minute: int = 30) -> datetime:
    return datetime(2026, 3, 16, hour, minute, tzinfo=UTC)


POLICY = f"""
levels:
  1: {{name: critical}}
  2: {{name: major}}
  3: {{name: minor}}
integrations:
  - {{name: generic, format: generic, token: "${{TOCSIN_WEBHOOK_TOKEN}}"}}
default_route: {{team: ops, channel: "#alerts", policy: default}}
rotations:
  primary:
    ical: {{file: oncall.ics, refresh: 5m}}
    fallback: {FALLBACK}
    timezone: Europe/Berlin
    people:
      bob@example.com: {ALICE}
policies:
  default:
    tiers:
      - {{notify: [{{oncall: primary}}], after: 0m}}
"""


class CountingPeople(PeopleLookup):
    """Slack's lookup, counting the emails asked about."""

    def __init__(self, inner: PeopleLookup) -> None:
        self.inner = inner
        self.asked: list[str] = []

    async def slack_id(self, email: str) -> str | None:
        self.asked.append(email)
        return await self.inner.slack_id(email)


@pytest.fixture
async def tocsin(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running(tmp_path) as harness:
        yield harness


@contextlib.asynccontextmanager
async def running(tmp_path: Path, *, world: SlackWorld | None = None) -> AsyncIterator[Harness]:
    (tmp_path / "oncall.ics").write_bytes(CALENDAR)
    (tmp_path / "policy.yaml").write_text(POLICY)
    async with (
        database("sqlite", tmp_path) as url,
        running_tocsin(
            database_url=url,
            config_path=tmp_path / "policy.yaml",
            clock=FakeClock(MORNING),
            world=world,
        ) as harness,
    ):
        yield harness


def slack_people(tocsin: Harness) -> PeopleLookup:
    """The lookup the service shares between policy reloads and calendars."""
    people = calendars_of(tocsin).people
    assert people is not None
    assert people is tocsin.service.reloader.people
    return people


def calendars_of(tocsin: Harness) -> CalendarRotations:
    calendars = tocsin.service.calendar_rotations
    assert calendars is not None
    return calendars


def on_call(tocsin: Harness, when: datetime) -> str | None:
    return tocsin.service.directory.on_call("primary", at=when)


async def test_an_attendee_only_slack_knows_by_email_gets_the_shift_and_is_paged(
    tocsin: Harness,
) -> None:
    assert await calendars_of(tocsin).refresh("primary")
    assert on_call(tocsin, at(10)) == CAROL

    await tocsin.webhook("generic", {"title": "Replica lag", "level": 2, "fingerprint": "lag"})
    await tocsin.wait_for_messages(1)
    assert await tocsin.service.engine.drain() == 0  # paged as it opened
    await tocsin.world.wait_for(
        lambda: any("Replica lag" in json.dumps(m.blocks) for m in tocsin.dms(CAROL))
    )
    assert not tocsin.dms(FALLBACK)


async def test_an_email_slack_does_not_know_leaves_its_time_to_the_fallback(
    tocsin: Harness,
) -> None:
    assert await calendars_of(tocsin).refresh("primary")

    assert on_call(tocsin, at(12)) == FALLBACK
    ready = (await tocsin.http.get(f"{tocsin.base_url}/readyz")).json()
    [skipped] = ready["calendars"]["primary"]["skipped_events"]
    assert "'Lunch cover' at 2026-03-16T12:00:00+00:00" in skipped


async def test_the_rotations_people_map_wins_over_slack(tocsin: Harness) -> None:
    counting = CountingPeople(slack_people(tocsin))
    calendars_of(tocsin).people = counting

    assert await calendars_of(tocsin).refresh("primary")

    assert on_call(tocsin, at(14)) == ALICE  # Slack would have said Bob
    assert on_call(tocsin, at(16)) == BOB
    assert "bob@example.com" not in counting.asked


async def test_an_email_slack_does_not_know_is_asked_again_only_after_an_hour(
    tocsin: Harness,
) -> None:
    calendars = calendars_of(tocsin)
    counting = CountingPeople(slack_people(tocsin))
    calendars.people = counting
    assert await calendars.refresh("primary")
    assert sorted(counting.asked) == ["carol@example.com", "stranger@example.com"]

    counting.asked.clear()
    clock = tocsin.service.clock
    assert isinstance(clock, FakeClock)
    clock.advance(minutes=30)
    assert await calendars.refresh("primary")
    assert counting.asked == []  # Carol is known; the stranger was unknown half an hour ago

    clock.advance(minutes=31)
    assert await calendars.refresh("primary")
    assert counting.asked == ["stranger@example.com"]  # they may have joined since


async def test_two_refreshes_at_once_ask_slack_about_each_email_once(tocsin: Harness) -> None:
    # The worker's timer and a caller (a reload, the CLI) may refresh the same feed together.
    calendars = calendars_of(tocsin)
    counting = CountingPeople(slack_people(tocsin))
    calendars.people = counting

    both = await asyncio.gather(calendars.refresh("primary"), calendars.refresh("primary"))

    assert list(both) == [True, True]
    assert sorted(counting.asked) == ["carol@example.com", "stranger@example.com"]
    assert on_call(tocsin, at(10)) == CAROL


async def test_a_slack_that_does_not_answer_skips_the_event_but_not_the_layout(
    tmp_path: Path,
) -> None:
    # Slack fails every lookup from the start: the service's own first refresh (its worker
    # starts with it, and may run before or while this test's) learns nothing either, so
    # this refresh asks about Carol whichever ran first (a lookup that worked is kept)
    world = SlackWorld()
    world.faults.add(Fault(method="users.lookupByEmail", status=500, count=1000))
    async with running(tmp_path, world=world) as tocsin:
        calendars = calendars_of(tocsin)
        calendars.people = SlackPeople(tocsin.service.slack, attempts=2, sleep=no_sleep)

        with capture_logs() as logs:
            assert await calendars.refresh("primary")  # the feed itself was read

        failed = [e for e in logs if e["event"] == "rotation_feed_people_lookup_failed"]
        assert [(e["email"], e["not_asked"]) for e in failed][-1:] == [("carol@example.com", 1)]
        assert on_call(tocsin, at(10)) == FALLBACK  # Carol's event skipped, to the fallback
        assert on_call(tocsin, at(14)) == ALICE  # the rest laid out as ever
        assert on_call(tocsin, at(16)) == BOB

        while world.faults.waiting:  # Slack answers again
            world.faults.take("users.lookupByEmail")
        assert await calendars.refresh("primary")
        assert on_call(tocsin, at(10)) == CAROL


async def no_sleep(_: float) -> None:
    return None
