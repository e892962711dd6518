"""A browser request from another site's page is recognised (Origin, Referer,
Sec-Fetch-Site); a request from no page at all (a script) is not a browser's."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from bot.http.same_origin import cross_site_problem

PUBLIC = "https://tocsin.example.com"


def request(**headers: str) -> Request:
    raw = [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": raw})


@pytest.mark.parametrize(
    "headers",
    [
        {"host": "127.0.0.1:8080"},
        {"host": "127.0.0.1:8080", "origin": "http://127.0.0.1:8080"},
        {"host": "internal:80", "origin": "https://TOCSIN.example.com"},
        {"host": "127.0.0.1:8080", "referer": "http://127.0.0.1:8080/review/login"},
        {"host": "127.0.0.1:8080", "sec_fetch_site": "same-origin"},
        # a browser's own form under Referrer-Policy: no-referrer
        {"host": "127.0.0.1:8080", "origin": "null", "sec_fetch_site": "same-origin"},
        {"host": "127.0.0.1:8080", "sec_fetch_site": "none"},
    ],
)
def test_our_own_pages_and_scripts_pass(headers: dict[str, str]) -> None:
    assert cross_site_problem(request(**headers), public_url=PUBLIC) is None


@pytest.mark.parametrize(
    ("headers", "words"),
    [
        ({"host": "127.0.0.1:8080", "origin": "https://evil.example"}, "evil.example"),
        ({"host": "127.0.0.1:8080", "origin": "null"}, "'null'"),
        ({"host": "127.0.0.1:8080", "referer": "https://evil.example/x"}, "evil.example"),
        ({"host": "127.0.0.1:8080", "sec_fetch_site": "cross-site"}, "Sec-Fetch-Site"),
        ({"host": "127.0.0.1:8080", "sec_fetch_site": "same-site"}, "same-site"),
        (
            {
                "host": "127.0.0.1:8080",
                "origin": "http://127.0.0.1:8080",
                "sec_fetch_site": "cross-site",
            },
            "cross-site",
        ),
        ({"host": "127.0.0.1:8080", "origin": "http://127.0.0.1:9999"}, "127.0.0.1:9999"),
    ],
)
def test_another_sites_page_is_named(headers: dict[str, str], words: str) -> None:
    problem = cross_site_problem(request(**headers), public_url=PUBLIC)

    assert problem is not None
    assert words in problem
