"""Settings from the environment: database URLs, sandbox mode, secrets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from config.policy import PolicyError, load_policy
from config.settings import (
    DEV_WEBHOOK_TOKEN,
    EXAMPLE_POLICY,
    SANDBOX_BOT_TOKEN,
    SANDBOX_SIGNING_SECRET,
    Settings,
    async_url,
)

BOT_TOKEN = "xoxb-real-bot-token-1234"
SIGNING_SECRET = "signing-secret-5678"
WEBHOOK_TOKEN = "webhook-token-9012"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith(("SLACK_", "TOCSIN_")):
            monkeypatch.delenv(name)


def _real_slack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)


# --- database URLs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///x", "sqlite+aiosqlite:///x"),
        ("sqlite:///data/tocsin.db", "sqlite+aiosqlite:///data/tocsin.db"),
        ("sqlite+aiosqlite:///x", "sqlite+aiosqlite:///x"),
        ("postgresql://u:p@db:5432/tocsin", "postgresql+asyncpg://u:p@db:5432/tocsin"),
        ("postgres://u:p@db/tocsin", "postgresql+asyncpg://u:p@db/tocsin"),
        ("postgresql+psycopg://u@db/tocsin", "postgresql+asyncpg://u@db/tocsin"),
    ],
)
def test_async_url_maps_to_async_driver(url: str, expected: str) -> None:
    assert async_url(url) == expected


@pytest.mark.parametrize("url", ["mysql://u@db/tocsin", "oracle://db", "mongodb://db/x"])
def test_async_url_rejects_unsupported_database(url: str) -> None:
    with pytest.raises(ValueError, match="unsupported database"):
        async_url(url)


def test_async_url_rejects_text_that_is_not_a_url() -> None:
    with pytest.raises(ValueError, match="not a database URL"):
        async_url("tocsin.db")


def test_settings_default_database_is_sqlite_with_aiosqlite() -> None:
    settings = Settings()

    assert settings.database_url == "sqlite:///data/tocsin.db"
    assert settings.async_database_url() == "sqlite+aiosqlite:///data/tocsin.db"


def test_settings_database_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOCSIN_DATABASE_URL", "postgres://u:p@db/tocsin")

    assert Settings().async_database_url() == "postgresql+asyncpg://u:p@db/tocsin"


def test_settings_refuse_mysql_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOCSIN_DATABASE_URL", "mysql://u@db/tocsin")

    with pytest.raises(ValidationError, match="unsupported database"):
        Settings()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///data/tocsin.db", Path("data/sandbox.json")),
        ("sqlite:////var/lib/tocsin/t.db?mode=rwc", Path("/var/lib/tocsin/sandbox.json")),
        ("sqlite+aiosqlite:///t.db", Path("sandbox.json")),
        ("sqlite:///:memory:", None),
        ("sqlite:///file:mem?mode=memory&uri=true", None),
        ("postgresql://u@db/tocsin", None),
    ],
)
def test_the_sandbox_is_kept_beside_a_sqlite_file(
    monkeypatch: pytest.MonkeyPatch, url: str, expected: Path | None
) -> None:
    monkeypatch.setenv("TOCSIN_DATABASE_URL", url)

    assert Settings().sandbox_state_path() == expected


# --- sandbox and Slack credentials ----------------------------------------------------------


def test_sandbox_is_on_without_slack_bot_token() -> None:
    settings = Settings()

    assert settings.sandbox is True
    assert settings.bot_token() == SANDBOX_BOT_TOKEN
    assert settings.signing_secret() == SANDBOX_SIGNING_SECRET


def test_sandbox_is_off_with_slack_bot_token(monkeypatch: pytest.MonkeyPatch) -> None:
    _real_slack(monkeypatch)

    settings = Settings()

    assert settings.sandbox is False
    assert settings.bot_token() == BOT_TOKEN
    assert settings.signing_secret() == SIGNING_SECRET


def test_signing_secret_is_required_with_a_bot_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)

    settings = Settings()

    with pytest.raises(ValueError, match="SLACK_SIGNING_SECRET must be set"):
        settings.signing_secret()


def test_environment_variable_names_are_case_insensitive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("tocsin_port", "9090")

    assert Settings().port == 9090


def test_port_out_of_range_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOCSIN_PORT", "70000")

    with pytest.raises(ValidationError):
        Settings()


@pytest.mark.parametrize(
    ("host", "public_url", "expected"),
    [
        ("127.0.0.1", None, "http://127.0.0.1:8080"),
        ("0.0.0.0", None, "http://127.0.0.1:8080"),
        ("::", None, "http://127.0.0.1:8080"),
        ("10.0.0.5", None, "http://10.0.0.5:8080"),
        ("0.0.0.0", "https://tocsin.example.com/", "https://tocsin.example.com"),
    ],
)
def test_base_url(
    monkeypatch: pytest.MonkeyPatch, host: str, public_url: str | None, expected: str
) -> None:
    monkeypatch.setenv("TOCSIN_HOST", host)
    if public_url:
        monkeypatch.setenv("TOCSIN_PUBLIC_URL", public_url)

    assert Settings().base_url() == expected


# --- the environment the policy file sees ---------------------------------------------------


def test_policy_environment_falls_back_to_dev_token_in_sandbox() -> None:
    env = Settings().policy_environment()

    assert env["TOCSIN_WEBHOOK_TOKEN"] == DEV_WEBHOOK_TOKEN == "dev-token"


def test_policy_environment_has_no_dev_token_with_real_slack(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _real_slack(monkeypatch)

    env = Settings().policy_environment()

    assert "TOCSIN_WEBHOOK_TOKEN" not in env
    assert DEV_WEBHOOK_TOKEN not in env.values()


@pytest.mark.parametrize("real_slack", [False, True], ids=["sandbox", "real-slack"])
def test_policy_environment_uses_the_webhook_token_when_set(
    monkeypatch: pytest.MonkeyPatch, real_slack: bool
) -> None:
    if real_slack:
        _real_slack(monkeypatch)
    monkeypatch.setenv("TOCSIN_WEBHOOK_TOKEN", WEBHOOK_TOKEN)

    assert Settings().policy_environment()["TOCSIN_WEBHOOK_TOKEN"] == WEBHOOK_TOKEN


def test_policy_environment_passes_other_variables_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GRAFANA_TOKEN", "grafana-token-1")

    assert Settings().policy_environment()["GRAFANA_TOKEN"] == "grafana-token-1"


def test_example_policy_loads_in_sandbox_with_dev_token() -> None:
    settings = Settings()

    policy = load_policy(settings.config_path, env=settings.policy_environment())

    assert settings.config_path == EXAMPLE_POLICY
    assert {i.token for i in policy.integrations} == {DEV_WEBHOOK_TOKEN}


def test_example_policy_with_real_slack_needs_webhook_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _real_slack(monkeypatch)
    settings = Settings()

    with pytest.raises(PolicyError, match="environment variable TOCSIN_WEBHOOK_TOKEN is not set"):
        load_policy(settings.config_path, env=settings.policy_environment())


# --- secrets stay secret --------------------------------------------------------------------


def test_secrets_never_show_in_repr_or_str(monkeypatch: pytest.MonkeyPatch) -> None:
    _real_slack(monkeypatch)
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-app-token-3456")
    monkeypatch.setenv("TOCSIN_WEBHOOK_TOKEN", WEBHOOK_TOKEN)

    settings = Settings()

    for shown in (repr(settings), str(settings)):
        for secret in (BOT_TOKEN, SIGNING_SECRET, "xapp-app-token-3456", WEBHOOK_TOKEN):
            assert secret not in shown
    assert settings.slack_app_token is not None
    assert settings.slack_app_token.get_secret_value() == "xapp-app-token-3456"


def test_a_claim_lease_shorter_than_a_delivery_can_take_is_refused() -> None:
    with pytest.raises(ValidationError, match="TOCSIN_CLAIM_LEASE_SECONDS"):
        Settings(TOCSIN_CLAIM_LEASE_SECONDS=20, TOCSIN_SLACK_TIMEOUT_SECONDS=10)
    assert Settings(TOCSIN_CLAIM_LEASE_SECONDS=40, TOCSIN_SLACK_TIMEOUT_SECONDS=10)


def test_the_fault_point_accepts_only_known_points() -> None:
    assert Settings(TOCSIN_FAULT_POINT="slack_after_post").fault_point == "slack_after_post"
    with pytest.raises(ValidationError, match="TOCSIN_FAULT_POINT"):
        Settings(TOCSIN_FAULT_POINT="somewhere")
