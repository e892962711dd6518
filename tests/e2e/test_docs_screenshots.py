"""The documentation's screenshots, made from the sandbox in headless Chromium so they stay
current: the channel with graded warnings, a page by DM, the resolve modal, and a thread with
an alert's timeline.

A test (rather than a script) so that CI walks the same path on every run and a change that
breaks the page or the flow fails here; it writes into ``test-artifacts/docs-images/`` then.
``TOCSIN_UPDATE_SCREENSHOTS=1`` writes into ``docs/images/`` instead: look at the pictures
before committing them. Emoji need Debian's ``fonts-noto-color-emoji`` (``.ci/run`` installs it).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from bot.slack import ids
from tests.support.browser import chromium_page
from tests.support.process import serve_process

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Locator, Page

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
UPDATE = os.environ.get("TOCSIN_UPDATE_SCREENSHOTS") == "1"
OUT = ROOT / "docs" / "images" if UPDATE else ROOT / "test-artifacts" / "docs-images"
TOKEN = "docs-screenshots-token"
MAX_BYTES = 200_000

CHECKOUT_TITLE = "Checkout error rate above 8%"
EXPORT_TITLE = "Nightly invoice export is 40 minutes late"
QUEUE_TITLE = "Payment webhook queue backlog above 5,000"
DISK_TITLE = "Disk 91% full on db-replica-2"
CHECKOUT_DOWN: dict[str, Any] = {  # level 1 (severity critical), with runbook and dashboard links
    "version": "4",
    "status": "firing",
    "receiver": "tocsin",
    "groupKey": '{}:{alertname="CheckoutErrorRate"}',
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "CheckoutErrorRate",
                "severity": "critical",
                "service": "checkout",
                "env": "production",
            },
            "annotations": {
                "summary": CHECKOUT_TITLE,
                "description": "5xx responses on /api/checkout at 8.4% for 10 minutes.",
                "runbook_url": "https://runbooks.example.com/checkout/error-rate",
                "dashboard_url": "https://grafana.example.com/d/checkout",
            },
            "startsAt": "2026-11-21T10:00:00Z",
            "generatorURL": "https://prometheus.example.com/graph?g0.expr=checkout_5xx",
            "fingerprint": "d0c5000000000001",
        }
    ],
}
EXPORT_LATE: dict[str, Any] = {
    "title": EXPORT_TITLE,
    "level": 2,
    "description": "The 02:00 export to the accounting system has not finished.",
    "labels": {"service": "billing", "job": "invoice-export"},
}
QUEUE_BACKLOG: dict[str, Any] = {
    "title": QUEUE_TITLE,
    "level": 2,
    "labels": {"service": "payments", "queue": "psp-webhooks"},
}
DISK_FULL: dict[str, Any] = {
    "title": DISK_TITLE,
    "level": 3,
    "labels": {"service": "postgres", "instance": "db-replica-2"},
}
NOTE = "Removed 40 GB of old WAL archives; retention set to 7 days."
CAUSE = "capacity"


class Sandbox:
    """The running service's sandbox, driven over HTTP."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = httpx.Client(base_url=base, timeout=10)

    def post(self, integration: str, body: dict[str, Any]) -> None:
        response = self.http.post(
            f"/webhooks/{integration}", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert response.status_code == 202, response.text

    def channels(self) -> list[dict[str, Any]]:
        state = self.http.get("/sandbox/state", params={"user": "U0ALICE"}).json()
        return list(state["channels"])

    def alerts(self) -> dict[str, Any]:
        found = [c for c in self.channels() if c["name"] == "alerts"]
        return found[0] if found else {"id": None, "messages": []}

    def warning(self, title: str) -> dict[str, Any]:
        return next(m for m in self.alerts()["messages"] if title in str(m["blocks"]))

    def press(self, user: str, action_id: str, title: str) -> None:
        where = {"channel": self.alerts()["id"], "ts": self.warning(title)["ts"]}
        response = self.http.post(
            "/sandbox/act",
            json={"kind": "button", "user": user, "action_id": action_id, **where},
        )
        assert response.status_code == 200, response.text
        assert response.json()["ok"], response.text


def wait_until(check: Callable[[], bool], *, what: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.1)


def shows(sandbox: Sandbox, title: str, text: str) -> Callable[[], bool]:
    return lambda: text in str(sandbox.warning(title)["blocks"])


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with serve_process(tmp_path, TOCSIN_WEBHOOK_TOKEN=TOKEN) as (base, _):
        found = Sandbox(base)
        try:
            yield found
        finally:
            found.http.close()


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    """A page in headless Chromium with a fresh profile; skips if there is no browser to drive."""
    with chromium_page(
        tmp_path / "chromium-profile",
        viewport={"width": 1200, "height": 900},
        locale="en-GB",
        timezone_id="UTC",
    ) as found:
        yield found


def post_alerts(sandbox: Sandbox) -> str:
    """Four alerts: a level 3, two level 2 and a level 1 with links; the on-call person is
    paged for each by DM. Gives that person's user id."""
    for integration, body in (
        ("generic", DISK_FULL),
        ("generic", QUEUE_BACKLOG),
        ("generic", EXPORT_LATE),
        ("alertmanager", CHECKOUT_DOWN),
    ):
        sandbox.post(integration, body)
    wait_until(lambda: len(sandbox.alerts()["messages"]) == 4, what="4 warnings", seconds=30)

    titles = (DISK_TITLE, QUEUE_TITLE, EXPORT_TITLE, CHECKOUT_TITLE)

    def paged() -> list[dict[str, Any]]:
        # pages due together for one person share a DM: every alert named in that person's DMs
        return [
            c
            for c in sandbox.channels()
            if c["is_im"] and all(t in str(c["messages"]) for t in titles)
        ]

    wait_until(lambda: bool(paged()), what="4 alerts paged by DM", seconds=30)
    return str(paged()[0]["user"])


def act_on_alerts(sandbox: Sandbox) -> None:
    """One acknowledged and claimed, one acknowledged (resolved later, in the browser)."""
    sandbox.press("U0ALICE", ids.ACKNOWLEDGE, QUEUE_TITLE)
    wait_until(shows(sandbox, QUEUE_TITLE, "Acknowledged"), what="the ack")
    sandbox.press("U0BOB", ids.CLAIM, QUEUE_TITLE)
    wait_until(shows(sandbox, QUEUE_TITLE, "owner"), what="the claim")
    sandbox.press("U0CAROL", ids.ACKNOWLEDGE, DISK_TITLE)
    wait_until(shows(sandbox, DISK_TITLE, "Acknowledged"), what="the other ack")


def check_size(path: Path) -> None:
    size = path.stat().st_size
    assert size <= MAX_BYTES, f"{path.name} is {size:,} bytes (keep it under {MAX_BYTES:,})"


def test_the_docs_screenshots_are_made_from_the_sandbox(sandbox: Sandbox, page: Page) -> None:
    from playwright.sync_api import expect

    on_call = post_alerts(sandbox)
    OUT.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            errors.append(f"console error: {msg.text}")

    page.on("console", on_console)

    def shot(name: str, target: Page | Locator) -> None:
        page.mouse.move(0, 0)  # no hover highlight in the picture
        expect(page.locator("#status")).not_to_have_class(re.compile(r"\berror\b"))
        path = OUT / name
        target.screenshot(path=path)
        check_size(path)

    # the pages by DM, as the person on call sees them (before anyone acted)
    page.set_viewport_size({"width": 1200, "height": 640})
    page.goto(f"{sandbox.base}/sandbox/")
    page.locator("#as-user").select_option(on_call)
    page.locator("#channels").get_by_role("button", name=re.compile(r"^★ @")).click()
    expect(page.locator("#channel h1")).to_contain_text("Tocsin ↔")
    [dm] = [c for c in sandbox.channels() if c["is_im"] and c.get("user") == on_call]
    expect(page.locator("#channel .msg")).to_have_count(len(dm["messages"]))
    shot("sandbox-page-dm.png", page)

    page.set_viewport_size({"width": 1200, "height": 900})

    act_on_alerts(sandbox)
    page.locator("#as-user").select_option("U0CAROL")
    page.locator("#channels").get_by_role("button", name=re.compile(r"^# alerts")).click()
    disk = page.locator("#channel .msg").filter(has_text=DISK_TITLE)
    disk.get_by_role("button", name="Resolve…").click()
    modal = page.get_by_role("dialog", name="Resolve alert")
    modal.get_by_label("What was done?").fill(NOTE)
    modal.get_by_label("Root cause").select_option(CAUSE)
    expect(modal.get_by_label("Follow-up due")).to_have_attribute("type", "date")
    shot("sandbox-resolve-modal.png", page)
    modal.get_by_role("button", name="Resolve", exact=True).click()
    expect(modal).to_be_hidden()
    expect(disk).to_contain_text("Resolved by @carol")

    page.reload()  # a clean status line
    page.locator("#as-user").select_option("U0ALICE")
    page.locator("#channels").get_by_role("button", name=re.compile(r"^# alerts")).click()
    for alert in (CHECKOUT_TITLE, EXPORT_TITLE):
        expect(page.locator("#channel")).to_contain_text(alert)
    expect(page.locator("#channel")).to_contain_text("Runbook")
    wait_until(  # the timeline is in the thread (its lines may come in one or two messages)
        lambda: "resolved by" in str(sandbox.warning(DISK_TITLE).get("replies")),
        what="the resolution in the thread",
    )
    replies = len(sandbox.warning(DISK_TITLE)["replies"])
    resolved = page.locator("#channel .msg").filter(has_text=DISK_TITLE)
    expect(resolved.locator(".thread-toggle")).to_have_text(
        "1 reply" if replies == 1 else f"{replies} replies"  # lines pending together: one reply
    )
    page.set_viewport_size({"width": 1200, "height": 1160})  # all four warnings
    shot("sandbox-channel.png", page)
    page.set_viewport_size({"width": 1200, "height": 900})

    resolved.locator(".thread-toggle").click()
    thread = page.locator("#channel .thread")
    expect(thread).to_contain_text("resolved by @carol")
    shot("sandbox-thread.png", thread.locator("xpath=.."))

    assert not errors, errors
