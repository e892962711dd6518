"""People named by Slack id or email: accepted wherever the file names people, every place
found, and replaced by the Slack ids a lookup gave."""

from __future__ import annotations

import pytest

from config.people import emails_named, people_places, with_slack_ids
from config.person_names import person_problem
from config.policy import PolicyError, parse_policy

ENV = {"TOCSIN_WEBHOOK_TOKEN": "example-token-0123"}
POLICY = """\
levels:
  1: {name: critical}
  2: {name: major}
  3: {name: minor}
integrations:
  - {name: generic, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}"}
default_route: {team: ops, channel: "#alerts", policy: default}
teams:
  ops: {members: [ann@example.com, U0BOB]}
people:
  ann@example.com: {name: Ann, roles: [admin]}
rotations:
  primary:
    members: [U0BOB, ann@example.com]
    start: 2026-11-02
    overrides:
      - {user: cy@example.com, start: "2026-11-20T09:00+00:00", end: "2026-11-21T09:00+00:00",
         covers: ann@example.com}
policies:
  default:
    approvers: [cy@example.com]
    tiers:
      - {notify: [{user: ann@example.com}, {oncall: primary}], after: 0m}
"""


@pytest.mark.parametrize("name", ["U012ABCDEF", "W0ALICE", "alice@example.com", "a.b+c@x.co"])
def test_a_slack_id_or_an_email_names_a_person(name: str) -> None:
    assert person_problem(name) is None


@pytest.mark.parametrize("name", ["alice", "@alice", "alice@", "alice@example", "a b@x.co"])
def test_anything_else_is_refused_saying_what_is_expected(name: str) -> None:
    assert person_problem(name) == (
        f'"{name}" is not a Slack user id (like U012ABCDEF) or an email address'
    )


def test_every_place_an_email_is_written_is_found() -> None:
    policy = parse_policy(POLICY, env=ENV)

    assert emails_named(policy) == {
        "ann@example.com": [
            "people.ann@example.com",
            "teams.ops.members[0]",
            "rotations.primary.members[1]",
            "rotations.primary.overrides[0].covers",
            "policies.default.tiers[0].notify[0].user",
        ],
        "cy@example.com": [
            "rotations.primary.overrides[0].user",
            "policies.default.approvers[0]",
        ],
    }
    assert ("rotations.primary.members[0]", "U0BOB") in list(people_places(policy))


def test_the_slack_ids_replace_the_emails_everywhere() -> None:
    policy = parse_policy(POLICY, env=ENV)

    resolved = with_slack_ids(policy, {"ann@example.com": "U0ANN", "cy@example.com": "U0CY"})

    assert emails_named(resolved) == {}
    assert list(resolved.people) == ["U0ANN"]
    assert resolved.teams["ops"].members == ["U0ANN", "U0BOB"]
    assert resolved.rotations["primary"].members == ["U0BOB", "U0ANN"]
    [override] = resolved.rotations["primary"].overrides
    assert (override.user, override.covers) == ("U0CY", "U0ANN")
    assert resolved.policies["default"].approvers == ["U0CY"]
    assert resolved.policies["default"].tiers[0].notify[0].user == "U0ANN"
    assert policy.rotations["primary"].members == ["U0BOB", "ann@example.com"]  # untouched


def test_a_malformed_person_is_refused_at_its_line_and_place() -> None:
    with pytest.raises(PolicyError) as refused:
        parse_policy(POLICY.replace("approvers: [cy@example.com]", "approvers: [cy]"), env=ENV)

    assert refused.value.problems == [
        'line 21: policies.default.approvers: "cy" is not a Slack user id (like '
        "U012ABCDEF) or an email address"
    ]
