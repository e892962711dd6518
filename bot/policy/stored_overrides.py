"""The seam through which overrides kept in the database reach on-call resolution.

Alerts in flight keep their policy snapshot (tiers and targets, stored with the alert), but a
target ``oncall: <rotation>`` names a rotation, not a person: who that is gets resolved when
the page is written, through the live :class:`~bot.policy.directory.PolicyDirectory`. So the
stored overrides are layered into that directory, read fresh from the database before each
resolution — :meth:`StoredOverrides.refresh` runs before every escalation drain (pages from
timers), before every button or command that may page (``escalate``), before each hand-off
check and ``/tocsin oncall``. Every replica reads the same table, so a cover made on one
applies to pages sent by any. The calendar feeds read them through
:meth:`StoredOverrides.since` (bot.schedule.web's ``OverrideSource``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from bot.policy.directory import PolicyDirectory
from bot.runtime.clock import Clock
from config.policy import PolicyFile
from escalation.oncall import Override
from storage.db import Database
from storage.overrides import by_rotation, overrides_ending_after

LOOKBACK = timedelta(days=2)
"""Overrides that ended this long ago are still loaded: a hand-off notice looks at the shift
just before the one starting, and a custom shift may be long."""


class StoredOverrides:
    def __init__(self, *, db: Database, directory: PolicyDirectory, clock: Clock) -> None:
        self.db = db
        self.directory = directory
        self.clock = clock

    async def refresh(self) -> None:
        """Read the overrides in force or to come and layer them into the directory."""
        stored = await overrides_ending_after(self.db, self.clock() - LOOKBACK)
        self.directory.use_stored_overrides(by_rotation(stored))

    async def since(self, past: timedelta) -> Mapping[str, Sequence[Override]]:
        """The stored overrides per rotation that end after ``now - past`` (calendar feeds)."""
        return by_rotation(await overrides_ending_after(self.db, self.clock() - past))


def announce_channels(policy: PolicyFile) -> dict[str, str]:
    """Where each rotation's override changes are posted: the rotation's channel; else the
    channel of the first team (by name) with one of its members; else the default route's."""
    channels: dict[str, str] = {}
    for name, rotation in policy.rotations.items():
        teams = [
            team.channel
            for _, team in sorted(policy.teams.items())
            if team.channel and set(team.members) & set(rotation.members)
        ]
        channels[name] = (
            rotation.channel or (teams[0] if teams else "") or (policy.default_route.channel)
        )
    return channels
