"""The ``heartbeats`` section: defaults, durations, and mistakes named by place."""

from __future__ import annotations

import pytest

from bot.policy.rules import build_rules
from config.policy import PolicyError, parse_policy
from tests.support.policies import without_lines

BASE = """\
levels:
  1: {name: critical}
  2: {name: major}
  3: {name: minor}
integrations:
  - {name: am, format: alertmanager, token: long-enough-token}
default_route: {team: ops, channel: "#alerts"}
teams:
  ops: {timezone: Europe/Berlin}
"""


def problems(tail: str) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(BASE + tail, env={})
    return without_lines(caught.value.problems)


def test_a_heartbeat_takes_durations_and_defaults_to_level_1_and_a_minute_of_grace() -> None:
    policy = parse_policy(
        BASE + "heartbeats:\n  - {name: wd, interval: 2m, integrations: [am]}\n", env={}
    )
    [beat] = policy.heartbeats
    assert (beat.interval, beat.grace, beat.level, beat.route) == (120, 60, 1, None)


def test_a_routed_heartbeat_tells_time_in_its_teams_zone() -> None:
    tail = (
        "heartbeats:\n  - {name: wd, interval: 1h, grace: 5m, integrations: [am],"
        ' alertname: Watchdog, route: {team: ops, channel: "#infra"}}\n'
    )
    spec = build_rules(parse_policy(BASE + tail, env={})).ingest.heartbeats["wd"]
    assert spec.timezone == "Europe/Berlin"
    assert spec.route is not None
    assert (spec.route.channel, spec.route.policy) == ("#infra", "default")
    assert (spec.interval_seconds, spec.grace_seconds, spec.alertname) == (3600, 300, "Watchdog")


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            "{name: wd, interval: 1m, integrations: [nope]}",
            'heartbeats[0].integrations[0]: "nope" is not in integrations',
        ),
        (
            "{name: wd, interval: 1m, integrations: [am], route: {team: ops, channel: '#a',"
            " policy: nope}}",
            'heartbeats[0].route.policy: "nope" is not in policies',
        ),
        (
            "{name: wd, interval: 1m, integrations: [am], route: {team: dev, channel: '#a'}}",
            'heartbeats[0].route.team: "dev" is not in teams',
        ),
        ("{name: wd, interval: soon, integrations: [am]}", "heartbeats[0].interval"),
        ("{name: wd, interval: 0, integrations: [am]}", "heartbeats[0].interval"),
        ("{name: wd, interval: 1m, integrations: []}", "heartbeats[0].integrations"),
        ("{name: wd, interval: 1m}", "heartbeats[0].integrations"),
        ("{name: Bad Name, interval: 1m, integrations: [am]}", "heartbeats[0].name"),
        ("{name: wd, interval: 1m, integrations: [am], level: 4}", "heartbeats[0].level"),
    ],
)
def test_a_mistake_names_the_heartbeat_and_the_field(item: str, expected: str) -> None:
    found = problems(f"heartbeats:\n  - {item}\n")
    assert any(p.startswith(expected) for p in found), found


def test_a_heartbeat_named_twice_is_refused() -> None:
    beat = "  - {name: wd, interval: 1m, integrations: [am]}\n"
    assert problems("heartbeats:\n" + beat + beat) == ['heartbeats[1].name: "wd" is defined twice']
