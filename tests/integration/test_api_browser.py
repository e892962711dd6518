"""The API browser (/docs, /redoc) loads nothing from outside the service."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.databases import database
from tests.support.harness import Harness, running_tocsin


@pytest.fixture
async def tocsin(tmp_path: Path) -> AsyncIterator[Harness]:
    async with database("sqlite", tmp_path) as url, running_tocsin(database_url=url) as harness:
        yield harness


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_api_browser_pages_use_only_the_services_own_files(
    tocsin: Harness, page: str
) -> None:
    response = await tocsin.http.get(f"{tocsin.base_url}{page}")
    assert response.status_code == 200
    html = response.text
    assert "/openapi.json" in html
    links = re.findall(r"""(?:src|href)=["']([^"']+)["']|url: ?["']([^"']+)["']""", html)
    urls = [a or b for a, b in links]
    assert urls, html
    for url in urls:
        assert url.startswith("/"), f"{page} loads {url} from outside the service"
        asset = await tocsin.http.get(f"{tocsin.base_url}{url}")
        assert asset.status_code == 200, url
        assert len(asset.content) > 100, url


async def test_the_api_browser_is_not_in_the_api_document(tocsin: Harness) -> None:
    paths = (await tocsin.http.get(f"{tocsin.base_url}/openapi.json")).json()["paths"]
    assert not [path for path in paths if path.startswith(("/docs", "/redoc"))]
