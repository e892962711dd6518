"""The local Slack sandbox page in headless Chromium, driven as a person would: an alert posted
over HTTP shows up on the page, is acknowledged as a chosen user, resolved through the modal,
and then the sandbox is reset. Screenshots of each step are kept in ``test-artifacts/sandbox/``
at the repository root.

Needs the ``playwright`` Python package and a Chromium on the machine (Debian's ``chromium``);
Playwright's own browser downloads are not used.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.support.browser import WAIT_MS, chromium_page
from tests.support.process import serve_process

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Page

pytestmark = pytest.mark.e2e

TOKEN = "e2e-browser-webhook-token"
TITLE = "Checkout latency above 2s"
NOTE = "Rolled back the cache tier deploy"
CAUSE = "software change"
USER_ID = "U0BOB"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "sandbox"


@pytest.fixture
def base_url(tmp_path: Path) -> Iterator[str]:
    """``tocsin serve`` as a process in sandbox mode (no SLACK_* settings); yields its base URL."""
    with serve_process(tmp_path, TOCSIN_WEBHOOK_TOKEN=TOKEN) as (base, _):
        yield base


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    """A page in headless Chromium with a fresh profile; skips if there is no browser to drive."""
    with chromium_page(
        tmp_path / "chromium-profile", viewport={"width": 1280, "height": 860}
    ) as found:
        yield found


def test_acknowledge_and_resolve_in_the_sandbox_page(page: Page, base_url: str) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            errors.append(f"console error: {msg.text} at {msg.location}")

    page.on("console", on_console)

    def shot(name: str) -> None:
        page.mouse.move(0, 0)  # no hover highlight in the picture
        page.screenshot(path=ARTIFACTS / name)

    response = httpx.post(
        f"{base_url}/webhooks/generic",
        json={"title": TITLE, "level": 2},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    assert response.status_code == 202, response.text

    try:
        page.goto(f"{base_url}/sandbox/")
        page.locator("#channels").get_by_role("button", name=re.compile(r"^# alerts")).click()
        expect(page.locator("#channel h1")).to_contain_text("#alerts", timeout=WAIT_MS)
        warning = page.locator("#channel .msg").filter(has_text=TITLE)
        expect(warning).to_be_visible(timeout=WAIT_MS)
        expect(warning).to_contain_text("Firing", timeout=WAIT_MS)
        shot("01-warning.png")

        # Act as another user than the page's default, then acknowledge.
        page.locator("#as-user").select_option(USER_ID)
        expect(page.locator("#as-user")).to_have_value(USER_ID, timeout=WAIT_MS)
        warning.get_by_role("button", name="Acknowledge", exact=True).click()
        expect(warning).to_contain_text("Acknowledged by @bob", timeout=WAIT_MS)
        expect(warning.get_by_role("button", name="Acknowledge", exact=True)).to_have_count(0)
        expect(page.locator("#status")).not_to_have_class(re.compile(r"\berror\b"))
        shot("02-acknowledged.png")

        warning.get_by_role("button", name="Resolve…").click()
        modal = page.get_by_role("dialog", name="Resolve alert")
        expect(modal).to_be_visible(timeout=WAIT_MS)
        expect(modal).to_contain_text(TITLE, timeout=WAIT_MS)
        modal.get_by_label("What was done?").fill(NOTE)
        modal.get_by_label("Root cause").select_option(CAUSE)
        expect(modal.get_by_label("What was done?")).to_have_value(NOTE, timeout=WAIT_MS)
        shot("03-resolve-modal.png")

        modal.get_by_role("button", name="Resolve", exact=True).click()
        expect(modal).to_be_hidden(timeout=WAIT_MS)
        expect(warning).to_contain_text("Resolved by @bob", timeout=WAIT_MS)
        expect(warning).to_contain_text(f"root cause: {CAUSE}", timeout=WAIT_MS)
        expect(warning).to_contain_text(NOTE, timeout=WAIT_MS)
        # once resolved, the only action left is Add note… (the thread now has its lines)
        expect(warning.locator(".block.actions button")).to_have_count(1, timeout=WAIT_MS)
        expect(warning.get_by_role("button", name="Add note…")).to_be_visible()
        expect(page.locator("#status")).not_to_have_class(re.compile(r"\berror\b"))
        shot("04-resolved.png")

        # Reset sandbox (after a confirmation) empties the channel; the page stays usable.
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Reset sandbox").click()
        expect(warning).to_have_count(0, timeout=WAIT_MS)
        expect(page.locator("#channel")).to_contain_text("No messages.", timeout=WAIT_MS)
        expect(page.locator("#status")).to_have_text("The sandbox was reset", timeout=WAIT_MS)
    except Exception:
        shot("99-failure.png")
        raise
    assert not errors, errors
