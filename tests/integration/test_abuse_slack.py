"""Hostile and stale Slack requests through the real signed endpoint: forged, stale, replayed,
oversized; buttons for alerts that do not exist or from a message older than the alert's
state; people the policy file does not let act. Each is refused (or a no-op) with a clear
private answer, counted by reason, and kept in the timeline where it concerns an alert.
Then fuzzed interactivity payloads, slash commands and events: never a 5xx, never a listener
crash."""

from __future__ import annotations

import hmac
import json
import time
import traceback
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import col, select

from bot.policy.access import NOT_LISTED
from bot.sandbox.signing import sign_request
from bot.slack import ids
from config.settings import EXAMPLE_POLICY
from escalation.model import Status
from storage.tables import AlertEventRow, AlertRow
from tests.support.databases import database
from tests.support.fuzz import fuzz, json_values, ran
from tests.support.harness import SIGNING_SECRET, Harness, running_tocsin
from tests.support.threads import OnLoop, in_thread

RESPONSE_URL = "http://127.0.0.1:9/unused"  # set to the fake Slack's by the fixture
OUTSIDER = "U0EVE"  # a workspace member the shipped policy file does not name


@pytest.fixture
async def tocsin(tmp_path: Path) -> AsyncIterator[Harness]:
    async with database("sqlite", tmp_path) as url, running_tocsin(database_url=url) as harness:
        harness.world.add_user(OUTSIDER, "eve", "Eve Outsider")
        global RESPONSE_URL
        RESPONSE_URL = f"{harness.slack_url}/response/none"
        yield harness


async def post_signed(
    tocsin: Harness, body: str, *, secret: str = SIGNING_SECRET, age: int = 0, **headers: str
) -> httpx.Response:
    signed = sign_request(signing_secret=secret, body=body, timestamp=int(time.time()) - age)
    signed["Content-Type"] = (
        "application/json" if body.startswith("{") else "application/x-www-form-urlencoded"
    )
    return await tocsin.http.post(
        f"{tocsin.base_url}/slack/events", content=body.encode(), headers={**signed, **headers}
    )


async def refused_count(tocsin: Harness, reason: str) -> float:
    text = (await tocsin.http.get(f"{tocsin.base_url}/metrics")).text
    line = f'tocsin_requests_refused_total{{reason="{reason}"}} '
    found = [row for row in text.splitlines() if row.startswith(line)]
    return float(found[0].rsplit(" ", 1)[1]) if found else 0.0


async def timeline(tocsin: Harness, alert_id: int) -> list[AlertEventRow]:
    async with tocsin.service.db.read() as session:
        query = select(AlertEventRow).where(AlertEventRow.alert_id == alert_id)
        return list((await session.exec(query.order_by(col(AlertEventRow.id)))).all())


async def status_of(tocsin: Harness, alert_id: int) -> str:
    async with tocsin.service.db.read() as session:
        row = await session.get(AlertRow, alert_id)
        assert row is not None
        return row.status


async def one_alert(tocsin: Harness) -> Any:
    assert (await tocsin.webhook("generic", {"title": "Disk full", "level": 2})).status_code == 202
    [message] = await tocsin.wait_for_messages(1)
    return message


def press(message: Any, *, user: str, action_id: str, value: str, trigger: str) -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "x", "name": "x", "team_id": "T0TOCSIN"},
        "api_app_id": "A0TOCSIN",
        "token": "x",
        "team": {"id": "T0TOCSIN", "domain": "tocsin-sandbox"},
        "trigger_id": trigger,
        "container": {"type": "message", "message_ts": message.ts, "channel_id": message.channel},
        "channel": {"id": message.channel, "name": "alerts"},
        "response_url": RESPONSE_URL,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": f"{ids.ACTIONS_BLOCK_PREFIX}{value}",
                "value": value,
                "action_ts": "1700000000.000001",
            }
        ],
    }
    return "payload=" + urllib.parse.quote(json.dumps(payload))


async def answers(tocsin: Harness, user: str, count: int = 1) -> list[str]:
    await tocsin.world.wait_for(lambda: len(tocsin.world.ephemerals_for(user)) >= count)
    return [e.text for e in tocsin.world.ephemerals_for(user)]


