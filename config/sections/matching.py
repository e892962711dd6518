"""Matchers in the policy file, shared by grading rules and routes.

``match`` (equal to a value, or to any of a list), ``match_re`` (a regular expression that
must match the whole value), ``not`` and ``not_re`` (their negations). Keys are label names,
or ``category``, ``source``, ``severity``, ``level`` (routes only) and ``metric`` (the metric's
name), which look at the alert itself.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field


def _as_text(value: object) -> object:
    """YAML reads ``level: 1`` as a number and ``on: yes`` as a boolean; match them as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return [_as_text(v) for v in value]
    return value


def _regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"is not a valid regular expression ({exc})") from None
    return pattern


def _non_empty(values: str | list[str]) -> str | list[str]:
    if isinstance(values, list) and not values:
        raise ValueError("give at least one value")
    return values


MatchValue = Annotated[str | list[str], BeforeValidator(_as_text), AfterValidator(_non_empty)]
Regex = Annotated[str, BeforeValidator(_as_text), AfterValidator(_regex)]


class Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, use_attribute_docstrings=True, populate_by_name=True
    )


class MatcherFields(Strict):
    """The matchers beyond ``match``; mixed into grading rules and routes."""

    match_re: dict[str, Regex] = Field(default_factory=dict)
    """Regular expressions that must match the whole value (`{service: "db-.*"}`)."""
    not_: dict[str, MatchValue] = Field(default_factory=dict, alias="not")
    """Values that must not be equal (`{env: staging}`; a list: none of them)."""
    not_re: dict[str, Regex] = Field(default_factory=dict)
    """Regular expressions that must not match the whole value."""
