"""What routes add to their target: matchers, ``continue`` and time windows (``when``)."""

from __future__ import annotations

import re
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, Field, field_validator

from config.sections.matching import MatcherFields, Strict

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*\Z")


def day_numbers(spec: str | list[str]) -> frozenset[int]:
    """``"mon-fri"``, ``"sat,sun"``, ``["mon-wed", "fri"]`` → weekday numbers (0 = Monday).
    A range may wrap around the week (``fri-mon``)."""
    parts = [spec] if isinstance(spec, str) else spec
    found: set[int] = set()
    for part in (p.strip().lower() for item in parts for p in item.split(",")):
        first, _, last = (x.strip() for x in part.partition("-"))
        for name in (first, last) if last else (first,):
            if name[:3] not in DAYS or name not in (name[:3], _full(name[:3])):
                raise ValueError(f'"{name}" is not a day; use {", ".join(DAYS)}')
        start, end = DAYS.index(first[:3]), DAYS.index((last or first)[:3])
        found.update((start + i) % 7 for i in range((end - start) % 7 + 1))
    if not found:
        raise ValueError("give at least one day")
    return frozenset(found)


def _full(short: str) -> str:
    return {
        "mon": "monday",
        "tue": "tuesday",
        "wed": "wednesday",
        "thu": "thursday",
        "fri": "friday",
        "sat": "saturday",
        "sun": "sunday",
    }[short]


def span_minutes(span: str) -> tuple[int, int]:
    """``"09:00-18:00"`` → (540, 1080); the end may be 24:00."""
    found = _SPAN.match(span)
    if found is None:
        raise ValueError("must be a span of time like 09:00-18:00")
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
        raise ValueError("hours run from 00:00 to 24:00")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == end or (start == 0 and end == 0):
        raise ValueError("the span is empty; use 00:00-24:00 for the whole day")
    return start, end


class TimeWindowConfig(Strict):
    days: str | list[str] = "mon-sun"
    """Days the window starts on: mon-fri, sat,sun, or a list (ranges may wrap: fri-mon)."""
    between: str = "00:00-24:00"
    """Wall-clock span, start-end; an end before the start runs overnight (18:00-09:00)."""
    timezone: str | None = None
    """IANA time zone; default: the route's team's time zone, else UTC."""

    @field_validator("days")
    @classmethod
    def _days(cls, days: str | list[str]) -> str | list[str]:
        day_numbers(days)
        return days

    @field_validator("between")
    @classmethod
    def _between(cls, between: str) -> str:
        span_minutes(between)
        return between

    @field_validator("timezone")
    @classmethod
    def _zone(cls, zone: str | None) -> str | None:
        if zone is not None:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError("is not an IANA time zone (like Europe/Berlin)") from None
        return zone


def _listed(value: object) -> object:
    return [value] if isinstance(value, dict) else value


class RouteExtras(MatcherFields):
    continue_: bool = Field(default=False, alias="continue")
    """Keep looking after this route matches: later matching routes' channels get a mirror."""
    when: Annotated[list[TimeWindowConfig], BeforeValidator(_listed)] = Field(default_factory=list)
    """Time windows the route applies in (one, or a list: any of them); empty: always."""
