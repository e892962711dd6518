"""Per-integration token buckets."""

from __future__ import annotations

from bot.http.intake.rate_limit import RateLimiter
from config.sections.limits import RateLimitConfig


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_accepted_then_refused_with_the_wait_until_the_next_token() -> None:
    clock = Ticks()
    limiter = RateLimiter({"am": RateLimitConfig(per_minute=60, burst=3)}, clock=clock)
    assert [limiter.retry_after("am") for _ in range(3)] == [0, 0, 0]
    assert limiter.retry_after("am") == 1
    clock.now += 1.0
    assert limiter.retry_after("am") == 0
    assert limiter.retry_after("am") == 1


def test_the_wait_is_rounded_up_to_whole_seconds() -> None:
    clock = Ticks()
    limiter = RateLimiter({"slow": RateLimitConfig(per_minute=6, burst=1)}, clock=clock)
    assert limiter.retry_after("slow") == 0
    assert limiter.retry_after("slow") == 10
    clock.now += 9.5
    assert limiter.retry_after("slow") == 1


def test_one_noisy_integration_does_not_use_up_another_ones_tokens() -> None:
    clock = Ticks()
    limits = {name: RateLimitConfig(per_minute=60, burst=2) for name in ("noisy", "quiet")}
    limiter = RateLimiter(limits, clock=clock)
    for _ in range(50):
        limiter.retry_after("noisy")
    assert limiter.retry_after("noisy") > 0
    assert limiter.retry_after("quiet") == 0


def test_tokens_refill_up_to_the_burst_only() -> None:
    clock = Ticks()
    limiter = RateLimiter({"am": RateLimitConfig(per_minute=600, burst=2)}, clock=clock)
    clock.now += 3600
    assert [limiter.retry_after("am") for _ in range(3)] == [0, 0, 1]


def test_an_integration_without_a_bucket_is_never_limited() -> None:
    assert RateLimiter({}).retry_after("other") == 0
