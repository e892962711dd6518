"""Emails looked up in Slack: found ids cached, an unknown email reported at each place, a
transient failure retried, a lasting one reported with Slack's error (no network here)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import Service, build_service
from bot.policy.people_lookup import SlackPeople
from bot.policy.starting import start_policy
from config.policy import PolicyError, parse_policy
from config.settings import Settings

ENV = {"TOCSIN_WEBHOOK_TOKEN": "example-token-0123"}
POLICY = """\
levels: {1: {name: a}, 2: {name: b}, 3: {name: c}}
integrations: [{name: generic, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}"}]
default_route: {team: ops, channel: "#alerts", policy: default}
teams: {ops: {members: [alice@example.com, zed@example.com]}}
policies: {default: {approvers: [zed@example.com]}}
"""


class Answer(dict[str, Any]):
    def __init__(self, status: int, **body: Any) -> None:
        super().__init__(body)
        self.status_code = status


def error(answer: Answer) -> SlackApiError:
    return SlackApiError("failed", answer)  # type: ignore[no-untyped-call]  # unannotated


class FakeSlack:
    def __init__(self, ids: dict[str, str], failures: list[int] | None = None) -> None:
        self.ids = ids
        self.failures = failures or []
        self.calls: list[str] = []

    async def users_lookupByEmail(self, *, email: str) -> Answer:  # noqa: N802 - Slack's name
        self.calls.append(email)
        if self.failures:
            raise error(Answer(self.failures.pop(0), ok=False, error="internal_error"))
        if email not in self.ids:
            raise error(Answer(200, ok=False, error="users_not_found"))
        return Answer(200, ok=True, user={"id": self.ids[email]})


async def no_sleep(_: float) -> None:
    return None


def people(fake: FakeSlack, attempts: int = 4) -> SlackPeople:
    return SlackPeople(cast(AsyncWebClient, fake), attempts=attempts, sleep=no_sleep)


async def test_a_found_id_is_cached_and_an_unknown_email_is_asked_again() -> None:
    fake = FakeSlack({"alice@example.com": "U0ANN"})
    lookup = people(fake)

    assert await lookup.slack_id("alice@example.com") == "U0ANN"
    assert await lookup.slack_id("ALICE@example.com") == "U0ANN"
    assert await lookup.slack_id("zed@example.com") is None
    assert await lookup.slack_id("zed@example.com") is None
    assert fake.calls == ["alice@example.com", "zed@example.com", "zed@example.com"]


async def test_an_unknown_email_is_a_problem_at_every_place_it_is_written() -> None:
    policy = parse_policy(POLICY, env=ENV)

    resolved, problems = await people(FakeSlack({"alice@example.com": "U0ANN"})).resolve(policy)

    assert problems == [
        'teams.ops.members[1]: "zed@example.com" is not a user of this Slack workspace',
        'policies.default.approvers[0]: "zed@example.com" is not a user of this Slack workspace',
    ]
    assert resolved.teams["ops"].members == ["U0ANN", "zed@example.com"]


async def test_transient_failures_are_retried_and_a_lasting_one_is_named() -> None:
    policy = parse_policy(POLICY, env=ENV)
    ids = {"alice@example.com": "U0ANN", "zed@example.com": "U0ZED"}

    retried = FakeSlack(ids, failures=[503, 429])
    resolved, problems = await people(retried).resolve(policy)
    assert problems == []
    assert resolved.teams["ops"].members == ["U0ANN", "U0ZED"]
    assert retried.calls[:3] == ["alice@example.com"] * 3

    lasting = FakeSlack(ids, failures=[500, 500])
    _, problems = await people(lasting, attempts=2).resolve(policy)
    assert problems == [
        'teams.ops.members[0]: "alice@example.com" could not be looked up in Slack (internal_error)'
    ]


async def start(service: Service) -> None:
    await start_policy(
        service.live,
        env=service.settings.policy_environment(),
        people=service.reloader.people,
        sandbox=service.settings.sandbox,
    )


async def test_in_the_sandbox_emails_are_its_people_and_an_unknown_one_stops_start_up(
    tmp_path: Path,
) -> None:
    policy = tmp_path / "policy.yaml"
    await asyncio.to_thread(policy.write_text, POLICY.replace("zed@", "carol@"))
    settings = Settings(
        TOCSIN_CONFIG=policy,
        TOCSIN_DATABASE_URL=f"sqlite:///{tmp_path / 'tocsin.db'}",
        TOCSIN_WEBHOOK_TOKEN=ENV["TOCSIN_WEBHOOK_TOKEN"],
    )
    assert settings.sandbox
    service = build_service(settings)
    try:
        await start(service)
        running = service.live.current.policy
        assert running.teams["ops"].members == ["U0ALICE", "U0CAROL"]  # alice is ann's stand-in
        assert service.live.sandbox_people == ()  # the sandbox's people belong in the sandbox

        await asyncio.to_thread(policy.write_text, POLICY)
        with pytest.raises(PolicyError) as refused:
            await start(build_service(settings))
        assert refused.value.problems == [
            'line 4: teams.ops.members[1]: "zed@example.com" is not a user of this Slack workspace',
            'line 5: policies.default.approvers[0]: "zed@example.com" is not a user of this '
            "Slack workspace",
        ]
    finally:
        await service.db.dispose()
