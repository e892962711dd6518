"""The review page in headless Chromium: sign in with the review token, read the figures,
filter by level, open an alert's timeline, export CSV — with alert text that tries to inject
markup. Screenshots are kept in ``test-artifacts/review/`` at the repository root."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.support.browser import chromium_page
from tests.support.process import serve_process

if TYPE_CHECKING:
    from playwright.sync_api import Dialog, Page

pytestmark = pytest.mark.e2e

WEBHOOK_TOKEN = "e2e-review-webhook-token"
REVIEW_TOKEN = "e2e-review-token-0123456789abcdef"
EVIL = "<img src=x onerror=alert(1)> Checkout <b>down</b>"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "review"


@pytest.fixture
def base_url(tmp_path: Path) -> Iterator[str]:
    with serve_process(
        tmp_path, TOCSIN_WEBHOOK_TOKEN=WEBHOOK_TOKEN, TOCSIN_REVIEW_TOKEN=REVIEW_TOKEN
    ) as (base, _):
        yield base


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    """A page in headless Chromium with a fresh profile; skips if there is no browser to drive."""
    with chromium_page(
        tmp_path / "chromium-profile", viewport={"width": 1280, "height": 1000}
    ) as found:
        yield found


def post(base_url: str, alert: dict[str, object]) -> None:
    response = httpx.post(
        f"{base_url}/webhooks/generic",
        json=alert,
        headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
        timeout=10,
    )
    assert response.status_code == 202, response.text


def test_sign_in_filter_and_read_an_alerts_timeline(page: Page, base_url: str) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    post(base_url, {"title": EVIL, "level": 1, "fingerprint": "evil"})
    post(base_url, {"title": "Disk almost full", "level": 2, "fingerprint": "disk"})
    post(base_url, {"title": "Disk almost full", "fingerprint": "disk", "status": "resolved"})

    try:
        page.goto(f"{base_url}/review")
        expect(page).to_have_url(re.compile(r"/review/login$"))
        page.get_by_label("Review token").fill("wrong")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("not the review token")
        page.get_by_label("Review token").fill(REVIEW_TOKEN)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(re.compile(r"/review$"))
        expect(page.locator("#fig-alerts")).to_have_text("2")
        expect(page.locator("#alerts")).to_contain_text(EVIL)  # shown as text, not markup
        expect(page.locator("img.chart")).to_be_visible()
        assert page.locator("img.chart").evaluate("img => img.naturalWidth") > 0
        expect(page.locator("#by-level")).to_contain_text("1")
        expect(page.locator("#causes")).to_contain_text("by the source")
        page.screenshot(path=ARTIFACTS / "01-review.png", full_page=True)

        page.get_by_label("Level").select_option("2")
        page.get_by_role("button", name="Show").click()
        expect(page).to_have_url(re.compile(r"level=2"))
        expect(page.locator("#fig-alerts")).to_have_text("1")
        row = page.locator("tr.alert-row").filter(has_text="Disk almost full")
        row.locator("summary").click()
        expect(row.locator("ol.timeline")).to_contain_text("resolved at the source")
        page.screenshot(path=ARTIFACTS / "02-filtered-timeline.png", full_page=True)

        export = page.get_by_role("link", name="Export CSV")
        response = page.request.get(base_url + str(export.get_attribute("href")))
        assert response.status == 200
        assert "Disk almost full" in response.text()
        assert EVIL not in response.text()  # filtered to level 2

        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(re.compile(r"/review/login$"))
        page.goto(f"{base_url}/review")
        expect(page).to_have_url(re.compile(r"/review/login$"))
    except Exception:
        page.screenshot(path=ARTIFACTS / "99-failure.png", full_page=True)
        raise
    assert not dialogs, dialogs
