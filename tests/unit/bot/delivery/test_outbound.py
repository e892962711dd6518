"""Paging an outbound webhook: headers, signature, and the bounded retry policy."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest
from structlog.testing import capture_logs

from bot.delivery.outbound import (
    OutboundError,
    OutboundPager,
    OutboundTarget,
    page_payload,
    parse_retry_after,
    safe_url,
)

NOW = 1_700_000_000.25
TOKEN = "tok-SUPERSECRET-123"
SECRET = "hmac-SUPERSECRET-456"
QUERY_SECRET = "qs-SUPERSECRET-789"
KEY = "alert-42-tier-2"
PAYLOAD = page_payload(
    alert_id=42,
    title="disk full on db-1",
    level=3,
    level_name="critical",
    tier=2,
    rule="database",
    url="https://example.slack.com/archives/C1/p1",
    status="open",
)

Step = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


@dataclass
class FakeReceiver:
    """Answers requests from a script; the last step repeats once the script runs out."""

    script: list[Step]
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.script[min(len(self.requests), len(self.script)) - 1]
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return step
        return step(request)


@dataclass
class FakeSleep:
    waits: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def connect_error(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def make(
    *script: Step, max_attempts: int = 4, max_wait_seconds: float = 30.0
) -> tuple[OutboundPager, FakeReceiver, FakeSleep]:
    receiver = FakeReceiver(list(script))
    sleep = FakeSleep()
    client = httpx.AsyncClient(transport=httpx.MockTransport(receiver))
    pager = OutboundPager(
        client=client,
        max_attempts=max_attempts,
        max_wait_seconds=max_wait_seconds,
        clock=lambda: NOW,
        sleep=sleep,
    )
    return pager, receiver, sleep


def target(**overrides: object) -> OutboundTarget:
    fields: dict[str, object] = {"name": "sms", "url": "https://pager.example/hook"}
    fields.update(overrides)
    return OutboundTarget(**fields)  # type: ignore[arg-type]


async def test_success_first_try_sends_compact_sorted_json_and_headers() -> None:
    pager, receiver, sleep = make(httpx.Response(202))

    status = await pager.send(target(), payload=PAYLOAD, idempotency_key=KEY)

    assert status == 202
    assert sleep.waits == []
    [request] = receiver.requests
    assert request.method == "POST"
    assert str(request.url) == "https://pager.example/hook"
    assert request.content == json.dumps(PAYLOAD, separators=(",", ":"), sort_keys=True).encode()
    assert json.loads(request.content) == PAYLOAD
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == "tocsin/0.1"
    assert request.headers["idempotency-key"] == KEY
    for absent in ("authorization", "x-tocsin-signature", "x-tocsin-timestamp"):
        assert absent not in request.headers


async def test_bearer_token_is_sent() -> None:
    pager, receiver, _ = make(httpx.Response(200))

    await pager.send(target(token=TOKEN), payload=PAYLOAD, idempotency_key=KEY)

    assert receiver.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


async def test_hmac_signature_verifies_with_the_documented_recipe() -> None:
    pager, receiver, _ = make(httpx.Response(200))

    await pager.send(target(hmac_secret=SECRET), payload=PAYLOAD, idempotency_key=KEY)

    request = receiver.requests[0]
    ts = request.headers["x-tocsin-timestamp"]
    assert ts == str(int(NOW))  # from the injected clock, whole seconds
    expected = (
        "sha256="
        + hmac.new(SECRET.encode(), f"{ts}.".encode() + request.content, hashlib.sha256).hexdigest()
    )
    assert hmac.compare_digest(expected, request.headers["x-tocsin-signature"])
    # The recipe written as text: f"{timestamp}.{body}".
    text = f"{ts}.{request.content.decode()}"
    assert (
        expected == "sha256=" + hmac.new(SECRET.encode(), text.encode(), hashlib.sha256).hexdigest()
    )


async def test_signature_does_not_verify_with_another_secret() -> None:
    pager, receiver, _ = make(httpx.Response(200))

    await pager.send(target(hmac_secret=SECRET), payload=PAYLOAD, idempotency_key=KEY)

    request = receiver.requests[0]
    ts = request.headers["x-tocsin-timestamp"]
    wrong = hmac.new(b"other", f"{ts}.".encode() + request.content, hashlib.sha256).hexdigest()
    assert request.headers["x-tocsin-signature"] != f"sha256={wrong}"


async def test_idempotency_key_is_identical_across_retries() -> None:
    pager, receiver, _ = make(httpx.Response(503), httpx.Response(502), httpx.Response(200))

    await pager.send(target(hmac_secret=SECRET), payload=PAYLOAD, idempotency_key=KEY)

    assert len(receiver.requests) == 3
    assert {r.headers["idempotency-key"] for r in receiver.requests} == {KEY}
    assert len({r.content for r in receiver.requests}) == 1


async def test_503_then_200_is_retried() -> None:
    pager, receiver, sleep = make(httpx.Response(503), httpx.Response(200))

    assert await pager.send(target(), payload=PAYLOAD, idempotency_key=KEY) == 200

    assert len(receiver.requests) == 2
    assert len(sleep.waits) == 1
    assert 0 <= sleep.waits[0] <= 8  # exponential with jitter, capped


async def test_429_with_retry_after_waits_that_long() -> None:
    pager, receiver, sleep = make(
        httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(200)
    )

    assert await pager.send(target(), payload=PAYLOAD, idempotency_key=KEY) == 200

    assert sleep.waits == [3.0]
    assert len(receiver.requests) == 2


async def test_503_with_retry_after_is_honoured_too() -> None:
    pager, _, sleep = make(httpx.Response(503, headers={"Retry-After": "5"}), httpx.Response(200))

    await pager.send(target(), payload=PAYLOAD, idempotency_key=KEY)

    assert sleep.waits == [5.0]


async def test_retry_after_is_capped_at_max_wait_seconds() -> None:
    pager, receiver, sleep = make(
        httpx.Response(429, headers={"Retry-After": "3600"}),
        httpx.Response(200),
        max_wait_seconds=30,
    )

    assert await pager.send(target(), payload=PAYLOAD, idempotency_key=KEY) == 200

    assert sleep.waits == [30.0]
    assert len(receiver.requests) == 2


async def test_connection_error_then_success() -> None:
    pager, receiver, sleep = make(connect_error, httpx.Response(200))

    assert await pager.send(target(), payload=PAYLOAD, idempotency_key=KEY) == 200

    assert len(receiver.requests) == 2
    assert len(sleep.waits) == 1


async def test_timeout_is_retried() -> None:
    def read_timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    pager, receiver, _ = make(read_timeout, httpx.Response(201))

    assert await pager.send(target(), payload=PAYLOAD, idempotency_key=KEY) == 201
    assert len(receiver.requests) == 2


@pytest.mark.parametrize("status", [408, 429, 500, 502, 504])
async def test_transient_statuses_are_retried(status: int) -> None:
    pager, receiver, _ = make(httpx.Response(status), httpx.Response(200))

    assert await pager.send(target(), payload=PAYLOAD, idempotency_key=KEY) == 200
    assert len(receiver.requests) == 2


async def test_concurrent_sends_keep_their_own_retry_state() -> None:
    def by_target(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503 if request.url.path == "/down" else 200)

    pager, receiver, _ = make(by_target, max_attempts=3)

    down, up = await asyncio.gather(
        pager.send(target(url="https://pager.example/down"), payload=PAYLOAD, idempotency_key="a"),
        pager.send(target(url="https://pager.example/up"), payload=PAYLOAD, idempotency_key="b"),
        return_exceptions=True,
    )

    assert isinstance(down, OutboundError)
    assert down.attempts == 3
    assert up == 200
    assert [r.url.path for r in receiver.requests].count("/down") == 3


async def test_400_is_not_retried() -> None:
    pager, receiver, sleep = make(httpx.Response(400, text="bad field"), httpx.Response(200))

    with pytest.raises(OutboundError) as caught:
        await pager.send(target(), payload=PAYLOAD, idempotency_key=KEY)

    assert len(receiver.requests) == 1
    assert sleep.waits == []
    assert caught.value.status == 400
    assert caught.value.attempts == 1
    message = str(caught.value)
    assert "400" in message
    assert "not retried" in message
    assert "'sms'" in message


@pytest.mark.parametrize("status", [401, 403, 404, 410, 422, 301])
async def test_other_non_success_statuses_are_permanent(status: int) -> None:
    pager, receiver, _ = make(httpx.Response(status), httpx.Response(200))

    with pytest.raises(OutboundError, match=str(status)):
        await pager.send(target(), payload=PAYLOAD, idempotency_key=KEY)
    assert len(receiver.requests) == 1


async def test_retries_exhausted_after_max_attempts() -> None:
    pager, receiver, sleep = make(httpx.Response(503), max_attempts=3)

    with pytest.raises(OutboundError, match="gave up after 3 attempts") as caught:
        await pager.send(target(), payload=PAYLOAD, idempotency_key=KEY)

    assert len(receiver.requests) == 3
    assert len(sleep.waits) == 2
    assert caught.value.attempts == 3
    assert caught.value.status == 503
    assert "last error HTTP 503" in str(caught.value)


async def test_exhausted_by_connection_errors_names_the_error() -> None:
    pager, receiver, _ = make(connect_error, max_attempts=2)

    with pytest.raises(OutboundError, match="gave up after 2 attempts") as caught:
        await pager.send(target(), payload=PAYLOAD, idempotency_key=KEY)

    assert len(receiver.requests) == 2
    assert "ConnectError" in str(caught.value)
    assert caught.value.status is None


async def test_total_wait_is_bounded_by_max_wait_seconds() -> None:
    pager, receiver, sleep = make(
        httpx.Response(429, headers={"Retry-After": "4"}), max_attempts=10, max_wait_seconds=10
    )

    with pytest.raises(OutboundError, match="gave up after 3 attempts"):
        await pager.send(target(), payload=PAYLOAD, idempotency_key=KEY)

    assert sleep.waits == [4.0, 4.0]  # a third wait would take the total to 12s
    assert sum(sleep.waits) <= 10
    assert len(receiver.requests) == 3


async def test_backoff_waits_stay_within_the_budget() -> None:
    pager, _, sleep = make(httpx.Response(500), max_attempts=50, max_wait_seconds=20)

    with pytest.raises(OutboundError):
        await pager.send(target(), payload=PAYLOAD, idempotency_key=KEY)

    assert sleep.waits
    assert all(0 <= w <= 8 for w in sleep.waits)
    assert sum(sleep.waits) <= 20


async def test_secrets_never_appear_in_errors_or_logs() -> None:
    leaky = target(
        url=f"https://user:pw@pager.example/hook?key={QUERY_SECRET}",
        token=TOKEN,
        hmac_secret=SECRET,
    )

    def echo_auth(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, text=f"bad token {request.headers['authorization']}")

    def leaky_connect_error(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {leaky.url} with {TOKEN}", request=request)

    messages: list[str] = []
    with capture_logs() as logs:
        pager, _, _ = make(leaky_connect_error, httpx.Response(503), max_attempts=3)
        with pytest.raises(OutboundError) as exhausted:
            await pager.send(leaky, payload=PAYLOAD, idempotency_key=KEY)
        messages.append(str(exhausted.value))

        pager, _, _ = make(echo_auth)
        with pytest.raises(OutboundError) as rejected:
            await pager.send(leaky, payload=PAYLOAD, idempotency_key=KEY)
        messages.append(str(rejected.value))

    assert logs, "attempt failures should be logged"
    failures = [e for e in logs if e["event"] == "outbound_attempt_failed"]
    assert [e["attempt"] for e in failures] == [1, 2, 3]
    assert failures[0]["target"] == "sms"
    assert "ConnectError" in failures[0]["error"]
    assert failures[1]["status"] == 503
    assert all(e["url"] == "https://pager.example/hook" for e in logs)

    text = repr(logs) + "\n".join(messages) + repr(leaky)
    for secret in (TOKEN, SECRET, QUERY_SECRET, "user:pw"):
        assert secret not in text


async def test_payload_that_is_not_json_raises_before_any_request() -> None:
    pager, receiver, _ = make(httpx.Response(200))

    with pytest.raises(TypeError):
        await pager.send(target(), payload={"when": object()}, idempotency_key=KEY)
    assert receiver.requests == []


def test_page_payload_shape() -> None:
    assert PAYLOAD == {
        "type": "tocsin.page",
        "alert": {
            "id": 42,
            "title": "disk full on db-1",
            "level": 3,
            "level_name": "critical",
            "status": "open",
        },
        "tier": 2,
        "rule": "database",
        "link": "https://example.slack.com/archives/C1/p1",
    }
    without_link = page_payload(
        alert_id=1, title="t", level=1, level_name="info", tier=0, rule="r", url=None, status="open"
    )
    assert without_link["link"] is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("3", 3.0),
        (" 0 ", 0.0),
        ("1.5", 1.5),
        ("-1", None),
        ("soon", None),
        ("nan", None),
        ("Tue, 14 Nov 2023 22:13:30 GMT", 10.0),  # 1_700_000_000 is 22:13:20 UTC
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, now=1_700_000_000.0) == expected


def test_parse_retry_after_date_in_the_past_means_no_wait() -> None:
    assert parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now=NOW) == 0.0


def test_safe_url_keeps_scheme_host_port_and_path_only() -> None:
    assert safe_url("https://u:p@h.example:8443/a/b?token=x#frag") == "https://h.example:8443/a/b"
    assert safe_url("http://h.example/") == "http://h.example/"
