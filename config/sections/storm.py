"""The ``storm`` section of the policy file: when a channel's alerts are rolled up."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from config.durations import parse_duration

Duration = Annotated[int, BeforeValidator(parse_duration)]


class StormConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    enabled: bool = True
    """Roll a flood of alerts in one channel into one summary (false: one warning each)."""
    window: Duration = Field(default=10, gt=0)
    """The span over which a channel's new alerts are counted."""
    start_above: int = Field(default=10, ge=1)
    """A storm starts when more new alerts than this reach one channel within `window`."""
    calm_at_most: int = Field(default=2, ge=0)
    """A window with at most this many new alerts is calm."""
    calm_for: Duration = 60
    """The storm ends (one warning per alert again) after every window was calm this long."""
    summary_every: Duration = Field(default=5, ge=1)
    """The storm summary is edited at most once per this interval."""
    thread_batch: int = Field(default=300, ge=1, le=1000)
    """Most alerts listed per message in the summary's thread (fewer if over Slack limits)."""
    top_items: int = Field(default=5, ge=1, le=20)
    """How many alerts (most severe first) and alert names the summary shows."""

    @model_validator(mode="after")
    def _thresholds(self) -> Self:
        if self.calm_at_most > self.start_above:
            raise ValueError(
                f"calm_at_most ({self.calm_at_most}) must not be more than "
                f"start_above ({self.start_above})"
            )
        return self