@pytest.mark.parametrize(
    ("secret", "age", "reason", "words"),
    [
        ("forged-secret", 0, "bad_signature", "signature does not match"),
        (SIGNING_SECRET, 6 * 60, "stale_timestamp", "more than 5 minutes old"),
        (SIGNING_SECRET, -6 * 60, "stale_timestamp", "more than 5 minutes old"),
    ],
)
async def test_forged_and_stale_requests_are_401_counted_by_reason(
    tocsin: Harness, secret: str, age: int, reason: str, words: str
) -> None:
    message = await one_alert(tocsin)
    body = press(message, user="U0ALICE", action_id=ids.ACKNOWLEDGE, value="1", trigger="t1")
    response = await post_signed(tocsin, body, secret=secret, age=age)
    assert response.status_code == 401
    assert words in response.json()["error"]
    assert await refused_count(tocsin, reason) == 1
    assert await status_of(tocsin, 1) == Status.FIRING


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Slack-Request-Timestamp": "now", "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": "\u00b2".encode("latin-1"), "X-Slack-Signature": "v0=00"},
    ],
)
async def test_unsigned_or_garbled_headers_are_401(
    tocsin: Harness, headers: dict[str, str | bytes]
) -> None:
    response = await tocsin.http.post(
        f"{tocsin.base_url}/slack/events",
        content=b"payload=%7B%7D",
        # httpx sends a bytes value beside str ones; its types allow one kind per mapping
        headers={"Content-Type": "application/x-www-form-urlencoded", **headers},  # type: ignore[arg-type]
    )
    assert response.status_code == 401
    assert await refused_count(tocsin, "bad_signature") == 1


async def test_an_oversized_slack_request_is_413(tocsin: Harness) -> None:
    body = "payload=" + "a" * (1 << 20)
    response = await post_signed(tocsin, body)
    assert response.status_code == 413
    assert await refused_count(tocsin, "too_large") == 1


async def test_a_signed_body_that_is_not_utf8_is_400(tocsin: Harness) -> None:
    raw = b"payload=\xff\xfe"
    timestamp = str(int(time.time()))
    # the signature covers the raw bytes, as Slack computes it
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + timestamp.encode() + b":" + raw, "sha256")
    response = await tocsin.http.post(
        f"{tocsin.base_url}/slack/events",
        content=raw,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": f"v0={digest.hexdigest()}",
        },
    )
    assert response.status_code == 400
    assert await refused_count(tocsin, "not_utf8") == 1


async def test_a_replayed_press_acts_once_and_the_replay_is_counted(tocsin: Harness) -> None:
    message = await one_alert(tocsin)
    body = press(message, user="U0ALICE", action_id=ids.ACKNOWLEDGE, value="1", trigger="t-replay")
    assert (await post_signed(tocsin, body)).status_code == 200
    assert (await post_signed(tocsin, body)).status_code == 200

    async def counted() -> bool:
        return await refused_count(tocsin, "replayed") == 1

    await tocsin.until(counted, what="the replay to be counted")
    rules = [row.rule for row in await timeline(tocsin, 1)]
    assert rules.count("ACK-1") == 1


async def test_a_button_for_an_alert_that_does_not_exist_is_answered_privately(
    tocsin: Harness,
) -> None:
    message = await one_alert(tocsin)
    await tocsin.driver.press_button(
        channel="#alerts", ts=message.ts, action_id=ids.ACKNOWLEDGE, user="U0ALICE"
    )
    body = press(message, user="U0BOB", action_id=ids.CLAIM, value="999", trigger="t-missing")
    answer = await post_signed(tocsin, body)
    assert answer.status_code == 200

    # the response_url in a hand-made payload goes nowhere; the refusal is counted instead
    async def counted() -> bool:
        return await refused_count(tocsin, "unknown_alert") == 1

    await tocsin.until(counted, what="the unknown alert to be counted")


async def test_a_button_from_an_old_message_after_the_alert_changed_is_refused_politely(
    tocsin: Harness,
) -> None:
    message = await one_alert(tocsin)
    stale_blocks = message.blocks  # what Bob still sees: the message before Alice acted
    await tocsin.driver.press_button(
        channel="#alerts", ts=message.ts, action_id=ids.ACKNOWLEDGE, user="U0ALICE"
    )
    await tocsin.world.wait_for(
        lambda: "Acknowledged" in json.dumps(tocsin.channel_messages()[0].blocks)
    )
    before = len(await timeline(tocsin, 1))
    tocsin.world.messages[(message.channel, message.ts)].blocks = stale_blocks
    await tocsin.driver.press_button(
        channel="#alerts", ts=message.ts, action_id=ids.ACKNOWLEDGE, user="U0BOB"
    )
    [text] = await answers(tocsin, "U0BOB")
    assert "acknowledged" in text.lower()
    assert await status_of(tocsin, 1) == Status.ACKNOWLEDGED
    assert len(await timeline(tocsin, 1)) == before
    assert await refused_count(tocsin, "not_now") == 1


