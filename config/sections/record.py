"""Policy-file models for the record: "last time" matching and follow-up reminders."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from config.durations import parse_duration

Duration = Annotated[int, BeforeValidator(parse_duration)]
_TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)\Z")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class LastTimeConfig(_Strict):
    key_labels: list[str] = Field(default_factory=lambda: ["service", "instance"])
    """With the alert's name (alertname label, else title), what marks the same problem."""
    window: Duration = Field(default="30d", ge=86400, validate_default=True)
    """How far back the warning counts firings of the same problem (at least 1d)."""

    @field_validator("key_labels")
    @classmethod
    def _names(cls, labels: list[str]) -> list[str]:
        for label in labels:
            if not label.strip():
                raise ValueError("a key label name cannot be empty")
        return labels


class FollowUpConfig(_Strict):
    due_time: str = "09:00"
    """Time of day (HH:MM, team's time zone) a due date means; the first reminder goes then."""
    remind_every: Duration = Field(default="1d", ge=3600, validate_default=True)
    """How often the owner is reminded once it is due, until marked done (at least 1h)."""

    @field_validator("due_time")
    @classmethod
    def _time_of_day(cls, value: str) -> str:
        if not _TIME_OF_DAY.match(value):
            raise ValueError(f'"{value}" is not a time of day (write it like 09:00)')
        return value
