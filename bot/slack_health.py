"""Is Slack answering? The outbox sender's view of Slack, for ``/readyz`` and the metrics.

Slack counts as *degraded* after a few calls in a row failed in a way that says Slack, not the
request, is the problem (5xx, 429, timeouts, connection errors); one success clears it.
While degraded the sender stops sending each pending row into the outage: it probes Slack
(``auth.test``) every few seconds and resumes as soon as a probe succeeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError

from bot.metrics import Metrics

FAILURES_TO_DEGRADE = 3
PROBE_EVERY = timedelta(seconds=2)


def is_outage(error: BaseException) -> bool:
    """A failure that says Slack is unwell (as opposed to a request Slack refused)."""
    if isinstance(error, SlackApiError):
        status = int(error.response.status_code)
        return status == 429 or status >= 500
    return isinstance(error, (OSError, TimeoutError)) or "Timeout" in type(error).__name__


def outcome_unknown(error: BaseException) -> bool:
    """Might the failed call have taken effect anyway? Only a clear refusal says no."""
    if isinstance(error, SlackApiError):
        return int(error.response.status_code) >= 500
    return True


@dataclass
class SlackHealth:
    metrics: Metrics | None = None
    failures: int = 0
    degraded_since: datetime | None = None
    last_error: str | None = None
    next_probe_at: datetime | None = None

    @property
    def degraded(self) -> bool:
        return self.degraded_since is not None

    def succeeded(self) -> None:
        self.failures = 0
        self.degraded_since = None
        self.next_probe_at = None
        self._publish()

    def failed(self, error: str, *, now: datetime) -> None:
        self.failures += 1
        self.last_error = error
        if self.failures >= FAILURES_TO_DEGRADE and self.degraded_since is None:
            self.degraded_since = now
        if self.degraded_since is not None:
            self.next_probe_at = now + PROBE_EVERY
        self._publish()

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
