"""The environment benchmarks hand to the Tocsin processes they start."""

import pytest

from config.environment import child_environment


def test_child_environment_keeps_the_callers_variables_and_applies_overrides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TOCSIN_PORT", "1")
    monkeypatch.setenv("PATH_LIKE", "kept")
    env = child_environment({"TOCSIN_PORT": "2"})
    assert env["TOCSIN_PORT"] == "2"
    assert env["PATH_LIKE"] == "kept"


def test_a_clean_child_environment_drops_the_callers_slack_and_tocsin_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-the-shell")
    monkeypatch.setenv("TOCSIN_CONFIG", "/somewhere.yaml")
    monkeypatch.setenv("PATH_LIKE", "kept")
    env = child_environment({"TOCSIN_PORT": "3"}, clean=True)
    assert "SLACK_BOT_TOKEN" not in env
    assert "TOCSIN_CONFIG" not in env
    assert env["TOCSIN_PORT"] == "3"
    assert env["PATH_LIKE"] == "kept"
