"""People named by email in the policy file: where they are, and the file with Slack ids.

The file may name a person by Slack user id or by email address wherever it names people
(``people``, team and rotation members, overrides, approvers, ``notify: [{user: …}]``).
The service looks the emails up in Slack (``users.lookupByEmail``) and runs the file with
the ids in their place; an email it cannot find is a problem at each place it is written.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from config.person_names import is_email
from config.places import item, join
from config.policy import PolicyFile
from config.sections.escalation import EscalationPolicyConfig, RotationConfig


def people_places(policy: PolicyFile) -> Iterator[tuple[str, str]]:
    """Every ``(place, person)`` of the file, in file order within each section."""
    for user in policy.people:
        yield join("people", user), user
    for name, team in policy.teams.items():
        for index, member in enumerate(team.members):
            yield item(join(join("teams", name), "members"), index), member
    for name, rotation in policy.rotations.items():
        at = join("rotations", name)
        for index, member in enumerate(rotation.members):
            yield item(join(at, "members"), index), member
        if rotation.fallback is not None:
            yield join(at, "fallback"), rotation.fallback
        for key, person in rotation.people.items():
            yield join(join(at, "people"), key), person
        for index, override in enumerate(rotation.overrides):
            where = item(join(at, "overrides"), index)
            yield join(where, "user"), override.user
            if override.covers is not None:
                yield join(where, "covers"), override.covers
    for name, escalation in policy.policies.items():
        at = join("policies", name)
        for index, approver in enumerate(escalation.approvers):
            yield item(join(at, "approvers"), index), approver
        for t, tier in enumerate(escalation.tiers):
            for n, target in enumerate(tier.notify):
                if target.user is not None:
                    where = item(join(item(join(at, "tiers"), t), "notify"), n)
                    yield join(where, "user"), target.user


def emails_named(policy: PolicyFile) -> dict[str, list[str]]:
    """Each email address the file names → the places it is written."""
    found: dict[str, list[str]] = {}
    for place, person in people_places(policy):
        if is_email(person):
            found.setdefault(person, []).append(place)
    return found


def with_slack_ids(policy: PolicyFile, ids: Mapping[str, str]) -> PolicyFile:
    """``policy`` with each person in ``ids`` (an email → its Slack id) replaced."""
    if not ids:
        return policy

    def sub(person: str) -> str:
        return ids.get(person, person)

    def rotation(config: RotationConfig) -> RotationConfig:
        overrides = [
            o.model_copy(
                update={"user": sub(o.user), "covers": None if o.covers is None else sub(o.covers)}
            )
            for o in config.overrides
        ]
        members = [sub(m) for m in config.members]
        fallback = None if config.fallback is None else sub(config.fallback)
        people = {key: sub(person) for key, person in config.people.items()}
        return config.model_copy(
            update={
                "members": members,
                "overrides": overrides,
                "fallback": fallback,
                "people": people,
            }
        )

    def escalation(config: EscalationPolicyConfig) -> EscalationPolicyConfig:
        tiers = [
            tier.model_copy(
                update={
                    "notify": [
                        t if t.user is None else t.model_copy(update={"user": sub(t.user)})
                        for t in tier.notify
                    ]
                }
            )
            for tier in config.tiers
        ]
        approvers = [sub(a) for a in config.approvers]
        return config.model_copy(update={"tiers": tiers, "approvers": approvers})

    return policy.model_copy(
        update={
            "people": {sub(user): p for user, p in policy.people.items()},
            "teams": {
                name: t.model_copy(update={"members": [sub(m) for m in t.members]})
                for name, t in policy.teams.items()
            },
            "rotations": {name: rotation(r) for name, r in policy.rotations.items()},
            "policies": {name: escalation(p) for name, p in policy.policies.items()},
        }
    )
