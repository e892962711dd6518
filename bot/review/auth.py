"""Who may read the review: the review token (``TOCSIN_REVIEW_TOKEN``) as a bearer token for
the API, or a signed session cookie that the login form sets for the page.

The cookie holds its expiry and an HMAC-SHA256 of it under a key derived from the token, so
changing the token ends every session. It is ``HttpOnly`` and ``SameSite=Strict`` (and
``Secure`` behind https); nothing else is kept on the server.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from bot.runtime.clock import Clock

COOKIE = "tocsin_review"


@dataclass(frozen=True)
class ReviewAuth:
    token: str
    clock: Clock
    session_seconds: float
    secure: bool

    @property
    def _key(self) -> bytes:
        return hmac.new(self.token.encode(), b"tocsin-review-session-v1", hashlib.sha256).digest()

    def token_matches(self, offered: str) -> bool:
        return hmac.compare_digest(offered.encode(), self.token.encode())

    def bearer_ok(self, header: str | None) -> bool:
        if not header or not header.lower().startswith("bearer "):
            return False
        return self.token_matches(header[7:].strip())

    def new_session(self) -> tuple[str, int]:
        """A cookie value and its lifetime in seconds."""
        expires = int(self.clock().timestamp() + self.session_seconds)
        return f"{expires}.{self._sign(expires)}", int(self.session_seconds)

    def session_ok(self, value: str | None) -> bool:
        if not value or "." not in value:
            return False
        expires_text, _, signature = value.partition(".")
        if not expires_text.isdigit():
            return False
        if not hmac.compare_digest(signature, self._sign(int(expires_text))):
            return False
        return datetime.fromtimestamp(int(expires_text), self.clock().tzinfo) > self.clock()

    def _sign(self, expires: int) -> str:
        return hmac.new(self._key, str(expires).encode(), hashlib.sha256).hexdigest()
