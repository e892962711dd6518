"""Reports for the CLI, ``/tocsin report``, the API, the review page and the digest: one
place that turns the policy file's review settings and a filter into a filled Review."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, time, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from config.policy import PolicyFile
from escalation.review.figures import Review
from escalation.review.offhours import WEEKDAYS, OffHours
from storage.db import Database
from storage.review.facts import ReviewFilter
from storage.review.scan import build_review


def off_hours(policy: PolicyFile) -> OffHours:
    start, _, end = policy.review.night.partition("-")
    return OffHours(
        night_start=time.fromisoformat(start),
        night_end=time.fromisoformat(end),
        weekend=frozenset(WEEKDAYS.index(day) for day in policy.review.weekend),
    )


def team_zones(policy: PolicyFile) -> dict[str, ZoneInfo]:
    return {name: ZoneInfo(team.timezone) for name, team in policy.teams.items()}


def report_zone(policy: PolicyFile, team: str | None) -> tzinfo:
    """Days of a one-team report are that team's days; otherwise UTC days."""
    if team is not None and team in policy.teams:
        return ZoneInfo(policy.teams[team].timezone)
    return UTC


def empty_review(policy: PolicyFile, spec: ReviewFilter) -> Review:
    return Review(
        since=spec.since,
        until=spec.until,
        zone=report_zone(policy, spec.team),
        team_zones=team_zones(policy),
        off_hours=off_hours(policy),
        flapping_cycles=policy.review.flapping_cycles,
    )


async def make_review(
    db: Database,
    policy: PolicyFile,
    spec: ReviewFilter,
    *,
    progress: Callable[[int], None] | None = None,
) -> Review:
    return await build_review(db, spec, empty_review(policy, spec), progress=progress)


async def review_dict(review: Review) -> dict[str, Any]:
    """``review.as_dict()`` in a worker thread: merging and sorting every group's durations
    takes CPU-seconds over a long period of a busy service, which the event loop (webhooks,
    Slack, health checks) must not wait for."""
    return await asyncio.to_thread(review.as_dict)
