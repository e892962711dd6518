"""The ``heartbeats`` section of the policy file: senders that must ping Tocsin regularly
(a dead man's switch), and the alert opened when one falls silent."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from config.durations import parse_duration

Duration = Annotated[int, BeforeValidator(parse_duration)]
CHANNEL = re.compile(r"^(#[a-z0-9][a-z0-9._-]{0,79}|[CGD][A-Z0-9]{2,})\Z")
CHANNEL_PROBLEM = "must be a channel name like #alerts or a channel id like C0123ABCD"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class HeartbeatRouteConfig(_Strict):
    team: str
    """Team that owns the missing-heartbeat alert (a key of teams when teams are defined)."""
    channel: str
    """Channel for the warning: #name or a channel id."""
    policy: str = "default"
    """Escalation policy (a key of policies)."""

    @field_validator("channel")
    @classmethod
    def _channel(cls, channel: str) -> str:
        if not CHANNEL.match(channel):
            raise ValueError(CHANNEL_PROBLEM)
        return channel


class HeartbeatConfig(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    """The path: senders ping /heartbeats/<name> (POST or GET)."""
    interval: Duration = Field(gt=0)
    """How often a ping is expected (e.g. 1m, 1h, 1d)."""
    grace: Duration = 60
    """How much later than the interval a ping may come before the heartbeat is missing."""
    level: Literal[1, 2, 3] = 1
    """Level of the missing-heartbeat alert."""
    route: HeartbeatRouteConfig | None = None
    """Where the missing-heartbeat alert goes (team, channel, policy); not set: the routes
    decide, by its labels (alertname and heartbeat: the heartbeat's name; source: heartbeat)."""
    integrations: list[str] = Field(min_length=1)
    """Integrations whose tokens may ping it."""
    alertname: str | None = Field(default=None, min_length=1, max_length=200)
    """An alert of this name (its alertname label) sent to one of `integrations` is a ping,
    never an alert: Alertmanager's always-firing Watchdog."""
    labels: dict[str, str] = Field(default_factory=dict)
    """More labels for the missing-heartbeat alert (for routes, grouping, silences)."""
