"""The policy file's noise-control fields: defaults, per-route grouping, flapping, errors."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from bot.policy.rules import build_rules
from config.policy import PolicyError, parse_policy
from config.settings import EXAMPLE_POLICY
from escalation.noise.flapping import FlapRule
from escalation.noise.grouping import GroupRule
from tests.support.policies import without_lines

ENV = {"TOCSIN_WEBHOOK_TOKEN": "example-token-0123"}
EXAMPLE: dict[str, Any] = yaml.safe_load(EXAMPLE_POLICY.read_text(encoding="utf-8"))


def _parse(doc: dict[str, Any]) -> Any:
    return parse_policy(yaml.safe_dump(doc), env=ENV)


def _problems(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        _parse(doc)
    return without_lines(caught.value.problems)


def test_defaults_group_by_the_sources_key_for_5m_and_detect_flapping() -> None:
    doc = copy.deepcopy(EXAMPLE)
    doc.pop("grouping", None)
    doc.pop("flapping", None)
    noise = build_rules(_parse(doc)).ingest.noise
    assert noise.group_rule(None) == GroupRule(group_by=(), window_seconds=300)
    assert noise.flapping == FlapRule(5, 1800)


def test_a_route_groups_by_its_labels_with_its_own_window_and_flapping_can_be_off() -> None:
    doc = copy.deepcopy(EXAMPLE)
    doc["routes"] = [
        {"match": {"team": "db"}, "team": "ops", "channel": "#db", "group_by": ["alertname"]},
        {"match": {"team": "web"}, "team": "ops", "channel": "#web", "group_window": 0},
    ]
    doc["grouping"] = {"window": "10m"}
    doc["flapping"] = None
    noise = build_rules(_parse(doc)).ingest.noise
    assert noise.group_rule(0) == GroupRule(group_by=("alertname",), window_seconds=600)
    assert noise.group_rule(1) == GroupRule(group_by=(), window_seconds=0)
    assert noise.group_rule(None) == GroupRule(group_by=(), window_seconds=600)
    assert noise.flapping is None


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        ({"flapping": {"fires": 1}}, "flapping.fires: "),
        ({"flapping": {"window": "30s"}}, "flapping.window: "),
        ({"flapping": {"window": "soon"}}, 'flapping.window: "soon" is not a duration'),
        ({"grouping": {"window": "5x"}}, 'grouping.window: "5x" is not a duration'),
        ({"grouping": {"size": 3}}, "grouping.size: is not a known setting"),
        (
            {"default_route": {**EXAMPLE["default_route"], "group_by": ["bad label"]}},
            "default_route.group_by[0]: ",
        ),
    ],
)
def test_bad_noise_settings_name_the_place(edit: dict[str, Any], problem: str) -> None:
    doc = {**copy.deepcopy(EXAMPLE), **edit}
    assert any(p.startswith(problem) for p in _problems(doc)), _problems(doc)
