"""Who may manage which silences: admins any; others those of their own teams.

A silence belongs to one team (``None``: every team). Without teams in the policy file,
membership is unknown and anyone may manage any silence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from escalation.noise.label_matchers import Matcher, Op


@dataclass(frozen=True, slots=True)
class Person:
    user: str
    teams: frozenset[str]
    admin: bool
    teams_defined: bool


class Refused(Exception):
    """Not allowed; ``message`` is fit to show the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def team_for_new_silence(person: Person, matchers: Sequence[Matcher]) -> str | None:
    """The team a new silence belongs to: a ``team=…`` matcher's, else the person's only
    team; ``None`` (every team) for an admin in no team. :class:`Refused` otherwise."""
    named = [m.value for m in matchers if m.name == "team" and m.op is Op.EQUAL]
    if len(named) > 1:
        raise Refused("Give at most one `team=` matcher.")
    if named:
        may_manage(person, named[0], what=f"silence team {named[0]}'s alerts")
        return named[0]
    if not person.teams_defined:
        return None
    if len(person.teams) == 1:
        return next(iter(person.teams))
    if person.teams:
        teams = ", ".join(sorted(person.teams))
        raise Refused(f"You are in several teams ({teams}): add `team=<id>` to say whose alerts.")
    if person.admin:
        return None
    raise Refused(
        "You are in no team, and only admins may silence every team's alerts: "
        "add `team=<id>` of your team, or ask an admin."
    )


def may_manage(person: Person, team: str | None, *, what: str) -> None:
    """Raise :class:`Refused` unless ``person`` may manage silences of ``team``."""
    if person.admin or not person.teams_defined:
        return
    if team is None:
        raise Refused(f"Only admins may {what}: it covers every team.")
    if team not in person.teams:
        raise Refused(f"Only members of team {team} (and admins) may {what}.")
