"""The ``grading`` section: source words to levels, and deviation bands for metric alerts."""

from __future__ import annotations

import itertools
import re
from typing import Annotated, Literal, Self

from pydantic import BeforeValidator, Field, field_validator, model_validator

from config.sections.matching import MatcherFields, Strict, _as_text

_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%?\s*\Z")


def parse_percent(value: object) -> float:
    """``"12.5%"`` or ``12.5`` → 0.125."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("must be a percentage like 5% or 12.5%")
    found = _PERCENT.match(str(value))
    if found is None:
        raise ValueError("must be a percentage like 5% or 12.5%")
    return float(found.group(1)) / 100


def show_percent(fraction: float) -> str:
    return f"{fraction * 100:.4g}%"


Percent = Annotated[float, BeforeValidator(parse_percent)]


class GradingMatch(Strict):
    severity: list[str] = Field(default_factory=list)
    """Source severity words (any of them, case-insensitive)."""
    labels: dict[str, str] = Field(default_factory=dict)
    """Labels that must all be equal."""
    category: list[str] = Field(default_factory=list)
    """Categories (any of them)."""

    @field_validator("severity", "category", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("labels", mode="before")
    @classmethod
    def _label_text(cls, value: object) -> object:
        return {k: _as_text(v) for k, v in value.items()} if isinstance(value, dict) else value


class BandConfig(Strict):
    from_: Percent = Field(default=0.0, alias="from")
    """Smallest deviation in the band (inclusive), e.g. 10%."""
    to: Percent | None = None
    """Deviation where the band ends (exclusive); leave it out on the last band."""
    level: Literal[1, 2, 3, "noise"]
    """Level given to alerts in the band; noise: dropped and counted, never shown."""

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.to is not None and self.to <= self.from_:
            raise ValueError(
                f"to ({show_percent(self.to)}) must be above from ({show_percent(self.from_)})"
            )
        return self


class _Conditions(Strict):
    match: GradingMatch = Field(default_factory=GradingMatch)
    """Conditions that must all hold."""


class GradingRuleConfig(MatcherFields, _Conditions):
    metric: list[str] = Field(default_factory=list)
    """Metric names the rule is for (any of them); empty: any metric."""
    level: Annotated[int, Field(ge=1, le=3)] | None = None
    """The level (1 to 3) given when the conditions hold."""
    bands: list[BandConfig] = Field(default_factory=list)
    """Instead of level: grade a metric alert by its deviation from the baseline."""

    @field_validator("metric", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


def grading_problems(rules: list[GradingRuleConfig]) -> list[str]:
    """What is wrong across a rule's fields, each with its place in the file."""
    problems: list[str] = []
    for index, rule in enumerate(rules):
        at = f"grading[{index}]"
        if (rule.level is None) == (not rule.bands):
            problems.append(f"{at}: give either level or bands (not both, not neither)")
        for part, found in (
            ("match_re", rule.match_re),
            ("not", rule.not_),
            ("not_re", rule.not_re),
        ):
            if "level" in found:
                problems.append(f"{at}.{part}.level: grading decides the level; match severity")
        problems += band_problems(rule.bands, at=f"{at}.bands")
    return problems


def band_problems(bands: list[BandConfig], *, at: str) -> list[str]:
    """Bands must go up in order, each starting where the previous one ends; only the last
    may be open-ended."""
    problems: list[str] = []
    for i, (band, after) in enumerate(itertools.pairwise(bands)):
        here = f"{at}[{i + 1}].from"
        if band.to is None:
            problems.append(f"{at}[{i}].to: is required on every band but the last")
        elif after.from_ < band.to:
            problems.append(
                f"{here}: {show_percent(after.from_)} overlaps {at}[{i}], which runs to "
                f"{show_percent(band.to)}; bands must be in order and not overlap"
            )
        elif after.from_ > band.to:
            problems.append(
                f"{here}: {show_percent(after.from_)} leaves a gap after {at}[{i}], which ends at "
                f"{show_percent(band.to)}; start it at {show_percent(band.to)}"
            )
    return problems
