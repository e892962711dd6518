"""The rules an override made from Slack must keep: pure, everything passed in.

* whoever covers is a member of the rotation;
* someone else's name may be given by the rotation's members, approvers and admins only;
* the period ends after it starts, is not over yet, and is at most ``MAX_COVER`` long (a
  longer absence belongs in the policy file's member list, where everyone sees it); a period
  that has already begun starts now;
* overlapping another override is allowed: the later one wins where they overlap (as in
  escalation.oncall, where the override listed last wins), and the answer says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MAX_COVER = timedelta(days=31)


@dataclass(frozen=True, slots=True)
class ExistingOverride:
    """An override already stored, as the rules see it."""

    id: int
    user: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class CoverRequest:
    rotation: str
    members: tuple[str, ...]
    maker: str
    """Who types the command (or accepts the swap)."""
    user: str
    """Who covers."""
    start: datetime
    end: datetime
    may_name_others: bool
    """The maker is an approver or an admin (members may name others anyway)."""


@dataclass(frozen=True, slots=True)
class CoverCheck:
    problems: tuple[str, ...]
    """Refusals, as sentences for the person; empty when the cover may be saved."""
    start: datetime
    """The start to save: ``now`` when the period has already begun."""
    end: datetime
    overlaps: tuple[ExistingOverride, ...]
    """Stored overrides this one overlaps (and wins over, being later)."""


def check_cover(
    request: CoverRequest, *, now: datetime, existing: Sequence[ExistingOverride]
) -> CoverCheck:
    problems: list[str] = []
    rotation = request.rotation
    if request.user not in request.members:
        who = "You are" if request.user == request.maker else f"<@{request.user}> is"
        problems.append(f"{who} not a member of rotation *{rotation}*, so cannot cover it.")
    if (
        request.user != request.maker
        and request.maker not in request.members
        and not request.may_name_others
    ):
        problems.append(
            f"Only members of *{rotation}*, approvers and admins may record a cover for "
            "someone else."
        )
    start, end = request.start.astimezone(UTC), request.end.astimezone(UTC)
    if end <= start:
        problems.append("The end of the period is not after its start.")
    elif end <= now:
        problems.append("That period is already over; an override only changes the future.")
    elif end - max(start, now) > MAX_COVER:
        problems.append(
            f"That period is longer than {MAX_COVER.days} days; for a longer change edit the "
            "rotation's members in the policy file."
        )
    start = max(start, now.astimezone(UTC))
    overlaps = tuple(o for o in existing if o.start < end and o.end > start)
    return CoverCheck(tuple(problems), start, end, overlaps)
