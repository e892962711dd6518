"""People and rotations from the policy file: who is on call, who may approve.

Overrides kept in the database (made from Slack) are layered on top of the policy file's
with :meth:`PolicyDirectory.use_stored_overrides`; bot.policy.stored_overrides reads them and
calls it before every on-call resolution (a page, a hand-off notice, ``/tocsin oncall``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from config.policy import PolicyFile
from config.sections.escalation import RotationConfig
from escalation.oncall import Override, Rotation, Shift, on_call


def rotation_of(name: str, config: RotationConfig) -> Rotation:
    shift = config.shift if isinstance(config.shift, str) else timedelta(seconds=config.shift)
    return Rotation(
        name=name,
        members=tuple(config.members),
        timezone=config.timezone,
        handoff=config.handoff_time(),
        shift=shift,
        anchor=config.start,
        handoff_weekday=config.handoff_weekday,
        overrides=tuple(
            Override(user=o.user, start=o.start, end=o.end, covers=o.covers)
            for o in config.overrides
        ),
    )


class PolicyDirectory:
    """Implements :class:`escalation.ports.Directory` over the policy file."""

    def __init__(self, policy: PolicyFile) -> None:
        self._stored: Mapping[str, Sequence[Override]] = {}
        self.reload(policy)

    def reload(self, policy: PolicyFile) -> None:
        """Answer from ``policy`` from now on (a reloaded policy file); the stored overrides
        layered last stay layered on the new rotations."""
        self.policy_rotations: Mapping[str, Rotation] = {
            name: rotation_of(name, config) for name, config in policy.rotations.items()
        }
        self.rotations: Mapping[str, Rotation] = self.policy_rotations
        """The policy file's rotations with the stored overrides after their own."""
        self.use_stored_overrides(self._stored)
        self._roles = {user: set(p.roles) for user, p in policy.people.items()}
        self._names = {user: p.name for user, p in policy.people.items()}
        self.teams_defined = bool(policy.teams)
        teams: dict[str, set[str]] = {}
        for team, config in policy.teams.items():
            for member in config.members:
                teams.setdefault(member, set()).add(team)
        self._teams = teams

    def use_stored_overrides(self, stored: Mapping[str, Sequence[Override]]) -> None:
        """Layer ``stored`` (per rotation, oldest first) after each rotation's own overrides,
        replacing the ones layered before; a later override wins where two overlap."""
        self._stored = stored
        self.rotations = {
            name: replace(rotation, overrides=rotation.overrides + tuple(stored.get(name, ())))
            if stored.get(name)
            else rotation
            for name, rotation in self.policy_rotations.items()
        }

    def on_call(self, rotation: str, *, at: datetime) -> str | None:
        found = self.rotations.get(rotation)
        return on_call(found, at=at).user if found else None

    def shift(self, rotation: str, *, at: datetime) -> Shift | None:
        found = self.rotations.get(rotation)
        return on_call(found, at=at) if found else None

    def has_role(self, user: str, role: str) -> bool:
        return role in self._roles.get(user, set())

    def teams_of(self, user: str) -> frozenset[str]:
        return frozenset(self._teams.get(user, ()))

    def name(self, user: str) -> str:
        return self._names.get(user, user)
