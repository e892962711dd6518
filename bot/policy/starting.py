"""The policy file at start-up, beyond validation: people named by email looked up, and the
shipped example's sandbox people pointed out when the Slack is a real one."""

from __future__ import annotations

from collections.abc import Mapping

import structlog

from bot.policy.live import LivePolicy
from bot.policy.people_lookup import PeopleLookup
from bot.policy.policy_file import people_among, read_snapshot
from bot.sandbox import DEFAULT_USERS, SlackWorld
from config.people import emails_named
from config.policy import PolicyError

log = structlog.get_logger("tocsin.policy")


class SandboxPeople(PeopleLookup):
    """The sandbox's people, asked directly: its Web API is this very server, which does not
    listen yet while start-up looks the emails up."""

    def __init__(self, world: SlackWorld) -> None:
        self._world = world

    async def slack_id(self, email: str) -> str | None:
        found = self._world.user_by_email(email)
        return None if found is None else found.id


def sandbox_people_named(live: LivePolicy, *, sandbox: bool) -> None:
    """With a real Slack, the shipped example's fake people (U0ALICE…) page nobody and may
    press no button: say so loudly, in the log and in ``/readyz``."""
    if sandbox:
        live.sandbox_people = ()
        return
    named = people_among(live.current.policy, (user_id for user_id, _, _ in DEFAULT_USERS))
    live.sandbox_people = tuple(named)
    if named:
        log.warning(
            "policy_names_sandbox_people",
            people=named,
            path=str(live.current.path),
            hint="these are the sandbox's example people, not users of your Slack workspace: "
            "name your own people (Slack ids or emails) in the policy file",
        )


async def start_policy(
    live: LivePolicy, *, env: Mapping[str, str], people: PeopleLookup | None, sandbox: bool
) -> None:
    """Look up the people the file names by email (a failure stops start-up, like any other
    problem of the file) and warn about the sandbox's people in a real workspace."""
    if not emails_named(live.current.policy):
        sandbox_people_named(live, sandbox=sandbox)
        return
    try:
        snapshot = await read_snapshot(live.current.path, env=env, people=people)
    except PolicyError as exc:
        log.error("policy_invalid", path=str(exc.path), problems=exc.problems)
        raise
    live.switch(snapshot)  # its subscribers warn about the sandbox's people
