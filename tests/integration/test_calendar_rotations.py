"""Rotations fed by a calendar, over real HTTP with the fake Slack: pages go to whoever the
calendar's recurrence names on either side of a hand-off; a feed that fails keeps its last
good copy (in memory and, across a restart, in the database); with no copy at all the
fallback is paged; the failure shows in /readyz and in the metrics."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.databases import database
from tests.support.harness import FakeClock, Harness, running_tocsin
from tests.support.servers import bound_socket, serving

ALICE, BOB, FALLBACK = "U0ALICE", "U0BOB", "U0DAVE"  # the fake Slack's people
# Alice from Monday 16 March 2026 09:00 Berlin, Bob from the Monday after, each every other
# week: the hand-off on Monday 23 March 09:00 CET is 08:00 UTC.
CALENDAR = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//EN\r
BEGIN:VEVENT\r
UID:alice-weeks\r
DTSTART;TZID=Europe/Berlin:20260316T090000\r
DTEND;TZID=Europe/Berlin:20260323T090000\r
RRULE:FREQ=WEEKLY;INTERVAL=2\r
SUMMARY:Primary on call\r
ATTENDEE;CN=Alice:mailto:alice@example.com\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:bob-weeks\r
DTSTART;TZID=Europe/Berlin:20260323T090000\r
DTEND;TZID=Europe/Berlin:20260330T090000\r
RRULE:FREQ=WEEKLY;INTERVAL=2\r
SUMMARY:Primary on call: <@U0BOB>\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:stranger\r
DTSTART:20260318T120000Z\r
DTEND:20260318T130000Z\r
SUMMARY:Lunch cover\r
ATTENDEE:mailto:stranger@example.com\r
END:VEVENT\r
END:VCALENDAR\r
"""
BEFORE_HANDOFF = datetime(2026, 3, 23, 7, 58, tzinfo=UTC)


def policy(source: str) -> str:
    return f"""
levels:
  1: {{name: critical}}
  2: {{name: major}}
  3: {{name: minor}}
integrations:
  - {{name: generic, format: generic, token: "${{TOCSIN_WEBHOOK_TOKEN}}"}}
default_route: {{team: ops, channel: "#alerts", policy: default}}
rotations:
  primary:
    ical: {source}
    fallback: {FALLBACK}
    timezone: Europe/Berlin
    channel: "#db"
    people:
      alice@example.com: {ALICE}
policies:
  default:
    tiers:
      - {{notify: [{{oncall: primary}}], after: 0m}}
"""


class FakeFeed:
    """An iCalendar feed over HTTP that can be made to fail."""

    def __init__(self) -> None:
        self.body = CALENDAR
        self.status = 200
        self.asked = 0

    async def serve(self, request: Request) -> Response:
        self.asked += 1
        return Response(self.body, status_code=self.status, media_type="text/calendar")


@pytest.fixture
async def feed() -> AsyncIterator[tuple[FakeFeed, str]]:
    fake = FakeFeed()
    app = Starlette(routes=[Route("/secret-token/oncall.ics", fake.serve)])
    async with serving(app, bound_socket()) as base:
        yield fake, f"{base}/secret-token/oncall.ics"


async def page_and_find_who(tocsin: Harness, title: str) -> list[str]:
    before = len(tocsin.channel_messages())
    await tocsin.webhook("generic", {"title": title, "level": 2, "fingerprint": title})
    await tocsin.wait_for_messages(before + 1)
    assert await tocsin.service.engine.drain() == 0  # paged as it opened
    paged: list[str] = []

    def reached() -> bool:
        paged[:] = [u for u in (ALICE, BOB, FALLBACK) if any(
            title in json.dumps(m.blocks) for m in tocsin.dms(u))]  # fmt: skip
        return bool(paged)

    await tocsin.world.wait_for(reached)
    return paged


async def test_an_ical_rotation_pages_whoever_the_recurrence_names_across_a_hand_off(
    tmp_path: Path,
) -> None:
    (tmp_path / "oncall.ics").write_bytes(CALENDAR)
    (tmp_path / "policy.yaml").write_text(policy("{file: oncall.ics, refresh: 5m}"))
    clock = FakeClock(BEFORE_HANDOFF)
    async with (
        database("sqlite", tmp_path) as url,
        running_tocsin(
            database_url=url, config_path=tmp_path / "policy.yaml", clock=clock
        ) as tocsin,
    ):
        calendars = tocsin.service.calendar_rotations
        assert calendars is not None
        assert await calendars.refresh("primary")
        handoffs = tocsin.service.engine._handoffs
        assert handoffs is not None
        assert await handoffs.check() == 0
        assert await page_and_find_who(tocsin, "Replica lag") == [ALICE]
        clock.advance(minutes=5)  # 08:03 UTC: Bob's week has begun
        assert await page_and_find_who(tocsin, "Disk full") == [BOB]
        assert await handoffs.check() == 1
        [notice] = tocsin.channel_messages("#db")
        assert f"<@{BOB}> is now on call (taking over from <@{ALICE}>)" in notice.text
        clock.advance(days=7)  # the recurrence brings Alice back
        assert tocsin.service.directory.on_call("primary", at=clock()) == ALICE


