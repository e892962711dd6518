"""The schedule page in headless Chromium: it needs the review sign-in, shows who is on call
now and next in each rotation (one from the policy file, one from a calendar file), marks an
override on the timeline, and lists each person's shifts. Screenshots are kept in
``test-artifacts/schedule/`` at the repository root."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.browser import chromium_page
from tests.support.process import serve_process

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e

REVIEW_TOKEN = "e2e-schedule-review-token-0123456789"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "schedule"


def policy(now: datetime) -> str:
    cover_from = (now - timedelta(hours=1)).isoformat(timespec="seconds")
    cover_until = (now + timedelta(days=1)).isoformat(timespec="seconds")
    return f"""
levels:
  1: {{name: critical}}
  2: {{name: major}}
  3: {{name: minor}}
integrations:
  - {{name: generic, format: generic, token: "${{TOCSIN_WEBHOOK_TOKEN}}"}}
default_route: {{team: ops, channel: "#alerts", policy: default}}
people:
  U0ALICE: {{name: Alice Archer}}
  U0BOB: {{name: Bob Baker}}
  U0CAROL: {{name: Carol Chen}}
  U0DAVE: {{name: Dave Diaz}}
rotations:
  primary:
    members: [U0ALICE, U0BOB]
    shift: weekly
    start: {(now - timedelta(days=2)).date().isoformat()}
    overrides:
      - {{user: U0CAROL, start: "{cover_from}", end: "{cover_until}"}}
  database:
    ical: {{file: database.ics}}
    fallback: U0DAVE
    people: {{bob@example.com: U0BOB}}
policies:
  default:
    tiers:
      - {{notify: [{{oncall: primary}}, {{oncall: database}}], after: 0m}}
"""


def calendar(now: datetime) -> str:
    start = (now - timedelta(days=1)).strftime("%Y%m%dT090000Z")
    end = (now + timedelta(days=2)).strftime("%Y%m%dT090000Z")
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//e2e//EN\r\nBEGIN:VEVENT\r\nUID:db-1\r\n"
        f"DTSTART:{start}\r\nDTEND:{end}\r\nSUMMARY:Database on call\r\n"
        "ATTENDEE:mailto:Bob@Example.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


@pytest.fixture
def base_url(tmp_path: Path) -> Iterator[str]:
    now = datetime.now(UTC).replace(microsecond=0)
    (tmp_path / "policy.yaml").write_text(policy(now))
    (tmp_path / "database.ics").write_text(calendar(now))
    with serve_process(
        tmp_path,
        TOCSIN_WEBHOOK_TOKEN="e2e-schedule-webhook-token",
        TOCSIN_REVIEW_TOKEN=REVIEW_TOKEN,
        TOCSIN_CONFIG=str(tmp_path / "policy.yaml"),
    ) as (base, _):
        yield base


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    with chromium_page(
        tmp_path / "chromium-profile", viewport={"width": 1280, "height": 1000}
    ) as found:
        yield found


def test_the_schedule_needs_sign_in_and_shows_now_next_and_a_marked_override(
    page: Page, base_url: str
) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    try:
        page.goto(f"{base_url}/schedule")
        expect(page).to_have_url(re.compile(r"/review/login\?next=/schedule$"))
        page.get_by_label("Review token").fill(REVIEW_TOKEN)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(re.compile(r"/schedule$"))
        expect(page.get_by_role("heading", name="Tocsin schedule")).to_be_visible()

        primary = page.locator('#now-next tr[data-rotation="primary"]')
        expect(primary.locator("td.now")).to_contain_text("Carol Chen")
        expect(primary.locator("td.now")).to_contain_text("override for Alice Archer")
        expect(primary.locator("td.next")).to_contain_text("Alice Archer")
        database = page.locator('#now-next tr[data-rotation="database"]')
        expect(database.locator("td.now")).to_have_text("Bob Baker")
        expect(database.locator("td.next")).to_contain_text("Dave Diaz")  # the fallback
        expect(database).to_contain_text("from the calendar file database.ics")

        timeline = page.get_by_label("Timeline of primary")
        marked = timeline.locator(".bar.override")
        expect(marked).to_have_count(1)
        expect(marked).to_have_text("Carol Chen")
        assert marked.evaluate("bar => bar.getBoundingClientRect().width") > 20
        expect(timeline.locator(".bar:not(.override)").first).to_be_visible()

        people = page.locator("#people")
        expect(people.locator('[data-user="U0CAROL"]')).to_contain_text("primary:")
        expect(people.locator('[data-user="U0BOB"]')).to_contain_text("database:")
        page.screenshot(path=ARTIFACTS / "01-schedule.png", full_page=True)

        page.get_by_role("link", name="Review").click()
        expect(page).to_have_url(re.compile(r"/review$"))
        page.get_by_role("link", name="Schedule").click()
        expect(page).to_have_url(re.compile(r"/schedule$"))
        page.get_by_role("button", name="Sign out").click()
        page.goto(f"{base_url}/schedule")
        expect(page).to_have_url(re.compile(r"/review/login"))
    except Exception:
        page.screenshot(path=ARTIFACTS / "99-failure.png", full_page=True)
        raise
