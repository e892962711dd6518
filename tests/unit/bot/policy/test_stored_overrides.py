"""Overrides made from Slack layered over the policy file's (PolicyDirectory): they come after
the file's own, so they win where they overlap; layering again replaces the last layer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.policy.directory import PolicyDirectory
from bot.policy.stored_overrides import announce_channels
from config.policy import PolicyFile
from escalation.oncall import Override

POLICY = {
    "levels": {1: {"name": "critical"}, 2: {"name": "major"}, 3: {"name": "minor"}},
    "integrations": [{"name": "generic", "format": "generic", "token": "long-enough-token"}],
    "default_route": {"team": "ops", "channel": "#alerts", "policy": "default"},
    "teams": {"ops": {"channel": "#ops", "members": ["U0ALICE"]}},
    "rotations": {
        "primary": {
            "members": ["U0ALICE", "U0BOB"],
            "shift": "daily",
            "start": "2026-11-02",
            "overrides": [
                {
                    "user": "U0CAROL",
                    "start": "2026-12-02T00:00:00Z",
                    "end": "2026-12-03T00:00:00Z",
                }
            ],
        },
        "secondary": {"members": ["U0DAVE"], "start": "2026-11-02", "channel": "#db"},
        "lonely": {"members": ["U0ERIN"], "start": "2026-11-02"},
    },
    "policies": {"default": {"tiers": [{"notify": [{"oncall": "primary"}], "after": "0m"}]}},
}
NOON = datetime(2026, 12, 2, 12, tzinfo=UTC)


def directory() -> PolicyDirectory:
    return PolicyDirectory(PolicyFile.model_validate(POLICY))


def test_a_stored_override_wins_over_the_policy_files_where_they_overlap() -> None:
    found = directory()
    assert found.on_call("primary", at=NOON) == "U0CAROL"
    stored = Override("U0BOB", NOON - timedelta(hours=1), NOON + timedelta(hours=1))
    found.use_stored_overrides({"primary": [stored]})
    assert found.on_call("primary", at=NOON) == "U0BOB"
    assert found.on_call("primary", at=NOON + timedelta(hours=2)) == "U0CAROL"
    shift = found.shift("primary", at=NOON)
    assert shift is not None
    assert shift.override == stored


def test_layering_again_replaces_the_previous_layer() -> None:
    found = directory()
    found.use_stored_overrides(
        {"primary": [Override("U0BOB", NOON - timedelta(hours=1), NOON + timedelta(hours=1))]}
    )
    found.use_stored_overrides({})  # the override was cancelled
    assert found.on_call("primary", at=NOON) == "U0CAROL"
    assert found.rotations["primary"] == found.policy_rotations["primary"]


def test_changes_are_posted_in_the_rotations_channel_else_a_teams_else_the_default() -> None:
    policy = PolicyFile.model_validate(POLICY)
    assert announce_channels(policy) == {
        "primary": "#ops",
        "secondary": "#db",
        "lonely": "#alerts",
    }
