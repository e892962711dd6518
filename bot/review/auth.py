"""Who may read the review: the review token (``TOCSIN_REVIEW_TOKEN``) as a bearer token for
the API, or a signed session cookie that the login form sets for the page.

The cookie is signed by ``itsdangerous`` (a timestamp and an HMAC-SHA256 under a key derived
from the token, so changing the token ends every session), and is good for
``TOCSIN_REVIEW_SESSION_HOURS`` from its signing by the service's clock. Any cookie that is
not exactly such a value — tampered, truncated, non-ASCII, expired — is simply no session
(the login page, or a 401), never an error. It is ``HttpOnly`` and ``SameSite=Strict`` (and
``Secure`` behind https); nothing else is kept on the server.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from itsdangerous import BadData, TimestampSigner

from bot.runtime.clock import Clock

COOKIE = "tocsin_review"
SALT = "tocsin-review-session-v2"
SESSION = b"review"
"""What the cookie says, signed: that its holder signed in with the review token."""


class _ClockSigner(TimestampSigner):
    """A timestamp signer on the service's clock (tests move it), not ``time.time()``."""

    def __init__(self, *, token: str, clock: Clock) -> None:
        super().__init__(token, salt=SALT, digest_method=hashlib.sha256)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock().timestamp())


@dataclass(frozen=True)
class ReviewAuth:
    token: str
    clock: Clock
    session_seconds: float
    secure: bool
    _signer: _ClockSigner = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_signer", _ClockSigner(token=self.token, clock=self.clock))

    def token_matches(self, offered: str) -> bool:
        return hmac.compare_digest(offered.encode(), self.token.encode())

    def bearer_ok(self, header: str | None) -> bool:
        if not header or not header.lower().startswith("bearer "):
            return False
        return self.token_matches(header[7:].strip())

    def new_session(self) -> tuple[str, int]:
        """A cookie value and its lifetime in seconds."""
        return self._signer.sign(SESSION).decode("ascii"), int(self.session_seconds)

    def session_ok(self, value: str | None) -> bool:
        if not value:
            return False
        try:
            signed = self._signer.unsign(value, max_age=int(self.session_seconds))
        except BadData:  # a bad signature, a timestamp out of range, or expired
            return False
        return hmac.compare_digest(signed, SESSION)
