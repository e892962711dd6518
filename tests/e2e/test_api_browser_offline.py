"""/docs in headless Chromium with every request outside the service refused: the API
browser still lists the operations (its files come from the installed package, not a CDN)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from tests.e2e.test_sandbox_browser import CHROMIUM_ARGS, WAIT_MS, find_chromium
from tests.support.process import serve_process

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

pytestmark = pytest.mark.e2e


@pytest.fixture
def base_url(tmp_path: Path) -> Iterator[str]:
    with serve_process(tmp_path) as (base, _):
        yield base


def test_the_api_browser_lists_the_operations_with_the_network_cut(
    tmp_path: Path, base_url: str
) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("no Chromium found (install Debian's `chromium`)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="`playwright` is not installed")
    ours = urlsplit(base_url).netloc
    refused: list[str] = []

    def only_the_service(route: Route) -> None:
        if urlsplit(route.request.url).netloc == ours:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path / "chromium-profile",
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_ARGS,
        )
        try:
            context.route("**/*", only_the_service)
            page: Page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(WAIT_MS)
            page.goto(f"{base_url}/docs")
            operations = page.locator(".opblock-summary-path")
            operations.first.wait_for()
            paths = {text.strip() for text in operations.all_inner_texts()}
        finally:
            context.close()
    assert "/webhooks/{integration}" in paths
    assert "/healthz" in paths
    assert refused == []