async def test_someone_the_policy_does_not_name_may_not_act_and_it_is_in_the_timeline(
    tocsin: Harness,
) -> None:
    message = await one_alert(tocsin)
    await tocsin.driver.press_button(
        channel="#alerts", ts=message.ts, action_id=ids.ACKNOWLEDGE, user=OUTSIDER
    )
    [text] = await answers(tocsin, OUTSIDER)
    assert text == NOT_LISTED
    assert await status_of(tocsin, 1) == Status.FIRING
    refusals = [row for row in await timeline(tocsin, 1) if row.rule == "AUTH-2"]
    assert [(r.actor, r.kind) for r in refusals] == [(OUTSIDER, "refused")]
    assert "acknowledge" in refusals[0].summary
    assert await refused_count(tocsin, "not_allowed") == 1


async def test_an_outsider_gets_no_resolve_modal(tocsin: Harness) -> None:
    message = await one_alert(tocsin)
    await tocsin.driver.press_button(
        channel="#alerts", ts=message.ts, action_id=ids.RESOLVE, user=OUTSIDER
    )
    [text] = await answers(tocsin, OUTSIDER)
    assert text == NOT_LISTED
    assert tocsin.world.open_views(OUTSIDER) == []


async def test_an_alert_cannot_be_assigned_to_an_outsider(tocsin: Harness) -> None:
    message = await one_alert(tocsin)
    await tocsin.driver.select_user(
        channel="#alerts",
        ts=message.ts,
        action_id=ids.ASSIGN,
        user="U0ALICE",
        selected_user=OUTSIDER,
    )
    [text] = await answers(tocsin, "U0ALICE")
    assert "may own alerts" in text
    assert await status_of(tocsin, 1) == Status.FIRING


