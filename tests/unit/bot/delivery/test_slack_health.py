"""How Slack's answers turn into the degraded state, probing, and "outcome unknown"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.slack_response import SlackResponse

from bot.delivery.slack_health import PROBE_EVERY, SlackHealth, is_outage, outcome_unknown
from bot.runtime.metrics import Metrics

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def error(status: int, *, retry_after: str | None = None, code: str = "x") -> SlackApiError:
    headers = {"Retry-After": retry_after} if retry_after else {}
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.test/api/chat.postMessage",
        req_args={},
        data={"ok": False, "error": code},
        headers=headers,
        status_code=status,
    )
    return SlackApiError("failed", response)  # type: ignore[no-untyped-call]  # slack_sdk leaves it unannotated


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def test_slack_is_degraded_after_three_outage_failures_in_a_row_and_clear_on_an_answer() -> None:
    metrics = Metrics()
    health = SlackHealth(metrics=metrics, clock=Clock())
    health.failed("503")
    health.failed("503")
    assert not health.degraded
    health.failed("503")
    assert health.degraded
    assert health.report(NOW)["status"] == "degraded"
    assert metrics.slack_degraded._value.get() == 1
    health.answered()
    assert not health.degraded
    assert health.report(NOW) == {"status": "ok"}
    assert metrics.slack_degraded._value.get() == 0


def test_an_answer_between_failures_starts_the_count_again() -> None:
    health = SlackHealth(clock=Clock())
    for _ in range(5):
        health.failed("503")
        health.failed("503")
        health.answered()
    assert not health.degraded


def test_probes_are_spaced_by_probe_every_while_degraded() -> None:
    clock = Clock()
    health = SlackHealth(clock=clock)
    for _ in range(3):
        health.failed("timeout")
    assert not health.probe_due(NOW)
    assert health.probe_due(NOW + PROBE_EVERY)
    health.not_yet(NOW + PROBE_EVERY)
    assert not health.probe_due(NOW + PROBE_EVERY + timedelta(milliseconds=10))


def test_5xx_and_long_rate_limits_are_outages_but_refusals_and_channel_limits_are_not() -> None:
    assert is_outage(error(503))
    assert is_outage(error(500))
    assert is_outage(error(429, retry_after="60"))
    assert not is_outage(error(429, retry_after="1"))
    assert not is_outage(error(200, code="channel_not_found"))
    assert is_outage(TimeoutError())
    assert is_outage(ConnectionResetError())


def test_only_a_clear_refusal_makes_the_outcome_known() -> None:
    assert outcome_unknown(error(503))
    assert outcome_unknown(TimeoutError())
    assert not outcome_unknown(error(429, retry_after="60"))
    assert not outcome_unknown(error(200, code="channel_not_found"))


def test_a_long_rate_limit_degrades_at_once() -> None:
    health = SlackHealth(clock=Clock())
    health.failed("429, Retry-After: 120", at_once=True)
    assert health.degraded
