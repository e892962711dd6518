"""Headless Chromium for the browser tests: Debian's `chromium` driven by playwright, a fresh
profile per test; the test is skipped, saying why, where there is no browser to drive."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

WAIT_MS = 15_000
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@contextmanager
def chromium_context(profile: Path, **options: Any) -> Iterator[BrowserContext]:
    """A browser context on a fresh profile (``options`` go to playwright: viewport, locale…)."""
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("no Chromium found (install Debian's `chromium`)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the `playwright` package is not installed"
    )
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=chromium, headless=True, args=CHROMIUM_ARGS, **options
        )
        try:
            yield context
        finally:
            context.close()


@contextmanager
def chromium_page(profile: Path, **options: Any) -> Iterator[Page]:
    """The first page of a fresh browser context, waiting up to WAIT_MS for what it looks for."""
    with chromium_context(profile, **options) as context:
        page = context.pages[0] if context.pages else context.new_page()
        page.set_default_timeout(WAIT_MS)
        yield page
