"""The edges of the HTTP service, over a real server (issue 15, item 6): /metrics behind its
token, a redirect that does not echo Host, bodies that never finish, clients that leave,
cross-site and repeated review sign-ins, and Slack requests from another workspace."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select
from structlog.testing import capture_logs

from bot.sandbox.signing import sign_request
from bot.slack import ids
from storage.tables import AlertEventRow
from tests.support.harness import SIGNING_SECRET, WEBHOOK_TOKEN, Harness, running_tocsin

METRICS_TOKEN = "metrics-token-for-tests"
REVIEW_TOKEN = "review-token-for-tests-0123456789"
SETTINGS = {
    "TOCSIN_METRICS_TOKEN": METRICS_TOKEN,
    "TOCSIN_REVIEW_TOKEN": REVIEW_TOKEN,
    "TOCSIN_BODY_TIMEOUT_SECONDS": 1.0,
}


@pytest.fixture
async def tocsin(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_tocsin(
        database_url=f"sqlite:///{tmp_path}/t.db", settings=SETTINGS
    ) as harness:
        yield harness


def hostport(tocsin: Harness) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(tocsin.base_url)
    assert parts.hostname is not None
    assert parts.port is not None
    return parts.hostname, parts.port


# --- /metrics ------------------------------------------------------------------------------


async def test_metrics_need_their_token_when_one_is_set(tocsin: Harness) -> None:
    url = f"{tocsin.base_url}/metrics"
    await tocsin.webhook("generic", {"title": "counted"})

    missing = await tocsin.http.get(url)
    wrong = await tocsin.http.get(url, headers={"Authorization": "Bearer nope"})
    right = await tocsin.http.get(url, headers={"Authorization": f"Bearer {METRICS_TOKEN}"})

    assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
    assert "generic" not in missing.text + wrong.text
    assert 'tocsin_webhooks_received_total{integration="generic"' in right.text


# --- the trailing-slash redirect -----------------------------------------------------------


async def test_the_slash_redirect_does_not_repeat_the_host_header(tocsin: Harness) -> None:
    response = await tocsin.http.get(
        f"{tocsin.base_url}/healthz/?x=1", headers={"Host": "evil.example"}
    )

    assert response.status_code == 307
    assert response.headers["location"] == "/healthz?x=1"


# --- bodies that never finish, clients that leave ------------------------------------------


async def test_a_body_that_never_finishes_is_answered_408(tocsin: Harness) -> None:
    host, port = hostport(tocsin)
    reader, writer = await asyncio.open_connection(host, port)
    head = (
        "POST /webhooks/generic HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {WEBHOOK_TOKEN}\r\nContent-Length: 100\r\n\r\n"
    )
    started = time.monotonic()
    with capture_logs() as logs:
        writer.write(head.encode() + b'{"title": ')
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)  # until the server closes
    writer.close()

    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"did not arrive in time" in answer
    assert 0.9 < time.monotonic() - started < 5
    events = [e["event"] for e in logs]
    assert "request_body_timeout" in events
    assert "webhook_failed" not in events


async def test_a_client_that_leaves_mid_body_is_one_log_line(tocsin: Harness) -> None:
    host, port = hostport(tocsin)
    with capture_logs() as logs:
        for path in ("/webhooks/generic", "/slack/events"):
            _reader, writer = await asyncio.open_connection(host, port)
            head = (
                f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Authorization: Bearer {WEBHOOK_TOKEN}\r\nContent-Length: 100\r\n\r\n"
            )
            writer.write(head.encode() + b'{"title": ')
            await writer.drain()
            writer.close()
            await writer.wait_closed()

        async def both_seen() -> bool:
            return [e["event"] for e in logs].count("client_disconnected") == 2

        await tocsin.until(both_seen, what="both disconnects logged", seconds=5)

    assert not [e for e in logs if e.get("log_level") in ("error", "critical")]
    assert not [e for e in logs if "exc_info" in e]


# --- review sign-in ------------------------------------------------------------------------


async def test_sign_in_and_out_from_another_site_are_refused(tocsin: Harness) -> None:
    login = f"{tocsin.base_url}/review/login"
    form = {"token": REVIEW_TOKEN}
    evil = {"Origin": "https://evil.example"}

    cross = await tocsin.http.post(login, data=form, headers=evil)
    fetch_meta = await tocsin.http.post(login, data=form, headers={"Sec-Fetch-Site": "cross-site"})
    ours = await tocsin.http.post(login, data=form, headers={"Origin": tocsin.base_url})
    out_cross = await tocsin.http.post(f"{tocsin.base_url}/review/logout", headers=evil)

    assert (cross.status_code, fetch_meta.status_code) == (403, 403)
    assert "set-cookie" not in cross.headers
    assert "evil.example" in cross.text
    assert ours.status_code == 303
    assert "tocsin_review=" in ours.headers["set-cookie"]
    assert "samesite=strict" in ours.headers["set-cookie"].lower()
    assert out_cross.status_code == 403
    assert "set-cookie" not in out_cross.headers


async def test_failed_sign_ins_are_limited(tocsin: Harness) -> None:
    login = f"{tocsin.base_url}/review/login"
    wrong = [
        (await tocsin.http.post(login, data={"token": f"guess-{i}"})).status_code for i in range(5)
    ]
    limited = await tocsin.http.post(login, data={"token": REVIEW_TOKEN})

    assert wrong == [401] * 5
    assert limited.status_code == 429
    assert 0 < int(limited.headers["retry-after"]) <= 60
    assert "set-cookie" not in limited.headers


# --- Slack's team_id ------------------------------------------------------------------------


def acknowledge(channel: str, ts: str, *, team: str, trigger: str) -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": "U0ALICE", "username": "alice", "name": "alice", "team_id": team},
        "api_app_id": "A0TOCSIN",
        "token": "x",
        "team": {"id": team, "domain": "somewhere"},
        "trigger_id": trigger,
        "container": {"type": "message", "message_ts": ts, "channel_id": channel},
        "channel": {"id": channel, "name": "alerts"},
        "actions": [
            {
                "type": "button",
                "action_id": ids.ACKNOWLEDGE,
                "block_id": f"{ids.ACTIONS_BLOCK_PREFIX}1",
                "value": "1",
                "action_ts": "1700000000.000001",
            }
        ],
    }
    return "payload=" + urllib.parse.quote(json.dumps(payload))


async def press(tocsin: Harness, body: str) -> int:
    signed = sign_request(signing_secret=SIGNING_SECRET, body=body, timestamp=int(time.time()))
    signed["Content-Type"] = "application/x-www-form-urlencoded"
    response = await tocsin.http.post(
        f"{tocsin.base_url}/slack/events", content=body, headers=signed
    )
    return response.status_code


async def acks(tocsin: Harness) -> int:
    async with tocsin.service.db.read() as session:
        rows = (
            await session.exec(select(AlertEventRow).where(AlertEventRow.rule == "ACK-1"))
        ).all()
    return len(rows)


async def test_a_signed_request_from_another_workspace_is_refused(tocsin: Harness) -> None:
    await tocsin.webhook("generic", {"title": "Whose button?", "level": 2})
    [message] = await tocsin.wait_for_messages(1)
    home = tocsin.world.team_id

    foreign = await press(
        tocsin, acknowledge(message.channel, message.ts, team="T0EVIL", trigger="1.1")
    )
    assert foreign == 403
    assert await acks(tocsin) == 0
    metrics = await tocsin.http.get(
        f"{tocsin.base_url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    assert 'tocsin_requests_refused_total{reason="wrong_team"} 1.0' in metrics.text

    ours = await press(tocsin, acknowledge(message.channel, message.ts, team=home, trigger="1.2"))
    assert ours == 200

    async def acknowledged() -> bool:
        return await acks(tocsin) == 1

    await tocsin.until(acknowledged, what="the acknowledgement from our workspace")


async def test_slack_team_id_setting_names_the_workspace(tmp_path: Path) -> None:
    async with running_tocsin(
        database_url=f"sqlite:///{tmp_path}/t.db", settings={"SLACK_TEAM_ID": "T0ELSE, T0OTHER"}
    ) as tocsin:
        await tocsin.webhook("generic", {"title": "Whose button?", "level": 2})
        [message] = await tocsin.wait_for_messages(1)
        home = tocsin.world.team_id  # what auth.test says: not what the setting names

        refused = await press(
            tocsin, acknowledge(message.channel, message.ts, team=home, trigger="2.1")
        )
        other = await press(
            tocsin, acknowledge(message.channel, message.ts, team="T0OTHER", trigger="2.2")
        )

    assert refused == 403
    assert other == 200
