"""Is a browser request from one of our own pages? For forms and page actions that change
something (the review's sign-in and sign-out, the sandbox's ``/act``).

A browser says where a request comes from, and a page elsewhere cannot forge it. Browsers
since 2020-23 send ``Sec-Fetch-Site``: ``same-origin`` (or ``none``, typed by the user) passes,
``same-site`` and ``cross-site`` do not. Without it, ``Origin`` (or else ``Referer``) must be
this service's: the one in ``TOCSIN_PUBLIC_URL`` or the ``Host`` it was asked for; ``Origin:
null`` does not pass (the review's ``Referrer-Policy: no-referrer`` makes a browser send it
even for its own forms, which is why ``Sec-Fetch-Site`` comes first). A request with none of
these headers (curl, a script) is not a browser's and passes: the CSRF risk is a browser's
cookies.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def cross_site_problem(request: Request, *, public_url: str) -> str | None:
    """Why ``request`` looks sent by another site's page, or ``None``."""
    site = request.headers.get("sec-fetch-site", "").strip().lower()
    if site in ("same-origin", "none"):
        return None
    if site:
        return f"the request comes from another site (Sec-Fetch-Site: {site[:20]})"
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
