"""Who may act on alerts at all, from the policy file's ``access.responders``.

``listed`` (the default) admits the people the policy file names as able to act: people with
at least one role, team members, rotation members (and their cover), policies' approvers and
user targets. ``anyone`` admits every member of the Slack workspace. Approving stays with the
policy's approvers and admins either way.

Reports show per-person figures: ``/tocsin report`` answers privately whoever may act;
``/tocsin report … in #channel`` (publishing them) is for people with the ``approver`` or
``admin`` role.
"""

from __future__ import annotations

from config.policy import PolicyFile

NOT_LISTED = (
    "You are not among the people this Tocsin lets act on alerts. Ask an admin to add you to "
    "the policy file (people, a team or a rotation)."
)
NOT_PUBLISHER = (
    "Only approvers and admins may post a report in a channel; `/tocsin report` without "
    "`in #channel` shows it to you alone."
)


class AccessPolicy:
    def __init__(self, policy: PolicyFile) -> None:
        self.reload(policy)

    def reload(self, policy: PolicyFile) -> None:
        """Decide from ``policy`` from now on (a reloaded policy file)."""
        self.anyone = policy.access.responders == "anyone"
        known = {user for user, person in policy.people.items() if person.roles}
        for team in policy.teams.values():
            known.update(team.members)
        for rotation in policy.rotations.values():
            known.update(rotation.paged_people)
            known.update(o.user for o in rotation.overrides)
        for escalation in policy.policies.values():
            known.update(escalation.approvers)
            for tier in escalation.tiers:
                known.update(t.user for t in tier.notify if t.user is not None)
        self.listed = frozenset(known)
        self.publishers = frozenset(
            user
            for user, person in policy.people.items()
            if {"approver", "admin"} & set(person.roles)
        )
        self.approvers = self.publishers.union(
            *(escalation.approvers for escalation in policy.policies.values())
        )
        """People with the approver or admin role, and every policy's approvers."""

    def may_act(self, user: str) -> bool:
        return self.anyone or user in self.listed

    def may_read_reports(self, user: str) -> bool:
        """Reports name people and their load: for those who may act on alerts."""
        return self.may_act(user)

    def may_manage_on_call(self, user: str) -> bool:
        """Recording a cover for someone else, cancelling anyone's override: approvers and
        admins (a rotation's members may record covers within it too, bot.slack)."""
        return user in self.approvers

    def may_post_reports(self, user: str) -> bool:
        """Posting a report in a channel shows it to everyone there: approvers and admins."""
        return user in self.publishers
