"""/docs in headless Chromium with every request outside the service refused: the API
browser still lists the operations (its files come from the installed package, not a CDN)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from tests.support.browser import chromium_context
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
    ours = urlsplit(base_url).netloc
    refused: list[str] = []

    def only_the_service(route: Route) -> None:
        if urlsplit(route.request.url).netloc == ours:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    with chromium_context(tmp_path / "chromium-profile") as context:
        context.route("**/*", only_the_service)
        page: Page = context.pages[0] if context.pages else context.new_page()
        page.goto(f"{base_url}/docs")
        operations = page.locator(".opblock-summary-path")
        operations.first.wait_for()
        paths = {text.strip() for text in operations.all_inner_texts()}
    assert "/webhooks/{integration}" in paths
    assert "/healthz" in paths
    assert refused == []
