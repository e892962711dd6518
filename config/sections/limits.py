"""Policy-file models for who may act and how fast a monitoring tool may post."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class RateLimitConfig(_Strict):
    """A token bucket: ``burst`` requests at once, refilled at ``per_minute``. Each replica
    keeps its own buckets, so N replicas accept up to N times the rate."""

    per_minute: int = Field(default=60_000, ge=1, le=1_000_000)
    """Sustained requests per minute accepted from one integration. The default is a safety
    valve against a runaway sender, well above a real alert storm (Tocsin takes thousands of
    alerts a second); lower it per integration for a tool you do not trust."""
    burst: int = Field(default=5_000, ge=1, le=100_000)
    """Requests accepted at once before the sustained rate applies."""


class AccessConfig(_Strict):
    responders: Literal["listed", "anyone"] = "listed"
    """Who may act on alerts (buttons, modals, /tocsin): listed = people with a role under
    people, team and rotation members, approvers and user targets of policies; anyone =
    every member of the workspace."""
