"""Per-integration token buckets: one noisy monitoring tool cannot starve the others.

Each replica keeps its own buckets in memory (no database round trip per webhook), so with N
replicas behind a load balancer an integration may post up to N times its configured rate.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from config.sections.limits import RateLimitConfig


@dataclass(slots=True)
class TokenBucket:
    """``burst`` tokens at most, refilled at ``rate`` per second; a request takes one."""

    rate: float
    burst: float
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """0.0 if a token was taken, else the seconds until one will be there."""
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


class RateLimiter:
    def __init__(
        self,
        limits: Mapping[str, RateLimitConfig],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        now = clock()
        self.limits = dict(limits)
        self._buckets = {
            name: TokenBucket(
                rate=limit.per_minute / 60.0, burst=limit.burst, tokens=limit.burst, updated=now
            )
            for name, limit in limits.items()
        }

    def use_limits(self, limits: Mapping[str, RateLimitConfig]) -> None:
        """A reloaded policy file: new or changed limits start with a full bucket; an
        unchanged one keeps its tokens."""
        now = self._clock()
        self._buckets = {
            name: self._buckets[name]
            if name in self._buckets and self.limits.get(name) == limit
            else TokenBucket(
                rate=limit.per_minute / 60.0, burst=limit.burst, tokens=limit.burst, updated=now
            )
            for name, limit in limits.items()
        }
        self.limits = dict(limits)

    def retry_after(self, integration: str) -> int:
        """0 if ``integration`` may post now; else whole seconds to wait (at least 1)."""
        bucket = self._buckets.get(integration)
        if bucket is None:
            return 0
        wait = bucket.take(self._clock())
        return 0 if wait == 0.0 else max(1, math.ceil(wait))
