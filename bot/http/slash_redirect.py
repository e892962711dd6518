"""The trailing-slash redirect (``/review/`` → ``/review``), without trusting ``Host``.

Starlette's own redirect builds an absolute URL from the request's ``Host`` header, so a
request with ``Host: evil.example`` is sent to ``http://evil.example/review`` (a poisoned
cache or a link in a proxy's log then points elsewhere). This one answers with a path only,
starting with exactly one ``/`` (``//evil.example/`` cannot become a protocol-relative URL)
and percent-encoded (a ``\\`` cannot either).
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.responses import RedirectResponse
from starlette.routing import Match, Router
from starlette.types import Receive, Scope, Send

_SAFE = "/:@!$&'()*+,;=-._~"


def relative_slash_redirects(router: Router) -> None:
    """Turn ``router``'s trailing-slash redirects into relative ones."""
    router.redirect_slashes = False
    fallback = router.default

    async def default(scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        if scope["type"] == "http" and path != "/":
            other = path.rstrip("/") if path.endswith("/") else path + "/"
            if any(r.matches({**scope, "path": other})[0] is not Match.NONE for r in router.routes):
                location = "/" + quote(other.lstrip("/"), safe=_SAFE)
                query: bytes = scope.get("query_string", b"")
                if query:
                    location += "?" + query.decode("latin-1")
                await RedirectResponse(location, status_code=307)(scope, receive, send)
                return
        await fallback(scope, receive, send)

    router.default = default
