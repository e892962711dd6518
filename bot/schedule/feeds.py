"""Which shifts a calendar feed holds: a rotation's, or one person's across every rotation.

Pure: the policy's rotations, people and teams in, the feed's shifts out; the instant comes
in as an argument. A feed spans ``FEED_PAST`` before it to ``FEED_AHEAD`` after it.

Overrides: the rotation's own (from the policy file) apply; ``extra`` overrides per rotation
(e.g. ones kept in the database) are applied after them, so where they overlap the extra one
wins, as a later override does in :mod:`escalation.oncall`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import quote

from bot.policy.directory import rotation_of
from config.policy import PolicyFile
from escalation.oncall import Override, Rotation, Shift, shifts_between

FEED_PAST = timedelta(days=14)
"""A feed starts this long before the moment it is asked for (recent shifts stay visible)."""
FEED_AHEAD = timedelta(days=92)
"""A feed ends this long after the moment it is asked for (about three months)."""

FeedKind = Literal["rotation", "person"]
_FOLDERS: Mapping[FeedKind, str] = {"rotation": "rotations", "person": "people"}


@dataclass(frozen=True, slots=True)
class Feed:
    kind: FeedKind
    name: str
    """The rotation's name, or the person's Slack user id."""

    @property
    def key(self) -> str:
        """What its token is derived from and its generation kept under."""
        return f"{self.kind}:{self.name}"

    @property
    def path(self) -> str:
        return f"/calendar/{_FOLDERS[self.kind]}/{quote(self.name, safe='')}.ics"


@dataclass(frozen=True, slots=True)
class FeedShift:
    """One shift of a feed, with what a calendar event says about it."""

    rotation: str
    shift: Shift
    person: str
    """Display name of whoever is on call (``people.<id>.name``, else the Slack id)."""
    covers: str | None
    """Display name of the scheduled member, when an override puts someone else on."""
    teams: tuple[str, ...]
    """Display names of the teams whose escalation policies page the rotation."""
    timezone: str


@dataclass(frozen=True, slots=True)
class OnCallCalendars:
    """The feeds one policy file offers."""

    rotations: Mapping[str, Rotation]
    names: Mapping[str, str]
    """Slack user id → display name."""
    teams: Mapping[str, tuple[str, ...]]
    """Rotation name → display names of the teams it is paged for."""

    @classmethod
    def from_policy(
        cls, policy: PolicyFile, *, rotations: Mapping[str, Rotation] | None = None
    ) -> OnCallCalendars:
        """``rotations``: a live view (bot.policy.directory.LiveRotations) where some are fed
        by calendars; by default the policy file's, as they stand."""
        return cls(
            rotations=rotations
            if rotations is not None
            else {name: rotation_of(name, c) for name, c in policy.rotations.items()},
            names={user: person.name for user, person in policy.people.items()},
            teams=_teams_by_rotation(policy),
        )

    def feed(self, kind: FeedKind, name: str) -> Feed | None:
        """The feed, if the policy has it: a rotation by name; a person who is named under
        ``people``, is a rotation's member or covers in one of its overrides."""
        if kind == "rotation":
            return Feed(kind, name) if name in self.rotations else None
        return Feed(kind, name) if name in self._people() else None

    def find(self, name: str) -> Feed | None:
        """A feed by a rotation's name or a person's Slack id (rotations first)."""
        return self.feed("rotation", name) or self.feed("person", name)

    def title(self, feed: Feed) -> str:
        who = feed.name if feed.kind == "rotation" else self.names.get(feed.name, feed.name)
        return f"On call: {who}"

    def shifts(
        self,
        feed: Feed,
        *,
        now: datetime,
        extra: Mapping[str, Sequence[Override]] | None = None,
    ) -> list[FeedShift]:
        """The feed's shifts from ``now - FEED_PAST`` to ``now + FEED_AHEAD``, in order."""
        start, end = now - FEED_PAST, now + FEED_AHEAD
        names = [feed.name] if feed.kind == "rotation" else sorted(self.rotations)
        found: list[FeedShift] = []
        for name in names:
            rotation = self.rotations[name]
            added = tuple((extra or {}).get(name, ()))
            if added:
                rotation = replace(rotation, overrides=rotation.overrides + added)
            for shift in shifts_between(rotation, start=start, end=end):
                if feed.kind == "person" and shift.user != feed.name:
                    continue
                found.append(self._feed_shift(rotation, shift))
        found.sort(key=lambda s: (s.shift.start, s.rotation))
        return found

    def _feed_shift(self, rotation: Rotation, shift: Shift) -> FeedShift:
        covered = shift.override is not None and shift.user != shift.scheduled
        return FeedShift(
            rotation=rotation.name,
            shift=shift,
            person=self.names.get(shift.user, shift.user),
            covers=self.names.get(shift.scheduled, shift.scheduled) if covered else None,
            teams=self.teams.get(rotation.name, ()),
            timezone=rotation.timezone,
        )

    def _people(self) -> set[str]:
        people = set(self.names)
        for rotation in self.rotations.values():
            people.update(rotation.members)
            people.update(o.user for o in rotation.overrides)
        return people


def _teams_by_rotation(policy: PolicyFile) -> dict[str, tuple[str, ...]]:
    paged: dict[str, set[str]] = {}  # escalation policy → rotations its tiers page
    for name, escalation in policy.policies.items():
        paged[name] = {
            n.oncall for tier in escalation.tiers for n in tier.notify if n.oncall is not None
        }
    teams: dict[str, list[str]] = {}
    for target in (*policy.routes, policy.default_route):
        team = policy.teams.get(target.team)
        shown = (team.name if team is not None else None) or target.team
        for rotation in sorted(paged.get(target.policy, ())):
            if shown not in teams.setdefault(rotation, []):
                teams[rotation].append(shown)
    return {rotation: tuple(names) for rotation, names in teams.items()}
