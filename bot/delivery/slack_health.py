"""Is Slack answering? Every Slack call's outcome, for the outbox sender, ``/readyz`` and the
``tocsin_slack_degraded`` metric.

Slack counts as *degraded* after a few calls in a row failed in a way that says Slack, not the
request, is the problem (5xx, timeouts, connection errors), or at once when Slack asks to wait
longer than a channel's limit ever would (a 429 with ``Retry-After`` over 5 s: the outbox
then holds that channel, so no second failure would come); any answer from Slack clears it.
While degraded the outbox sender stops sending each pending row into the outage: it probes
Slack (``auth.test``) every few seconds and resumes as soon as a probe succeeds.
``FaultyWebClient`` is the same client with the ``slack_after_post`` fault point (tests only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.runtime.clock import Clock, system_clock
from bot.runtime.faults import NO_FAULTS, FaultPoints
from bot.runtime.metrics import CountingWebClient, Metrics

FAILURES_TO_DEGRADE = 3
SHORT_RETRY_AFTER_SECONDS = 5
"""A 429 asking to wait this long or less is a channel's own limit, not an outage."""
PROBE_EVERY = timedelta(seconds=2)


def is_outage(error: BaseException) -> bool:
    """A failed Slack call that says Slack is unwell (not a request Slack refused, nor a
    channel's own short rate limit)."""
    if isinstance(error, SlackApiError):
        status = int(error.response.status_code)
        if status == 429:
            wait = str(error.response.headers.get("Retry-After", "1"))
            return not wait.isdigit() or int(wait) > SHORT_RETRY_AFTER_SECONDS
        return status >= 500
    return True  # no answer at all: timeout, connection refused or reset


def outcome_unknown(error: BaseException) -> bool:
    """Might the failed call have taken effect anyway? Only a clear refusal says no."""
    if isinstance(error, SlackApiError):
        return int(error.response.status_code) >= 500
    return True


@dataclass
class SlackHealth:
    metrics: Metrics | None = None
    clock: Clock = system_clock
    failures: int = 0
    degraded_since: datetime | None = None
    last_error: str | None = None
    next_probe_at: datetime | None = field(default=None)

    @property
    def degraded(self) -> bool:
        return self.degraded_since is not None

    def answered(self) -> None:
        self.failures = 0
        self.degraded_since = None
        self.next_probe_at = None
        self._publish()

    def failed(self, error: str, *, at_once: bool = False) -> None:
        """A call failed as in an outage; ``at_once``: Slack said so itself (a long 429)."""
        now = self.clock()
        self.failures += 1
        self.last_error = error
        if (at_once or self.failures >= FAILURES_TO_DEGRADE) and self.degraded_since is None:
            self.degraded_since = now
            self.next_probe_at = now + PROBE_EVERY
        self._publish()

    def not_yet(self, now: datetime) -> None:
        """A probe failed: the next one in PROBE_EVERY."""
        self.next_probe_at = now + PROBE_EVERY

    def probe_due(self, now: datetime) -> bool:
        return self.next_probe_at is None or now >= self.next_probe_at

    def report(self, now: datetime) -> dict[str, object]:
        if self.degraded_since is None:
            return {"status": "ok"}
        return {
            "status": "degraded",
            "since": self.degraded_since.isoformat(),
            "for_seconds": round((now - self.degraded_since).total_seconds(), 1),
            "last_error": self.last_error,
        }

    def _publish(self) -> None:
        if self.metrics is not None:
            self.metrics.slack_degraded.set(1 if self.degraded else 0)


class HealthReportingWebClient(CountingWebClient):
    """The Slack client, telling :class:`SlackHealth` how each call went."""

    health: SlackHealth | None = None

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        try:
            response = await super().api_call(api_method, **kwargs)
        except Exception as exc:
            if self.health is not None:
                if is_outage(exc):
                    self.health.failed(
                        f"{api_method}: {type(exc).__name__}: {exc}"[:300],
                        at_once=isinstance(exc, SlackApiError) and exc.response.status_code == 429,
                    )
                else:
                    self.health.answered()
            raise
        if self.health is not None:
            self.health.answered()
        return response


class FaultyWebClient(HealthReportingWebClient):
    """The Slack client with the ``slack_after_post`` point: Slack has the message, Tocsin
    has not yet recorded it."""

    faults: FaultPoints = NO_FAULTS

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        response = await super().api_call(api_method, **kwargs)
        if api_method == "chat.postMessage":
            self.faults.reached("slack_after_post")
        return response
