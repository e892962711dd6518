"""Policy-file models for noise control: grouping defaults and flapping detection."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from config.durations import parse_duration

Duration = Annotated[int, BeforeValidator(parse_duration)]
LABEL_NAME = r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class GroupingConfig(_Strict):
    window: Duration = 300
    """How long after a group's first alert others join its warning (0: no grouping)."""


class FlappingConfig(_Strict):
    fires: Annotated[int, Field(ge=2, le=100)] = 5
    """An alert that fires this many times (2 to 100)…"""
    window: Annotated[Duration, Field(ge=60)] = 1800
    """…within this long is flapping: it reuses its last warning instead of posting anew."""
