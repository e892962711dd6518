"""Typed settings from the environment, built once at start and passed down."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
FaultPoint = Literal[
    "inbox_before_commit",
    "inbox_after_commit",
    "escalation_before_commit",
    "escalation_after_commit",
    "outbox_after_claim",
    "slack_after_post",
]
"""Where ``TOCSIN_FAULT_POINT`` makes the process SIGKILL itself (tests only,
    see bot.runtime.faults)."""
EXAMPLE_POLICY = Path(__file__).with_name("example.yaml")
SANDBOX_BOT_TOKEN = "xoxb-sandbox-token"  # noqa: S105 - the sandbox's own fake token
SANDBOX_SIGNING_SECRET = "sandbox-signing-secret"  # noqa: S105
DEV_WEBHOOK_TOKEN = "dev-token"  # noqa: S105 - used only while the sandbox runs


class Settings(BaseSettings):
    """Every knob of Tocsin. Names are the environment variables (case-insensitive)."""

    model_config = SettingsConfigDict(
        extra="ignore",
        populate_by_name=True,
        use_attribute_docstrings=True,
        env_ignore_empty=True,  # NAME= (as compose passes an unset variable) means the default
    )

    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    """The bot token (`xoxb-…`). Unset: the local Slack sandbox runs instead of Slack."""
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    """Verifies requests from Slack; required with a bot token (unless Socket Mode only)."""
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    """App-level token (`xapp-…`): connect over Socket Mode, no public URL needed."""
    slack_api_url: str = Field(default=DEFAULT_SLACK_API_URL, alias="TOCSIN_SLACK_API_URL")
    """Slack Web API base URL."""
    database_url: str = Field(default="sqlite:///data/tocsin.db", alias="TOCSIN_DATABASE_URL")
    """`sqlite:///path` or `postgresql://user@host/db`; the async driver is picked for you."""
    config_path: Path = Field(default=EXAMPLE_POLICY, alias="TOCSIN_CONFIG")
    """The policy file (default: the shipped `config/example.yaml`)."""
    policy_watch: bool = Field(default=True, alias="TOCSIN_POLICY_WATCH")
    """Reload the policy file when it changes on disk (`SIGHUP` reloads it either way); a file
    that cannot be used is refused and the running one kept."""
    host: str = Field(default="127.0.0.1", alias="TOCSIN_HOST")
    """Address to listen on."""
    port: int = Field(default=8080, ge=0, le=65535, alias="TOCSIN_PORT")
    """Port to listen on."""
    public_url: str | None = Field(default=None, alias="TOCSIN_PUBLIC_URL")
    """How this instance is reached, for links and the sandbox (default: `http://HOST:PORT`)."""
    webhook_token: SecretStr | None = Field(default=None, alias="TOCSIN_WEBHOOK_TOKEN")
    """The token the shipped policy file gives its integrations (`dev-token` while the sandbox
    runs)."""
    max_body_bytes: int = Field(default=1024 * 1024, gt=0, alias="TOCSIN_MAX_BODY_BYTES")
    """Largest webhook body accepted."""
    log_format: Literal["auto", "console", "json"] = Field(
        default="auto", alias="TOCSIN_LOG_FORMAT"
    )
    """`console`, `json`, or `auto` (console on a terminal). With JSON every line is JSON,
    libraries' lines included."""
    log_level: str = Field(default="INFO", alias="TOCSIN_LOG_LEVEL")
    """Log level (`DEBUG`, `INFO`, `WARNING`, …)."""
    access_log: bool = Field(default=False, alias="TOCSIN_ACCESS_LOG")
    """Log one line per HTTP request (`http_request`: client, method, path, status)."""
    outbox_poll_seconds: float = Field(default=1.0, gt=0, alias="TOCSIN_OUTBOX_POLL_SECONDS")
    """Safety interval of the outbox sender (it is also woken at once)."""
    inbox_poll_seconds: float = Field(default=1.0, gt=0, alias="TOCSIN_INBOX_POLL_SECONDS")
    """Safety interval of the inbox worker (it is also woken at once)."""
    inbox_batch_bodies: int = Field(default=1000, ge=1, alias="TOCSIN_INBOX_BATCH_BODIES")
    """Webhook bodies the inbox worker claims at a time (and at most 8 MiB of them); it turns
    them into alerts many to a transaction (one parse each, grouped reads, bulk writes). A
    lot of single-alert webhooks is one transaction: 1,000 of them cost ~30 % less CPU each
    than 200 (bench/ingest_bench.py --mode worker)."""
    inbox_batch_events: int = Field(default=1000, ge=1, alias="TOCSIN_INBOX_BATCH_EVENTS")
    """Most alert events in one inbox worker transaction (a body with more is one of its
    own; an event that needs the slower per-event path — silenced, flapping, a metric… —
    counts as 25): on SQLite the transaction holds the single writer, which the webhook
    intake waits for, so this bounds that wait (~0.15 ms of work an event)."""
    migrate_on_start: bool = Field(default=True, alias="TOCSIN_MIGRATE_ON_START")
    """Apply database migrations when `tocsin serve` starts; with several replicas set `false`
    and run `tocsin db upgrade` once."""
    escalation_tick_seconds: float = Field(
        default=5.0, gt=0, alias="TOCSIN_ESCALATION_TICK_SECONDS"
    )
    """Safety interval of the escalation timer (it also wakes at the earliest due time)."""
    slack_channel_rate: float = Field(default=1.0, gt=0, alias="TOCSIN_SLACK_CHANNEL_RATE")
    """Slack writes per second per channel or DM (see Storm control)."""
    slack_channel_burst: int = Field(default=3, ge=1, alias="TOCSIN_SLACK_CHANNEL_BURST")
    """Slack writes in a burst per channel or DM."""

    inbox_retention_days: int = Field(default=30, ge=0, alias="TOCSIN_INBOX_RETENTION_DAYS")
    """Processed webhook bodies older than this are deleted (hourly, in batches of 1,000, logged
    as `inbox_pruned`); `0` keeps them forever. Pending and failed bodies are kept; alerts,
    timelines, resolutions and follow-ups are never pruned."""
    review_token: SecretStr | None = Field(default=None, alias="TOCSIN_REVIEW_TOKEN")
    """The reviewers' token: the review page's sign-in, and `Authorization: Bearer` for
    `/api/reports`. Unset: both are disabled."""
    review_session_hours: float = Field(default=12.0, gt=0, alias="TOCSIN_REVIEW_SESSION_HOURS")
    """How long a review page sign-in lasts."""

    metrics_token: SecretStr | None = Field(default=None, alias="TOCSIN_METRICS_TOKEN")
    """When set, `/metrics` answers only `Authorization: Bearer <token>` (it names every
    integration). Unset: `/metrics` is open."""
    slack_team_id: str | None = Field(default=None, alias="SLACK_TEAM_ID")
    """The workspace (team id, `T…`; several comma-separated for an Enterprise Grid) whose Slack
    requests are accepted. Unset: the one `auth.test` names."""
    body_timeout_seconds: float = Field(default=30.0, gt=0, alias="TOCSIN_BODY_TIMEOUT_SECONDS")
    """A request whose body has not fully arrived this long after it started is answered 408
    and its connection closed."""

    claim_lease_seconds: float = Field(default=60.0, ge=5, alias="TOCSIN_CLAIM_LEASE_SECONDS")
    """How long a replica's claim on an inbox body or outbox row lasts before another may take it
    over; at least 3 x the Slack timeout + 10 s (checked at start)."""
    slack_timeout_seconds: float = Field(default=15.0, gt=0, alias="TOCSIN_SLACK_TIMEOUT_SECONDS")
    """How long one Slack call may take before it counts as failed (its outcome then unknown)."""
    fault_point: FaultPoint | None = Field(default=None, alias="TOCSIN_FAULT_POINT")
    """**Tests only**: the process SIGKILLs itself at this point (`inbox_before_commit`,
    `inbox_after_commit`, `escalation_before_commit`, `escalation_after_commit`,
    `outbox_after_claim`, `slack_after_post`)."""

    _socket_only_secret: str | None = PrivateAttr(default=None)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        async_url(value)  # raises on an unknown scheme
        return value

    @model_validator(mode="after")
    def _lease_outlasts_a_delivery(self) -> Settings:
        # A delivery may take three Slack timeouts (slack_sdk retries a dropped connection
        # twice) plus two short rate-limit waits; a lease running out sooner would let
        # another replica start the same delivery.
        longest = 3 * self.slack_timeout_seconds + 10
        if self.claim_lease_seconds < longest:
            raise ValueError(
                f"TOCSIN_CLAIM_LEASE_SECONDS ({self.claim_lease_seconds:g}) must be at least "
                f"3 x TOCSIN_SLACK_TIMEOUT_SECONDS + 10 ({longest:g})"
            )
        return self

    @property
    def sandbox(self) -> bool:
        """The local Slack sandbox runs when no Slack bot token is set."""
        return self.slack_bot_token is None

    def bot_token(self) -> str:
        return (
            self.slack_bot_token.get_secret_value() if self.slack_bot_token else SANDBOX_BOT_TOKEN
        )

    def signing_secret(self) -> str:
        if self.slack_signing_secret:
            return self.slack_signing_secret.get_secret_value()
        if self.sandbox:
            return SANDBOX_SIGNING_SECRET
        if self.slack_app_token is not None:
            # Socket Mode needs no signing secret; a random one makes /slack/events refuse
            # every HTTP request instead of trusting unsigned ones.
            if self._socket_only_secret is None:
                self._socket_only_secret = secrets.token_hex(32)
            return self._socket_only_secret
        raise ValueError("SLACK_SIGNING_SECRET must be set when SLACK_BOT_TOKEN is set")

    def base_url(self) -> str:
        """The URL at which this instance is reached (for links and the sandbox)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host  # noqa: S104
        return f"http://{host}:{self.port}"

    def policy_environment(self) -> Mapping[str, str]:
        """Variables the policy file may reference as ``${NAME}``.

        While the sandbox runs, ``TOCSIN_WEBHOOK_TOKEN`` falls back to ``dev-token`` so a fresh
        clone works with no setup; with real Slack credentials it must be set.
        """
        env = dict(os.environ)
        if self.webhook_token is not None:
            env["TOCSIN_WEBHOOK_TOKEN"] = self.webhook_token.get_secret_value()
        elif self.sandbox:
            env.setdefault("TOCSIN_WEBHOOK_TOKEN", DEV_WEBHOOK_TOKEN)
        return env

    def async_database_url(self) -> str:
        return async_url(self.database_url)

    def sandbox_state_path(self) -> Path | None:
        """Where the sandbox keeps its workspace across restarts: `sandbox.json` beside a
        SQLite database file; None (not kept) for PostgreSQL or an in-memory database."""
        scheme, _, rest = self.database_url.partition(":///")
        path = rest.partition("?")[0]
        if not scheme.startswith("sqlite") or not path or path == ":memory:":
            return None
        if path.startswith("file:"):
            return None
        return Path(path).expanduser().parent / "sandbox.json"


def async_url(url: str) -> str:
    """Map a plain database URL to its async driver: aiosqlite or asyncpg."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL: {url!r}")
    base = scheme.split("+", 1)[0]
    if base == "sqlite":
        return f"sqlite+aiosqlite://{rest}"
    if base in ("postgresql", "postgres"):
        return f"postgresql+asyncpg://{rest}"
    raise ValueError(f"unsupported database {scheme!r}: use sqlite:///path or postgresql://…")


def load_settings() -> Settings:
    return Settings()
