"""Who may act: ``access.responders`` over the people the policy file names."""

from __future__ import annotations

import yaml

from bot.policy.access import AccessPolicy
from config.policy import parse_policy

POLICY = """
levels: {1: {name: a}, 2: {name: b}, 3: {name: c}}
integrations: [{name: generic, format: generic, token: "0123456789"}]
default_route: {team: ops, channel: "#alerts"}
teams: {ops: {members: [U0TEAM]}}
people:
  U0PERSON: {name: Person}
  U0NAMED: {name: Only named, roles: []}
  U0ADMIN: {name: Admin, roles: [admin]}
rotations:
  primary:
    members: [U0ROTA]
    start: 2026-01-05
    overrides: [{user: U0COVER, start: "2026-01-06T09:00Z", end: "2026-01-07T09:00Z"}]
policies:
  default:
    tiers: [{notify: [{user: U0TARGET}]}]
    approvers: [U0APPROVER]
"""


def access(extra: str = "") -> AccessPolicy:
    return AccessPolicy(parse_policy(POLICY + extra, env={}))


def test_listed_admits_everyone_the_policy_file_names_as_able_to_act() -> None:
    listed = access()
    for user in ("U0TEAM", "U0PERSON", "U0ADMIN", "U0ROTA", "U0COVER", "U0TARGET", "U0APPROVER"):
        assert listed.may_act(user), user


def test_listed_refuses_strangers_and_people_named_without_a_role() -> None:
    listed = access()
    assert not listed.may_act("U0STRANGER")
    assert not listed.may_act("U0NAMED")


def test_anyone_admits_every_workspace_member() -> None:
    assert access("access: {responders: anyone}\n").may_act("U0STRANGER")


def test_the_default_is_listed() -> None:
    doc = yaml.safe_load(POLICY)
    assert "access" not in doc
    assert access().anyone is False
