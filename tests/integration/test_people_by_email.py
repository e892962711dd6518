"""People named by email in the policy file, looked up in the fake Slack with
``users.lookupByEmail`` (real slack_sdk client over HTTP): found at start, an unknown one
refused at its place on reload, a transient failure retried; and the shipped example's
sandbox people named loudly when the Slack is a real one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.policy.people_lookup import SlackPeople
from bot.policy.policy_file import read_snapshot
from bot.sandbox.workspace.models import Fault
from config.policy import PolicyError
from tests.support.databases import database
from tests.support.harness import Harness, running_tocsin

POLICY = """\
levels:
  1: {name: critical}
  2: {name: major}
  3: {name: minor}
integrations:
  - {name: generic, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}"}
default_route: {team: ops, channel: "#alerts", policy: default}
people:
  alice@example.com: {name: Alice, roles: [admin]}
rotations:
  primary:
    members: [bob@example.com, U0CAROL]
    start: 2026-11-02
policies:
  default:
    tiers:
      - {notify: [{oncall: primary}], after: 0m}
    approvers: [carol@example.com]
"""


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    return path


@pytest.fixture
async def tocsin(policy: Path, tmp_path: Path) -> AsyncIterator[Harness]:
    async with (
        database("sqlite", tmp_path) as url,
        running_tocsin(
            database_url=url, config_path=policy, settings={"TOCSIN_POLICY_WATCH": False}
        ) as harness,
    ):
        yield harness


async def readyz_config(tocsin: Harness) -> dict[str, Any]:
    config: dict[str, Any] = (await tocsin.http.get(f"{tocsin.base_url}/readyz")).json()["config"]
    return config


async def test_emails_are_slack_ids_once_tocsin_has_started(tocsin: Harness) -> None:
    running = tocsin.service.live.current.policy
    assert list(running.people) == ["U0ALICE"]
    assert running.rotations["primary"].members == ["U0BOB", "U0CAROL"]
    assert running.policies["default"].approvers == ["U0CAROL"]
    assert tocsin.service.directory.has_role("U0ALICE", "admin")
    assert tocsin.service.directory.rotations["primary"].members == ("U0BOB", "U0CAROL")


async def test_an_unknown_email_refuses_the_file_naming_each_place(
    tocsin: Harness, policy: Path
) -> None:
    await asyncio.to_thread(policy.write_text, POLICY.replace("U0CAROL]", "nobody@example.com]"))

    assert await tocsin.service.reloader.reload("test") == "refused"

    config = await readyz_config(tocsin)
    assert config["status"] == "stale"
    assert config["errors"] == [
        'line 12: rotations.primary.members[1]: "nobody@example.com" is not a user of this '
        "Slack workspace"
    ]
    assert tocsin.service.live.current.policy.rotations["primary"].members == ["U0BOB", "U0CAROL"]


async def test_a_transient_lookup_failure_is_retried(tocsin: Harness, policy: Path) -> None:
    tocsin.world.add_user("U0ERIN", "erin", "Erin Ek")
    tocsin.world.faults.add(Fault(method="users.lookupByEmail", status=503, count=2))
    await asyncio.to_thread(policy.write_text, POLICY.replace("U0CAROL]", "erin@example.com]"))

    assert await tocsin.service.reloader.reload("test") == "applied"

    assert tocsin.service.live.current.policy.rotations["primary"].members == ["U0BOB", "U0ERIN"]


async def test_a_lookup_that_keeps_failing_names_the_place_and_the_error(
    tocsin: Harness, policy: Path
) -> None:
    people = SlackPeople(tocsin.service.slack, attempts=2)
    for known in ("alice@example.com", "bob@example.com", "carol@example.com"):
        assert await people.slack_id(known) is not None  # cached: not asked again
    tocsin.world.faults.add(Fault(method="users.lookupByEmail", status=500, count=2))
    await asyncio.to_thread(policy.write_text, POLICY.replace("U0CAROL]", "dave@example.com]"))

    with pytest.raises(PolicyError) as refused:
        await read_snapshot(policy, env={"TOCSIN_WEBHOOK_TOKEN": "x" * 12}, people=people)

    assert refused.value.problems == [
        'line 12: rotations.primary.members[1]: "dave@example.com" could not be looked up in '
        "Slack (internal_error)"
    ]


async def test_with_a_real_slack_the_sandbox_people_are_named_in_readyz(tocsin: Harness) -> None:
    # the harness's Slack has a real-looking token: U0CAROL is one of the sandbox's people
    config = await readyz_config(tocsin)
    assert config["sandbox_people"] == ["U0ALICE", "U0BOB", "U0CAROL"]