async def test_a_failing_feed_keeps_its_last_good_copy_and_says_so(
    tmp_path: Path, feed: tuple[FakeFeed, str]
) -> None:
    fake, address = feed
    (tmp_path / "policy.yaml").write_text(policy(f'{{url: "{address}", refresh: 15m}}'))
    clock = FakeClock(BEFORE_HANDOFF)
    async with (
        database("sqlite", tmp_path) as url,
        running_tocsin(
            database_url=url, config_path=tmp_path / "policy.yaml", clock=clock
        ) as tocsin,
    ):
        calendars = tocsin.service.calendar_rotations
        assert calendars is not None
        calendars.retry_wait = 0.0
        assert await calendars.refresh("primary")
        fake.status, fake.asked = 503, 0
        clock.advance(minutes=30)
        assert not await calendars.refresh("primary")
        assert fake.asked == 3  # bounded retries, then the old copy stays
        assert tocsin.service.directory.on_call("primary", at=clock()) == BOB
        fake.status, fake.body = 200, b"<html>Sign in</html>"
        assert not await calendars.refresh("primary")  # not a calendar: not taken either
        assert tocsin.service.directory.on_call("primary", at=clock()) == BOB

        ready = (await tocsin.http.get(f"{tocsin.base_url}/readyz")).json()
        assert ready["ready"] is True
        shown = ready["calendars"]["primary"]
        assert shown["status"] == "stale"
        assert "not an iCalendar file" in shown["error"]
        [skipped] = shown["skipped_events"]  # names nobody Tocsin knows: Alice stays on
        assert "'Lunch cover' at 2026-03-18T12:00:00+00:00" in skipped
        assert shown["age_seconds"] >= 30 * 60
        assert "secret-token" not in json.dumps(ready)  # the feed's path may be its secret
        metrics = (await tocsin.http.get(f"{tocsin.base_url}/metrics")).text
        assert 'tocsin_rotation_feed_errors_total{rotation="primary"} 2.0' in metrics
        assert 'tocsin_rotation_feed_age_seconds{rotation="primary"} 18' in metrics  # 30 min


async def test_a_restart_while_the_feed_is_down_pages_from_the_saved_copy(
    tmp_path: Path, feed: tuple[FakeFeed, str]
) -> None:
    fake, address = feed
    (tmp_path / "policy.yaml").write_text(policy(f'{{url: "{address}"}}'))
    after_handoff = datetime(2026, 3, 23, 8, 30, tzinfo=UTC)
    async with database("sqlite", tmp_path) as url:
        async with running_tocsin(
            database_url=url, config_path=tmp_path / "policy.yaml", clock=FakeClock(after_handoff)
        ) as first:
            assert first.service.calendar_rotations is not None
            assert await first.service.calendar_rotations.refresh("primary")
        fake.status = 500
        async with running_tocsin(
            database_url=url, config_path=tmp_path / "policy.yaml", clock=FakeClock(after_handoff)
        ) as second:
            calendars = second.service.calendar_rotations
            assert calendars is not None
            calendars.retry_wait = 0.0
            await calendars.load_saved()
            assert not await calendars.refresh("primary")
            assert await page_and_find_who(second, "Checkout errors") == [BOB]
            ready = (await second.http.get(f"{second.base_url}/readyz")).json()
            assert ready["calendars"]["primary"]["status"] == "stale"


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_with_no_copy_at_all_the_fallback_is_paged(
    tmp_path: Path, feed: tuple[FakeFeed, str], kind: str
) -> None:
    fake, address = feed
    fake.status = 404
    (tmp_path / "policy.yaml").write_text(policy(f'{{url: "{address}"}}'))
    async with (
        database(kind, tmp_path) as url,
        running_tocsin(
            database_url=url, config_path=tmp_path / "policy.yaml", clock=FakeClock(BEFORE_HANDOFF)
        ) as tocsin,
    ):
        calendars = tocsin.service.calendar_rotations
        assert calendars is not None
        assert not await calendars.refresh("primary")
        assert fake.asked >= 1
        assert await page_and_find_who(tocsin, "Queue stuck") == [FALLBACK]
        shown = (await tocsin.http.get(f"{tocsin.base_url}/readyz")).json()["calendars"]
        assert shown["primary"]["status"] == "fallback"
        assert shown["primary"]["error"] == "the feed answered HTTP 404"
