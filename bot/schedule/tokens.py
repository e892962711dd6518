"""Calendar feed tokens: an HMAC of the feed and its generation with a key kept in the
database. Nothing per feed is stored until its token is rotated (the generation is bumped),
every replica derives the same token, and a token cannot be guessed from another feed's."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlencode

from bot.schedule.feeds import Feed

_CONTEXT = b"tocsin calendar feed\x00"


def feed_token(key: bytes, feed: Feed, generation: int) -> str:
    """32 URL-safe characters (192 bits)."""
    message = _CONTEXT + f"{feed.key}\x00{generation}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode("ascii")


def token_matches(given: str | None, key: bytes, feed: Feed, generation: int) -> bool:
    """Constant time in the token's content; a missing token matches nothing."""
    expected = feed_token(key, feed, generation).encode("ascii")
    offered = (given or "").encode("utf-8", "surrogatepass")
    return hmac.compare_digest(offered, expected) and given is not None


def subscribe_url(base_url: str, feed: Feed, token: str) -> str:
    """The URL a calendar app subscribes to (the token in the query: Google Calendar takes
    nothing but a URL)."""
    return f"{base_url.rstrip('/')}{feed.path}?{urlencode({'token': token})}"
