"""The policy file's rate limits and access knobs: defaults, overrides, and errors that name
the place; secrets never quoted in errors."""

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


def problems(doc: object) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(yaml.safe_dump(doc), env=ENV)
    return without_lines(caught.value.problems)


def test_defaults_are_60000_per_minute_bursts_of_5000_and_listed_responders() -> None:
    doc = copy.deepcopy(EXAMPLE)
    del doc["rate_limit"], doc["access"]
    policy = parse_policy(yaml.safe_dump(doc), env=ENV)
    assert (policy.rate_limit.per_minute, policy.rate_limit.burst) == (60_000, 5_000)
    assert policy.access.responders == "listed"
    assert all(i.rate_limit is None for i in policy.integrations)


def test_an_integration_may_have_its_own_rate_limit() -> None:
    doc = copy.deepcopy(EXAMPLE)
    doc["integrations"][0]["rate_limit"] = {"per_minute": 30, "burst": 5}
    policy = parse_policy(yaml.safe_dump(doc), env=ENV)
    limit = policy.integrations[0].rate_limit
    assert limit is not None
    assert (limit.per_minute, limit.burst) == (30, 5)


@pytest.mark.parametrize(
    ("place", "value", "expected"),
    [
        ("rate_limit", {"per_minute": 0}, "rate_limit.per_minute"),
        ("rate_limit", {"burst": "lots"}, "rate_limit.burst"),
        ("rate_limit", {"per_hour": 5}, "rate_limit.per_hour: is not a known setting"),
        ("access", {"responders": "everyone"}, "access.responders"),
    ],
)
def test_bad_values_are_reported_at_their_place(place: str, value: Any, expected: str) -> None:
    doc = copy.deepcopy(EXAMPLE)
    doc[place] = value
    assert any(p.startswith(expected) for p in problems(doc)), problems(doc)


def test_an_integrations_bad_rate_limit_names_the_integration() -> None:
    doc = copy.deepcopy(EXAMPLE)
    doc["integrations"][1]["rate_limit"] = {"per_minute": -1}
    assert any(p.startswith("integrations[1].rate_limit.per_minute") for p in problems(doc))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("hmac_secret", 12345678901234),
        ("token", 98765432109876),
        ("url", "ftp://user:pAsSw0rd1234@hooks.example/x"),
    ],
)
def test_errors_about_secret_fields_do_not_quote_the_value(field: str, value: object) -> None:
    doc = copy.deepcopy(EXAMPLE)
    doc["webhooks"] = {"pager": {"url": "https://hooks.example/x", field: value}}
    found = problems(doc)
    assert any(f"webhooks.pager.{field}" in p for p in found)
    assert str(value) not in " ".join(found)
