"""The schedule page without a browser: sign-in, now/next, the timeline's places, overrides
from the policy file and from an OverrideSource (the database's, later), and escaping."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta

import httpx
from fastapi import FastAPI

from bot.review.auth import COOKIE, ReviewAuth
from bot.schedule.page import ScheduleWeb
from bot.schedule.schedule_view import schedule_view
from escalation.oncall import Override, Rotation

NOW = datetime(2026, 3, 25, 12, 0, tzinfo=UTC)  # a Wednesday; daily hand-offs at 09:00 UTC
ROTATION = Rotation(
    name="primary",
    members=("U0ALICE", "U0BOB"),
    timezone="UTC",
    handoff=time(9),
    shift="daily",
    anchor=date(2026, 3, 25),
)
NAMES = {"U0ALICE": "Alice <b>Archer</b>", "U0BOB": "Bob Baker", "U0CAROL": "Carol Chen"}


def test_the_view_has_now_next_a_two_week_timeline_and_each_persons_shifts() -> None:
    view = schedule_view({"primary": ROTATION}, NAMES, now=NOW)
    [shown] = view.rotations
    assert (shown.now.user, shown.next and shown.next.user) == ("U0ALICE", "U0BOB")
    assert shown.now.end == "Thu 26 Mar 09:00 UTC"
    assert len(shown.timeline) == 15  # today's remainder, 13 whole days, a piece of the 15th
    assert shown.timeline[0].left == 0
    assert abs(sum(s.width for s in shown.timeline) - 100) < 0.01
    assert [d for d, _ in shown.days][:2] == ["Thu 26", "Fri 27"]
    assert {p.user: len(p.shifts) for p in view.people} == {"U0ALICE": 8, "U0BOB": 7}


def test_overrides_from_a_source_are_applied_after_the_files_and_marked() -> None:
    extra = Override(user="U0CAROL", start=NOW, end=NOW + timedelta(hours=6))
    view = schedule_view({"primary": ROTATION}, NAMES, now=NOW, extra={"primary": [extra]})
    [shown] = view.rotations
    assert (shown.now.user, shown.now.override, shown.now.covers) == (
        "U0CAROL",
        True,
        "Alice <b>Archer</b>",
    )
    assert [s.user for s in shown.timeline[:2]] == ["U0CAROL", "U0ALICE"]


def client(clock: datetime = NOW) -> tuple[httpx.AsyncClient, ReviewAuth]:
    auth = ReviewAuth(token="t" * 24, clock=lambda: clock, session_seconds=3600, secure=False)

    async def overrides() -> Mapping[str, Sequence[Override]]:
        return {
            "primary": [Override("U0CAROL", NOW - timedelta(hours=1), NOW + timedelta(hours=1))]
        }

    web = ScheduleWeb(
        rotations={"primary": ROTATION}, names=NAMES, clock=lambda: clock, auth=auth,
        overrides=overrides,
    )  # fmt: skip
    app = FastAPI()
    app.include_router(web.router())
    return _client(app), auth


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://tocsin")


async def test_the_page_sends_a_stranger_to_sign_in_first() -> None:
    http, _ = client()
    answer = await http.get("/schedule", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/review/login?next=/schedule"
    http.cookies.set(COOKIE, "forged")
    assert (await http.get("/schedule", follow_redirects=False)).status_code == 303


async def test_a_signed_in_page_shows_the_override_escaped_and_forbids_scripts() -> None:
    http, auth = client()
    http.cookies.set(COOKIE, auth.new_session()[0])
    answer = await http.get("/schedule")
    assert answer.status_code == 200
    assert "script-src" not in answer.headers["content-security-policy"]
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert 'class="bar override"' in answer.text
    assert "Carol Chen" in answer.text
    assert "override for Alice &lt;b&gt;Archer&lt;/b&gt;" in answer.text
    assert "<b>Archer</b>" not in answer.text


async def test_without_a_review_token_the_page_is_off() -> None:
    web = ScheduleWeb(rotations={}, names={}, clock=lambda: NOW, auth=None)
    app = FastAPI()
    app.include_router(web.router())
    answer = await _client(app).get("/schedule")
    assert answer.status_code == 404
    assert "TOCSIN_REVIEW_TOKEN" in answer.text
