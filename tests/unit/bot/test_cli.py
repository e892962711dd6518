"""The `tocsin` command line: check-config explains problems with their place."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "TOCSIN_CONFIG",
        "TOCSIN_WEBHOOK_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)


def test_check_config_accepts_the_shipped_example() -> None:
    result = runner.invoke(app, ["check-config"])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output
    assert "4 integration(s)" in result.output


def test_check_config_names_the_place_of_each_problem(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text(
        "levels:\n"
        "  1: {name: critical, ack_within: 5x}\n"
        "  2: {name: major}\n"
        "  3: {name: minor}\n"
        "integrations: [{name: am, format: alertmanager, token: '${NOT_SET_ANYWHERE}'}]\n"
        "default_route: {team: ops, channel: '#alerts'}\n"
    )
    result = runner.invoke(app, ["check-config", str(bad)])
    assert result.exit_code == 1
    assert "integrations[0].token: environment variable NOT_SET_ANYWHERE is not set" in (
        result.output
    )


def test_check_config_reports_bad_durations_with_their_path(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text(
        "levels:\n"
        "  1: {name: critical, ack_within: 5x}\n"
        "  2: {name: major}\n"
        "  3: {name: minor}\n"
        "integrations: [{name: am, format: alertmanager, token: long-enough-token}]\n"
        "default_route: {team: ops, channel: '#alerts'}\n"
    )
    result = runner.invoke(app, ["check-config", str(bad)])
    assert result.exit_code == 1
    assert 'levels.1.ack_within: "5x" is not a duration' in result.output


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "check-config", "db"):
        assert command in result.output


SIMULATED = """
levels:
  1: {name: critical}
  2: {name: major}
  3: {name: minor}
integrations: [{name: am, format: alertmanager, token: long-enough-token}]
default_route: {team: ops, channel: '#alerts', policy: quick}
people:
  U0ALICE: {name: Alice}
  U0DAVE: {name: Dave, roles: [approver]}
rotations:
  primary: {members: [U0ALICE], shift: weekly, start: 2026-01-05}
policies:
  quick:
    tiers:
      - {notify: [{user: U0ALICE}], after: 8s}
      - {notify: [{oncall: primary}, {channel: '#managers'}, {user: U0ERIN}], after: 90s}
      - {notify: [{user: U0BOB}], after: 1h, requires_approval: true}
    approvers: [U0DAVE]
"""


def test_policy_simulate_shows_seconds_and_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(SIMULATED)
    monkeypatch.setenv("TOCSIN_CONFIG", str(path))
    result = runner.invoke(app, ["policy", "simulate", "--policy", "quick"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()[1:]
    assert lines[0].split()[0] == "+8s"
    assert "Alice" in lines[0]
    assert lines[1].split()[0] == "+1m38s"  # 90 s after the first tier
    assert "Alice (on call for primary)" in lines[1]
    assert "channel #managers" in lines[1]
    assert "approver Dave" in result.output
    assert "U0ALICE" not in result.output
    assert "U0DAVE" not in result.output
    assert "U0ERIN" in lines[1]  # not among the people: the id is all there is
