"""URLs from alerts, read the way a browser reads them (the WHATWG URL Standard, through
``ada_url``, the parser Node.js uses), so the host shown beside a link is the host a click
goes to.

Python's ``urllib`` is not that parser: for ``https://evil.example\\@good.example/`` it says
the host is ``good.example``, while a browser turns ``\\`` into ``/`` and goes to
``evil.example``. Rather than show such a link, anything a reader could take for something
else is refused: a scheme other than ``http``/``https`` (or without ``//``), a backslash,
userinfo (``user:password@`` — a disguise, or a password posted to a channel), a control,
format or space character anywhere (a browser drops a tab inside the host), or a URL the
standard itself rejects.
"""

from __future__ import annotations

import unicodedata

import ada_url

_SCHEMES = ("http://", "https://")
_INVISIBLE = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Co", "Cn", "Cs"})
_SLACK_SYNTAX = frozenset("<>|")


def browser_url(url: str) -> tuple[str, str] | None:
    """``(href, host)``: the URL as a browser sends it (normalised) and the host it goes to;
    ``None`` when the URL is not a plain ``http(s)`` link whose host is beyond doubt."""
    if not url.lower().startswith(_SCHEMES) or "\\" in url:
        return None
    if any(ch in _SLACK_SYNTAX or unicodedata.category(ch) in _INVISIBLE for ch in url):
        return None
    authority = url.split("://", 1)[1]
    for end in "/?#":
        authority = authority.split(end, 1)[0]
    if "@" in authority:
        return None
    try:
        parsed = ada_url.parse_url(url)
    except ValueError:
        return None
    if parsed["protocol"] not in ("http:", "https:") or parsed["username"] or parsed["password"]:
        return None
    href, host = str(parsed["href"]), str(parsed["hostname"])
    if not host or any(ch in _SLACK_SYNTAX for ch in href):
        return None
    return href, host
