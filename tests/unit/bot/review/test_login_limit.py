"""Failed review sign-ins are limited per client and overall, within a sliding window."""

from __future__ import annotations

from bot.review.login_limit import MAX_CLIENTS, LoginLimiter


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_client_is_stopped_after_its_failures_until_the_oldest_leaves_the_window() -> None:
    ticks = Ticks()
    limiter = LoginLimiter(per_client=3, overall=100, window_seconds=60, clock=ticks)
    for _ in range(3):
        assert limiter.retry_after("a") == 0
        limiter.failed("a")
        ticks.now += 10

    assert limiter.retry_after("a") == 30  # first failure at 1000, now 1030
    assert limiter.retry_after("b") == 0
    ticks.now = 1060.5
    assert limiter.retry_after("a") == 0


def test_all_clients_together_are_limited_too() -> None:
    ticks = Ticks()
    limiter = LoginLimiter(per_client=100, overall=4, window_seconds=60, clock=ticks)
    for client in "abcd":
        limiter.failed(client)

    assert limiter.retry_after("e") == 60


def test_memory_is_bounded() -> None:
    limiter = LoginLimiter(per_client=1, overall=10**9, clock=Ticks())
    for i in range(MAX_CLIENTS + 5):
        limiter.failed(f"c{i}")

    assert limiter.retry_after("c0") == 0  # forgotten, the oldest first
    assert limiter.retry_after(f"c{MAX_CLIENTS + 4}") == 60
