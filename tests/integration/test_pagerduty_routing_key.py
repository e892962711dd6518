"""PagerDuty's ``routing_key`` (the integration's token, in the body): a wrong one is refused
before the body is decoded (decoding 1 MiB costs ~100x a refused header token), and a right
one is not kept in the stored body (issue 15, items 4 and 6)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

import bot.http.intake.body_checks
import bot.http.intake.webhooks
from storage.tables import AlertRow, InboxRow
from tests.support.harness import WEBHOOK_TOKEN, Harness, running_tocsin
from tests.support.policies import example_policy


@pytest.fixture
async def tocsin(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_tocsin(
        database_url=f"sqlite:///{tmp_path}/t.db", config_path=example_policy(tmp_path)
    ) as harness:
        yield harness


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every body the webhook endpoint decodes as JSON."""
    sizes: list[int] = []
    real: Callable[[bytes], object] = bot.http.intake.body_checks.decode_json

    def spy(body: bytes) -> object:
        sizes.append(len(body))
        return real(body)

    monkeypatch.setattr(bot.http.intake.webhooks, "decode_json", spy)
    return sizes


def event(routing_key: str, **extra: Any) -> dict[str, Any]:
    return {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": "disk-db-1",
        "payload": {"summary": "Disk full on db-1", "source": "db-1", "severity": "error"},
        **extra,
    }


async def inbox(tocsin: Harness) -> list[InboxRow]:
    async with tocsin.service.db.read() as session:
        return list((await session.exec(select(InboxRow))).all())


@pytest.mark.parametrize("path", ["/webhooks/pagerduty", "/v2/enqueue"])
async def test_a_wrong_routing_key_is_refused_without_decoding_the_body(
    tocsin: Harness, decoded: list[int], path: str
) -> None:
    details = {f"k{i}": i for i in range(20_000)}
    body = json.dumps(event("not-the-key", payload={"custom_details": details}))

    response = await tocsin.http.post(
        f"{tocsin.base_url}{path}", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 401
    assert response.json()["status"] == "unauthorized"
    assert decoded == []
    assert await inbox(tocsin) == []


@pytest.mark.parametrize("path", ["/webhooks/pagerduty", "/v2/enqueue"])
async def test_the_key_repeated_in_every_member_is_still_refused_cheaply(
    tocsin: Harness, decoded: list[int], path: str
) -> None:
    decoys = ", ".join(['{"routing_key": "not-the-key"}'] * 30_000)
    body = f'{{"event_action": "trigger", "x": [{decoys}]}}'

    response = await tocsin.http.post(f"{tocsin.base_url}{path}", content=body)

    assert response.status_code == 401
    assert decoded == []


async def test_a_wrong_routing_key_is_refused_before_the_body_is_judged(tocsin: Harness) -> None:
    # not JSON (NaN): the token is what is wrong first, as for a wrong Bearer token
    body = b'{"routing_key": "not-the-key", "event_action": "trigger", "v": NaN}'

    response = await tocsin.http.post(f"{tocsin.base_url}/webhooks/pagerduty", content=body)

    assert response.status_code == 401


async def test_the_right_key_only_inside_a_detail_does_not_open_the_door(
    tocsin: Harness,
) -> None:
    body = event("not-the-key", payload={"custom_details": {"routing_key": WEBHOOK_TOKEN}})

    for path in ("/webhooks/pagerduty", "/v2/enqueue"):
        response = await tocsin.http.post(f"{tocsin.base_url}{path}", json=body)
        assert response.status_code == 401, path
    assert await inbox(tocsin) == []


@pytest.mark.parametrize("path", ["/webhooks/pagerduty", "/v2/enqueue"])
async def test_an_escaped_right_key_is_accepted(tocsin: Harness, path: str) -> None:
    escaped = "".join(f"\\u{ord(c):04x}" for c in WEBHOOK_TOKEN)
    body = json.dumps(event("@@")).replace('"@@"', f'"{escaped}"')

    response = await tocsin.http.post(f"{tocsin.base_url}{path}", content=body)

    assert response.status_code == 202, response.text


@pytest.mark.parametrize("path", ["/webhooks/pagerduty", "/v2/enqueue"])
async def test_the_stored_body_does_not_keep_the_routing_key(tocsin: Harness, path: str) -> None:
    response = await tocsin.http.post(
        f"{tocsin.base_url}{path}", json=event(WEBHOOK_TOKEN, client="x")
    )
    assert response.status_code == 202, response.text

    async def alerted() -> bool:
        async with tocsin.service.db.read() as session:
            return bool((await session.exec(select(AlertRow))).all())

    await tocsin.until(alerted, what="the event made into an alert")
    [row] = await inbox(tocsin)
    stored = json.loads(row.body)
    assert WEBHOOK_TOKEN.encode() not in row.body
    assert stored["routing_key"] == "[redacted]"
    assert stored["client"] == "x"
    assert row.status == "done"


async def test_a_routing_key_that_is_no_string_is_still_refused_with_the_header_token(
    tocsin: Harness,
) -> None:
    response = await tocsin.http.post(
        f"{tocsin.base_url}/webhooks/pagerduty",
        json=event("x") | {"routing_key": 5},
        headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
    )

    assert response.status_code == 400
    assert "routing_key" in response.text
    assert await inbox(tocsin) == []
