"""The `tocsin` command line: check-config explains problems with their place."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.runtime.version import tocsin_version

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


def test_check_config_names_the_line_of_a_validation_problem(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text(
        "levels:\n"
        "  1: {name: critical}\n"
        "  2: {name: major}\n"
        "  3: {name: minor}\n"
        "integrations: [{name: am, format: alertmanager, token: long-enough-token}]\n"
        "default_route: {team: ops, channel: '#alerts'}\n"
        "policies:\n"
        "  default: {repeat_afer: 5m}\n"
    )
    result = runner.invoke(app, ["check-config", str(bad)])
    assert result.exit_code == 1
    assert (
        "  - line 8: policies.default.repeat_afer: is not a known setting; "
        "did you mean repeat_after?\n"
    ) in result.stderr


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "check-config", "db"):
        assert command in result.output


def test_version_prints_the_installed_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"tocsin {tocsin_version()}"
    assert tocsin_version() != "unknown"


# --- the commands that only read never make a database ---------------------------------------

READ_ONLY = [["report"], ["export"], ["noise"]]


def one_line_error(result: Result) -> str:
    """The whole of stderr, checked to be one line and no traceback."""
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("command", READ_ONLY, ids=lambda c: c[0])
def test_read_only_command_outside_the_project_makes_no_database_and_names_the_file(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOCSIN_DATABASE_URL", raising=False)

    line = one_line_error(runner.invoke(app, command))

    assert not (tmp_path / "data").exists()
    assert line.startswith(f"{tmp_path / 'data' / 'tocsin.db'}: no database here; ")
    assert "TOCSIN_DATABASE_URL is sqlite:///data/tocsin.db" in line
    assert "tocsin db upgrade" in line


@pytest.mark.parametrize("command", READ_ONLY, ids=lambda c: c[0])
def test_read_only_command_on_an_unmigrated_database_says_to_migrate(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "empty.db"
    sqlite3.connect(file).close()
    monkeypatch.setenv("TOCSIN_DATABASE_URL", f"sqlite:///{file}")

    line = one_line_error(runner.invoke(app, command))

    assert line == (
        f"{file}: no Tocsin tables (never migrated); "
        "run `tocsin db upgrade` (or start the service once: `tocsin serve`)"
    )
    with sqlite3.connect(file) as conn:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == []


def test_report_on_a_database_migrated_by_an_older_tocsin_names_both_migrations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "old.db"
    monkeypatch.setenv("TOCSIN_DATABASE_URL", f"sqlite:///{file}")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    with sqlite3.connect(file) as conn:
        (head,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        conn.execute("UPDATE alembic_version SET version_num = '0001'")

    line = one_line_error(runner.invoke(app, ["report"]))

    assert line.startswith(f"{file}: at migration 0001, this Tocsin needs {head}; ")
    assert "tocsin db upgrade" in line


def test_report_on_an_unreachable_database_says_so_without_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TOCSIN_DATABASE_URL", "postgresql://tocsin:hunter2pw@127.0.0.1:1/tocsin")

    line = one_line_error(runner.invoke(app, ["report"]))

    assert line.startswith("postgresql+asyncpg://tocsin:***@127.0.0.1:1/tocsin: cannot open it (")
    assert "check TOCSIN_DATABASE_URL" in line
    assert "hunter2pw" not in line


# --- --format is a choice ---------------------------------------------------------------------
# (the error's wording is typer's, "Value error," included)


@pytest.mark.parametrize(
    ("command", "choices"),
    [("report", "<text|markdown|csv|json>"), ("export", "<jsonl|csv>")],
)
def test_format_choices_are_listed_in_help(command: str, choices: str) -> None:
    result = runner.invoke(app, [command, "--help"])

    assert result.exit_code == 0
    assert choices in result.stdout


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("report", "'xml' is not one of 'text', 'markdown', 'csv', 'json'"),
        ("export", "'xml' is not one of 'jsonl', 'csv'"),
    ],
)
def test_a_wrong_format_is_refused_naming_the_choices(
    command: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    result = runner.invoke(app, [command, "--format", "xml"])

    assert result.exit_code == 2
    shown = " ".join(result.stderr.replace("│", " ").split())  # rich's box, wrapped at 80
    assert f"Invalid value for '--format': Value error, {expected}." in shown
    assert not (tmp_path / "data").exists()


def test_report_format_is_case_insensitive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOCSIN_DATABASE_URL", f"sqlite:///{tmp_path / 'tocsin.db'}")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0

    result = runner.invoke(app, ["report", "1d", "--format", "JSON"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["overall"]["alerts"] == 0


def test_serve_bounds_idle_connections_and_header_size() -> None:
    from starlette.responses import PlainTextResponse

    from bot.cli import server_config
    from config.settings import Settings

    config = server_config(PlainTextResponse("x"), Settings(TOCSIN_PORT=8099))

    assert (config.host, config.port) == ("127.0.0.1", 8099)
    assert config.timeout_keep_alive == 5
    assert config.h11_max_incomplete_event_size == 16 * 1024
    assert config.timeout_graceful_shutdown == 5


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


def test_policy_simulate_pages_whoever_covers_by_an_override_made_from_slack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    from datetime import UTC, datetime, timedelta

    from config.settings import async_url
    from storage.db import Database
    from storage.overrides import NewOverride, save_override

    path = tmp_path / "policy.yaml"
    path.write_text(SIMULATED)
    monkeypatch.setenv("TOCSIN_CONFIG", str(path))
    url = f"sqlite:///{tmp_path / 'tocsin.db'}"
    monkeypatch.setenv("TOCSIN_DATABASE_URL", url)
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    now = datetime.now(UTC)

    async def cover() -> None:
        db = Database(async_url(url))
        try:
            covered = NewOverride(
                "primary",
                "U0ERIN",
                now - timedelta(hours=1),
                now + timedelta(days=1),
                "cover",
                "U0ERIN",
            )
            assert await save_override(db, covered, now=now, request_key="cli-test") is not None
        finally:
            await db.dispose()

    asyncio.run(cover())
    result = runner.invoke(app, ["policy", "simulate", "--policy", "quick"])

    assert result.exit_code == 0, result.output
    assert "U0ERIN (on call for primary)" in result.output
    assert "Alice (on call for primary)" not in result.output
    assert "not included" not in result.output


def test_policy_simulate_without_a_database_says_the_overrides_from_slack_are_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(SIMULATED)
    monkeypatch.setenv("TOCSIN_CONFIG", str(path))
    monkeypatch.setenv("TOCSIN_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    result = runner.invoke(app, ["policy", "simulate", "--policy", "quick"])
    assert result.exit_code == 0, result.output
    assert "Alice (on call for primary)" in result.output
    assert "(overrides made from Slack not included:" in result.output
    assert not (tmp_path / "none.db").exists()


def test_policy_simulate_reads_a_calendar_file_and_notes_a_feed_it_does_not_fetch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    start, end = (now - timedelta(days=1)), (now + timedelta(days=1))
    (tmp_path / "db.ics").write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:x\r\n"
        f"DTSTART:{start:%Y%m%dT%H%M%SZ}\r\nDTEND:{end:%Y%m%dT%H%M%SZ}\r\n"
        "SUMMARY:On call <@U0BOB>\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    policy = SIMULATED.replace(
        "  primary: {members: [U0ALICE], shift: weekly, start: 2026-01-05}",
        "  primary: {ical: {file: db.ics}, fallback: U0ALICE}\n"
        "  web: {ical: {url: 'https://cal.example.com/x.ics'}, fallback: U0DAVE}",
    )
    (tmp_path / "policy.yaml").write_text(policy)
    monkeypatch.setenv("TOCSIN_CONFIG", str(tmp_path / "policy.yaml"))
    result = runner.invoke(app, ["policy", "simulate", "--policy", "quick"])
    assert result.exit_code == 0, result.output
    assert "note: rotation 'web' is fed from a URL, not fetched here" in result.output
    assert "U0BOB (on call for primary)" in result.output