async def test_with_access_anyone_every_workspace_member_may_act(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(EXAMPLE_POLICY.read_text() + "\naccess: {responders: anyone}\n")
    async with (
        database("sqlite", tmp_path) as url,
        running_tocsin(database_url=url, config_path=policy) as tocsin,
    ):
        tocsin.world.add_user(OUTSIDER, "eve", "Eve Outsider")
        message = await one_alert(tocsin)
        await tocsin.driver.press_button(
            channel="#alerts", ts=message.ts, action_id=ids.ACKNOWLEDGE, user=OUTSIDER
        )

        async def acknowledged() -> bool:
            return await status_of(tocsin, 1) == Status.ACKNOWLEDGED

        await tocsin.until(acknowledged, what="the outsider's acknowledgement")


# --- fuzzing -------------------------------------------------------------------------------

USERS = st.sampled_from(["U0ALICE", "U0DAVE", OUTSIDER, "", "<!channel>", "u0lower", "W" * 40])
NUMBERS = st.sampled_from(["1", "2", "999", "0", "", "x", "1:1", "1:", ":1", "\u00b2", "9" * 30])
TEXT = st.text(max_size=30)
ACTION_IDS = st.sampled_from([*ids.ALERT_ACTIONS, ids.APPROVE, ids.DENY, "other.action"])
VIEWS = st.sampled_from([ids.RESOLVE_MODAL, ids.ESCALATE_MODAL, ids.DENY_MODAL, "other.view"])


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(strategy, json_values)


@st.composite
def block_actions(draw: st.DrawFn) -> dict[str, Any]:
    value = draw(NUMBERS)
    action: dict[str, Any] = {
        "type": draw(st.sampled_from(["button", "static_select", "users_select"])),
        "action_id": draw(ACTION_IDS),
        "block_id": draw(st.one_of(st.just(f"{ids.ACTIONS_BLOCK_PREFIX}{value}"), TEXT)),
        "value": draw(maybe(st.just(value))),
        "action_ts": draw(TEXT),
    }
    if draw(st.booleans()):
        action["selected_option"] = draw(maybe(st.fixed_dictionaries({"value": maybe(TEXT)})))
    if draw(st.booleans()):
        action["selected_user"] = draw(maybe(USERS))
    return {
        "type": "block_actions",
        "user": {"id": draw(USERS)},
        "team": {"id": "T0TOCSIN"},
        "api_app_id": "A0TOCSIN",
        "trigger_id": draw(st.text(max_size=300)),
        "response_url": RESPONSE_URL,
        "container": draw(maybe(st.just({"type": "message"}))),
        "actions": [action],
    }


@st.composite
def view_submissions(draw: st.DrawFn) -> dict[str, Any]:
    values = draw(
        maybe(
            st.fixed_dictionaries(
                {
                    ids.RESOLVE_NOTE_BLOCK: maybe(
                        st.fixed_dictionaries(
                            {
                                ids.RESOLVE_NOTE_ACTION: maybe(
                                    st.fixed_dictionaries({"value": maybe(TEXT)})
                                )
                            }
                        )
                    ),
                    ids.RESOLVE_CAUSE_BLOCK: maybe(
                        st.fixed_dictionaries(
                            {
                                ids.RESOLVE_CAUSE_ACTION: maybe(
                                    st.fixed_dictionaries(
                                        {
                                            "selected_option": maybe(
                                                st.fixed_dictionaries(
                                                    {
                                                        "value": st.sampled_from(
                                                            ["unknown", "hardware", "nope"]
                                                        )
                                                    }
                                                )
                                            )
                                        }
                                    )
                                )
                            }
                        )
                    ),
                    ids.REASON_BLOCK: maybe(
                        st.fixed_dictionaries(
                            {
                                ids.REASON_ACTION: maybe(
                                    st.fixed_dictionaries({"value": maybe(TEXT)})
                                )
                            }
                        )
                    ),
                }
            )
        )
    )
    return {
        "type": "view_submission",
        "user": {"id": draw(USERS)},
        "team": {"id": "T0TOCSIN"},
        "api_app_id": "A0TOCSIN",
        "trigger_id": draw(TEXT),
        "view": {
            "id": draw(st.text(min_size=1, max_size=300)),
            "type": "modal",
            "callback_id": draw(VIEWS),
            "private_metadata": draw(maybe(st.one_of(NUMBERS, NUMBERS.map(lambda n: f"1:{n}")))),
            "state": {"values": values},
        },
    }


def interactive(payload: dict[str, Any]) -> str:
    return "payload=" + urllib.parse.quote(json.dumps(payload))


@st.composite
def slash_commands(draw: st.DrawFn) -> str:
    verb = draw(st.sampled_from(["", "list", "oncall", "escalate", "policy simulate", "help"]))
    fields = {
        "command": "/tocsin",
        "text": f"{verb} {draw(NUMBERS)} {draw(TEXT)}",
        "user_id": draw(USERS),
        "team_id": "T0TOCSIN",
        "channel_id": "C0ALERTS",
        "response_url": RESPONSE_URL,
        "trigger_id": draw(st.text(max_size=300)),
    }
    return urllib.parse.urlencode(fields)


@st.composite
def events(draw: st.DrawFn) -> str:
    event = draw(
        maybe(
            st.fixed_dictionaries(
                {
                    "type": st.sampled_from(["app_mention", "message"]),
                    "text": TEXT,
                    "user": USERS,
                    "ts": maybe(TEXT),
                    "channel": st.just("C0ALERTS"),
                }
            )
        )
    )
    envelope = {
        "type": "event_callback",
        "team_id": "T0TOCSIN",
        "api_app_id": "A0TOCSIN",
        "event_id": draw(maybe(TEXT)),
        "event_time": 1,
        "event": event,
    }
    return json.dumps(envelope)


BODIES = st.one_of(
    block_actions().map(interactive),
    view_submissions().map(interactive),
    slash_commands(),
    events(),
    json_values.map(lambda v: interactive(v) if isinstance(v, dict) else json.dumps(v)),
)


async def test_fuzzed_signed_slack_requests_never_crash_or_answer_5xx(tocsin: Harness) -> None:
    await one_alert(tocsin)
    assert (await tocsin.webhook("generic", {"title": "second", "level": 1})).status_code == 202
    await tocsin.wait_for_messages(2)
    crashes: list[str] = []

    async def record(error: BaseException, body: dict[str, Any]) -> None:
        crashes.append(json.dumps(body)[:500] + "\n" + "".join(traceback.format_exception(error)))

    tocsin.service.bolt.error(record)

    @fuzz(150)
    @given(body=BODIES)
    def case(on_loop: OnLoop, body: str) -> None:
        ran("slack endpoint: fuzzed signed requests")
        response = on_loop(post_signed(tocsin, body))
        assert response.status_code < 500, (response.status_code, body)
        if response.status_code >= 400:
            assert response.json()["error"]

    await in_thread(case)
    assert crashes == [], "\n".join(crashes)  # a listener may still run after its ack()
    for alert_id in (1, 2):
        assert await status_of(tocsin, alert_id) in {s.value for s in Status}
        assert (await timeline(tocsin, alert_id))[0].kind == "fired"
