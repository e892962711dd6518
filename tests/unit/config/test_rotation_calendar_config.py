"""A rotation fed by a calendar: `ical` with a url or a file, a required fallback, and a
people map; every mistake is a problem naming the rotation's field."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from config.policy import PolicyError, parse_policy
from config.settings import EXAMPLE_POLICY
from tests.support.policies import without_lines

ENV = {"TOCSIN_WEBHOOK_TOKEN": "example-token-0123"}
EXAMPLE: dict[str, Any] = yaml.safe_load(EXAMPLE_POLICY.read_text(encoding="utf-8"))


def with_rotation(rotation: dict[str, Any]) -> str:
    doc = copy.deepcopy(EXAMPLE)
    name = next(iter(doc["rotations"]))
    doc["rotations"][name] = rotation
    return yaml.safe_dump(doc, sort_keys=False)


def problems(rotation: dict[str, Any]) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(with_rotation(rotation), env=ENV)
    return without_lines(caught.value.problems)


def test_a_calendar_rotation_loads_with_url_fallback_and_people() -> None:
    policy = parse_policy(
        with_rotation(
            {
                "ical": {"url": "https://calendar.example.com/oncall.ics", "refresh": "5m"},
                "fallback": "U0ALICE01",
                "people": {"Bob@Example.com": "U0BOB0002"},
                "timezone": "Europe/Berlin",
            }
        ),
        env=ENV,
    )
    [rotation] = [r for r in policy.rotations.values() if r.ical is not None]
    assert rotation.ical is not None
    assert rotation.ical.refresh == 300
    assert rotation.people == {"bob@example.com": "U0BOB0002"}  # emails match in any case
    assert rotation.paged_people == ["U0ALICE01", "U0BOB0002"]


@pytest.mark.parametrize(
    ("rotation", "says"),
    [
        ({"ical": {"file": "x.ics"}}, "needs fallback"),
        ({"ical": {}, "fallback": "U0ALICE01"}, "exactly one of url and file"),
        ({"ical": {"url": "https://a/x", "file": "x.ics"}, "fallback": "U0ALICE01"}, "exactly one"),
        ({"ical": {"url": "ftp://a/x"}, "fallback": "U0ALICE01"}, "url"),
        ({"ical": {"file": "x.ics", "refresh": "10s"}, "fallback": "U0ALICE01"}, "at least 1m"),
        (
            {"ical": {"file": "x.ics"}, "members": ["U0ALICE01"], "fallback": "U0ALICE01"},
            "not both",
        ),
        ({"ical": {"file": "x.ics"}, "fallback": "alice"}, "not a Slack user id"),
        ({"start": "2026-01-05"}, "give members"),
        ({"members": ["U0ALICE01"]}, "start is required"),
        ({"members": ["U0ALICE01"], "start": "2026-01-05", "fallback": "U0ALICE01"}, "only apply"),
    ],
)
def test_a_bad_calendar_rotation_is_a_clear_problem(rotation: dict[str, Any], says: str) -> None:
    found = problems(rotation)
    assert any("rotations." in p and says in p for p in found), found
