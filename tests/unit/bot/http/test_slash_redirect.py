"""The trailing-slash redirect is a path: it does not repeat the request's Host header, and a
path cannot turn it into a redirect to another host."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from starlette.responses import PlainTextResponse

from bot.http.slash_redirect import relative_slash_redirects


def app() -> FastAPI:
    built = FastAPI()

    @built.get("/review")
    async def review() -> PlainTextResponse:
        return PlainTextResponse("review")

    @built.get("/files/{name}/")
    async def files(name: str) -> PlainTextResponse:
        return PlainTextResponse(name)

    relative_slash_redirects(built.router)
    return built


@pytest.fixture
async def http() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app())
    return httpx.AsyncClient(transport=transport, base_url="http://tocsin.example")


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/review/", "/review"),
        ("/review/?from=2026-01-01", "/review?from=2026-01-01"),
        ("/files/a", "/files/a/"),
        ("/files/%5Cevil.example", "/files/%5Cevil.example/"),
    ],
)
async def test_the_redirect_is_a_path_whatever_the_host(
    http: httpx.AsyncClient, path: str, location: str
) -> None:
    response = await http.get(path, headers={"Host": "evil.example"})

    assert response.status_code == 307
    assert response.headers["location"] == location


@pytest.mark.parametrize("path", ["//evil.example/", "/nothing/", "/\\evil.example/"])
async def test_no_redirect_where_no_route_is(http: httpx.AsyncClient, path: str) -> None:
    response = await http.get(path, headers={"Host": "evil.example"})

    assert response.status_code == 404
    assert "location" not in response.headers


async def test_routes_themselves_are_untouched(http: httpx.AsyncClient) -> None:
    assert (await http.get("/review")).text == "review"
