"""Every policy problem names the line to look at, unknown keys get the closest known one, and
a shift lists the forms it accepts (issue 15 item 19)."""

from __future__ import annotations

import pytest

from config.policy import PolicyError, parse_policy

BASE = """\
levels:
  1: {name: critical}
  2: {name: major}
  3: {name: minor}
integrations:
  - {name: am, format: alertmanager, token: long-enough-token}
default_route: {team: ops, channel: "#alerts"}
"""  # 7 lines: what is appended starts on line 8


def problems(tail: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(BASE + tail, env=env or {})
    return caught.value.problems


def test_an_indentation_slip_names_its_line_and_says_what_slipped() -> None:
    tail = """\
teams:
  ops:
    name: Operations
  members: [U0ALICE]
"""

    assert problems(tail) == [
        "line 11: teams.members: should be a mapping (key: value), not a list; "
        "members is a setting of each entry of teams: check its indentation"
    ]


def test_an_unknown_key_names_its_line_and_the_closest_known_one() -> None:
    tail = """\
policies:
  default:
    tiers:
      - notify: [{user: U0ALICE}]
    repeat: 1
    repeat_afer: 5m
"""

    assert problems(tail) == [
        "line 13: policies.default.repeat_afer: is not a known setting; did you mean repeat_after?"
    ]


def test_a_key_indented_into_a_tier_says_where_it_belongs() -> None:
    tail = """\
policies:
  default:
    tiers:
      - notify: [{user: U0ALICE}]
        repeat_after: 5m
"""

    assert problems(tail) == [
        "line 12: policies.default.tiers[0].repeat_after: is not a known setting; "
        "repeat_after is a setting of policies.default: check its indentation"
    ]


def test_an_unknown_key_like_no_known_one_gets_no_guess() -> None:
    assert problems("colour: red\n") == ["line 8: colour: is not a known setting"]


def test_an_unknown_shift_lists_the_accepted_forms() -> None:
    tail = """\
rotations:
  primary:
    members: [U0ALICE, U0BOB]
    start: 2026-11-02
    shift: fortnightly
"""

    assert problems(tail) == [
        'line 12: rotations.primary.shift: "fortnightly" is not a shift: write daily, weekly, '
        "or a duration of at least 1h (like 12h, or 2w for every other week)"
    ]


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        pytest.param(
            "routes:\n  - {team: ops, channel: '#db'}\n  - team: ops\n    policy: default\n",
            "line 10: routes[1].channel: is required",
            id="missing-key-in-a-list-item",
        ),
        pytest.param(
            "grouping:\n  window: soon\n",
            'line 9: grouping.window: "soon" is not a duration',
            id="bad-value",
        ),
        pytest.param(
            "routes:\n  - {team: ops, channel: '#db', policy: nightly}\n",
            'line 9: routes[0].policy: "nightly" is not in policies',
            id="reference-to-nothing",
        ),
        pytest.param(
            "webhooks:\n  hook:\n    url: https://example.com/\n    token: ${HOOK_TOKEN}\n",
            "line 11: webhooks.hook.token: environment variable HOOK_TOKEN is not set",
            id="unset-environment-variable",
        ),
        pytest.param(
            "grading:\n  - metric: orders\n    bands:\n      - {from: 5%, to: 10%, level: 3}\n"
            "      - {from: 8%, level: 2}\n",
            "line 12: grading[0].bands[1].from: 8% overlaps grading[0].bands[0]",
            id="overlapping-bands",
        ),
        pytest.param(
            "teams:\n  ops:\n    digest: {day: monday, time: '09:00'}\n",
            "line 10: teams.ops.digest.channel: is required (the team has none)",
            id="missing-key-of-a-checked-section",
        ),
    ],
)
def test_every_kind_of_problem_names_its_line(tail: str, expected: str) -> None:
    (problem,) = problems(tail)

    assert problem.startswith(expected), problem


def test_two_references_to_nothing_are_two_problems_each_with_its_line() -> None:
    text = BASE.replace(
        'default_route: {team: ops, channel: "#alerts"}',
        'default_route:\n  team: nobody\n  channel: "#alerts"\n  policy: nope',
    )
    with pytest.raises(PolicyError) as caught:
        parse_policy(text + "teams:\n  ops: {}\n", env={})

    assert caught.value.problems == [
        'line 10: default_route.policy: "nope" is not in policies',
        'line 8: default_route.team: "nobody" is not in teams',
    ]


def test_a_missing_section_has_no_line_to_name() -> None:
    text = BASE.replace('default_route: {team: ops, channel: "#alerts"}\n', "")
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, env={})

    assert caught.value.problems == ["default_route: is required"]


def test_lines_follow_anchors_and_merge_keys_to_where_the_value_is_written() -> None:
    tail = """\
policies:
  base: &base
    tiers:
      - notify: [{user: U0ALICE}]
    repeat_after: 5m
  night:
    <<: *base
    approval_timeout: never
"""

    assert problems(tail) == [
        'line 15: policies.night.approval_timeout: "never" is not a duration '
        "(write it like 30s, 5m, 4h or 1d)"
    ]
