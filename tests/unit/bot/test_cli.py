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


def test_serve_bounds_idle_connections_and_header_size() -> None:
    from starlette.responses import PlainTextResponse

    from bot.cli import server_config
    from config.settings import Settings

    config = server_config(PlainTextResponse("x"), Settings(TOCSIN_PORT=8099))

    assert (config.host, config.port) == ("127.0.0.1", 8099)
    assert config.timeout_keep_alive == 5
    assert config.h11_max_incomplete_event_size == 16 * 1024
    assert config.timeout_graceful_shutdown == 5
