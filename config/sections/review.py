"""Policy-file models for the review: night and weekend (on-call load), flapping, and each
team's weekly digest."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)\Z")
_NIGHT = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)\Z")
_CHANNEL = re.compile(r"^(#[a-z0-9][a-z0-9._-]{0,79}|[CG][A-Z0-9]{2,})\Z")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_WEEKEND: tuple[Weekday, ...] = ("saturday", "sunday")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class ReviewConfig(_Strict):
    night: str = "22:00-07:00"
    """Night hours in each team's time zone, HH:MM-HH:MM (may wrap past midnight; start
    included, end excluded). Pages then count as night pages."""
    weekend: list[Weekday] = Field(default_factory=lambda: list(_WEEKEND))
    """Days whose pages count as weekend pages, in each team's time zone."""
    flapping_cycles: int = Field(default=3, ge=2, le=1000)
    """An alert that opens this many times in a period (fire, resolve, fire again…) is listed
    as flapping in the review, besides those noise control marked flapping."""

    @field_validator("night")
    @classmethod
    def _night(cls, value: str) -> str:
        if not _NIGHT.match(value):
            raise ValueError("write night hours as HH:MM-HH:MM, like 22:00-07:00")
        return value


class DigestConfig(_Strict):
    day: Weekday = "monday"
    """Day of the week the digest is posted, in the team's time zone."""
    time: str = "09:00"
    """Local time of day it is posted (HH:MM, the team's time zone)."""
    channel: str | None = None
    """Where it is posted (default: the team's channel)."""

    @field_validator("time")
    @classmethod
    def _time(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise ValueError("write the time as HH:MM, like 09:00")
        return value

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value is not None and not _CHANNEL.match(value):
            raise ValueError("must be a channel name like #ops or a channel id like C0123ABCD")
        return value
