"""The retry handlers of the Slack client (slack_sdk's, the one retry layer for Slack calls)."""

from __future__ import annotations

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

SHORT_RETRY_AFTER_SECONDS = 5


class ShortRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """Waits out a 429 inside the call only when ``Retry-After`` is short (a channel's
    one-message-a-second limit). A longer one goes back to the outbox, which keeps the row
    until then without holding a delivery slot."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        values = {k.lower(): v for k, v in response.headers.items()}.get("retry-after") or ["1"]
        value = values[0] if isinstance(values, list) else values
        return not str(value).isdigit() or int(value) <= SHORT_RETRY_AFTER_SECONDS


def slack_retry_handlers() -> list[AsyncRetryHandler]:
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        ShortRateLimitRetryHandler(max_retry_count=2),
    ]
