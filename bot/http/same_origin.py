"""Is a browser request from one of our own pages? For forms and page actions that change
something (the review's sign-in and sign-out, the sandbox's ``/act``).

A browser names the page that sent a request in ``Origin`` (every cross-site POST carries
it) and says ``Sec-Fetch-Site: cross-site``; a page elsewhere cannot forge either. The
request's origin must be this service's: the one in ``TOCSIN_PUBLIC_URL`` or, when the
service is reached directly, the ``Host`` it was asked for. A request with neither header
(curl, a script) is not a browser's and is let through: the CSRF risk is a browser's cookies.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def cross_site_problem(request: Request, *, public_url: str) -> str | None:
    """Why ``request`` looks sent by another site's page, or ``None``."""
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        return "the request comes from another site (Sec-Fetch-Site: cross-site)"
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        if not referer:
            return None
        origin = _origin(referer)
    origin = origin.strip().lower()
    host = request.headers.get("host", "").lower()
    ours = {_origin(public_url), f"http://{host}", f"https://{host}"}
    if origin not in ours:
        return f"the request comes from a page of {origin[:80]!r}, not of this service"
    return None
