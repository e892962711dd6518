"""People and rotations from the policy file: who is on call, who may approve.

Rotations fed by a calendar change while Tocsin runs (bot.schedule.calendar_rotations), and
overrides kept in the database (made from Slack) are layered on top of the policy file's with
:meth:`PolicyDirectory.use_stored_overrides` (bot.policy.stored_overrides reads them and calls
it before every on-call resolution: a page, a hand-off notice, ``/tocsin oncall``).
``rotations`` is a live view of both, so whoever asks at page time sees the latest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta

from config.policy import PolicyFile
from config.sections.escalation import RotationConfig
from escalation.calendar import CalendarSlot
from escalation.oncall import Override, Rotation, Shift, on_call

_NO_ANCHOR = date(1970, 1, 1)


def rotation_of(
    name: str, config: RotationConfig, *, calendar: tuple[CalendarSlot, ...] = ()
) -> Rotation:
    """The rotation; one fed by a calendar gets ``calendar``'s shifts (none: the fallback
    holds all the time) and its fallback as ``members[0]``."""
    shift = config.shift if isinstance(config.shift, str) else timedelta(seconds=config.shift)
    members = tuple(config.members)
    if config.ical is not None:
        named = [config.fallback or "", *config.people.values(), *(s.user for s in calendar)]
        members = tuple(dict.fromkeys(named))
    return Rotation(
        name=name,
        members=members,
        timezone=config.timezone,
        handoff=config.handoff_time(),
        shift=shift,
        anchor=config.start or _NO_ANCHOR,
        handoff_weekday=config.handoff_weekday,
        overrides=tuple(
            Override(user=o.user, start=o.start, end=o.end, covers=o.covers)
            for o in config.overrides
        ),
        calendar=calendar if config.ical is not None else None,
    )


class LiveRotations(Mapping[str, Rotation]):
    """The policy's rotations, with calendar-fed ones taken from ``current()`` as they are now,
    and the ``stored`` overrides (per rotation, oldest first) after each rotation's own."""

    def __init__(
        self,
        fixed: Mapping[str, Rotation],
        current: Callable[[], Mapping[str, Rotation]] | None = None,
        stored: Mapping[str, Sequence[Override]] | None = None,
    ) -> None:
        self._fixed = dict(fixed)
        self._current = current
        self._stored = stored or {}

    def __getitem__(self, name: str) -> Rotation:
        found = self._current().get(name) if self._current is not None else None
        rotation = found if found is not None else self._fixed[name]
        extra = self._stored.get(name)
        return replace(rotation, overrides=rotation.overrides + tuple(extra)) if extra else rotation

    def __iter__(self) -> Iterator[str]:
        return iter(self._fixed)

    def __len__(self) -> int:
        return len(self._fixed)


class PolicyDirectory:
    """Implements :class:`escalation.ports.Directory` over the policy file."""

    def __init__(
        self,
        policy: PolicyFile,
        *,
        calendars: Callable[[], Mapping[str, Rotation]] | None = None,
    ) -> None:
        self._calendars = calendars
        self._stored: Mapping[str, Sequence[Override]] = {}
        self.reload(policy)

    def reload(self, policy: PolicyFile) -> None:
        """Answer from ``policy`` from now on (a reloaded policy file); the stored overrides
        layered last stay layered on the new rotations."""
        self._fixed = {name: rotation_of(name, config) for name, config in policy.rotations.items()}
        self.policy_rotations: Mapping[str, Rotation] = LiveRotations(self._fixed, self._calendars)
        """The rotations as the policy file (and its calendars) make them, without the stored
        overrides."""
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
        self.rotations: Mapping[str, Rotation] = LiveRotations(self._fixed, self._calendars, stored)
        """The rotations with the stored overrides after their own."""

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
