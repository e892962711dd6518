"""Per-channel write limits (a token bucket, as Slack's ~1 message/s/channel), injected faults
and the write log."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from bot.sandbox.workspace.models import Fault, Outage


@dataclass
class _Bucket:
    tokens: float
    updated: float


class ChannelRateLimiter:
    """A token bucket per channel: `rate` tokens a second, at most `burst` held."""

    def __init__(self, *, rate: float, burst: int, clock: Callable[[], float]) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def _refill(self, channel: str) -> _Bucket:
        now = self._clock()
        bucket = self._buckets.setdefault(channel, _Bucket(tokens=float(self.burst), updated=now))
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.rate)
        bucket.updated = now
        return bucket

    def try_acquire(self, channel: str) -> int | None:
        """Take a token; None when allowed, else the whole seconds to wait (Retry-After, >= 1)."""
        bucket = self._refill(channel)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return max(1, math.ceil((1.0 - bucket.tokens) / self.rate))


@dataclass(frozen=True)
class Write:
    at: float  # the world's clock
    channel: str
    method: str
    ts: str


class WriteLog:
    """Every accepted write (chat.postMessage, chat.update) per channel, with its time."""

    def __init__(self) -> None:
        self._writes: list[Write] = []

    def record(self, write: Write) -> None:
        self._writes.append(write)

    def writes(self, channel: str | None = None) -> list[Write]:
        return [w for w in self._writes if channel is None or w.channel == channel]

    def max_per_window(self, channel: str, *, window: float = 1.0) -> int:
        """The most writes to `channel` inside any span of `window` seconds."""
        times = sorted(w.at for w in self.writes(channel))
        best, start = 0, 0
        for end, at in enumerate(times):
            while at - times[start] >= window:
                start += 1
            best = max(best, end - start + 1)
        return best


class FaultPlan:
    """Failures injected with `SlackWorld.fail_next`, taken by the next matching calls."""

    def __init__(self) -> None:
        self._pending: list[Fault] = []
        self.outage: Outage | None = None

    def current_outage(self, now: float) -> Outage | None:
        """The outage in force at `now` (the world's clock), if any; a lapsed one is cleared."""
        outage = self.outage
        if outage is not None and outage.until is not None and now >= outage.until:
            self.outage = outage = None
        return outage

    def add(self, fault: Fault) -> None:
        if fault.count < 1:
            raise ValueError("count must be >= 1")
        self._pending.append(fault)

    @property
    def waiting(self) -> int:
        """Faults set and not met yet."""
        return len(self._pending)

    def take(self, method: str, channel: object = None) -> Fault | None:
        for fault in self._pending:
            if fault.method == method and fault.channel in (None, channel):
                fault.count -= 1
                if fault.count == 0:
                    self._pending.remove(fault)
                return fault
        return None
