"""People and rotations from the policy file: who is on call, who may approve."""

from __future__ import annotations

from collections.abc import Mapping
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
        self.reload(policy)

    def reload(self, policy: PolicyFile) -> None:
        """Answer from ``policy`` from now on (a reloaded policy file)."""
        self.rotations: Mapping[str, Rotation] = {
            name: rotation_of(name, config) for name, config in policy.rotations.items()
        }
        self._roles = {user: set(p.roles) for user, p in policy.people.items()}
        self._names = {user: p.name for user, p in policy.people.items()}
        self.teams_defined = bool(policy.teams)
        teams: dict[str, set[str]] = {}
        for team, config in policy.teams.items():
            for member in config.members:
                teams.setdefault(member, set()).add(team)
        self._teams = teams

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
