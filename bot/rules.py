"""The policy file (config models) turned into the domain's terms, once at start."""

from __future__ import annotations

from dataclasses import dataclass, field

from config.escalation import EscalationPolicyConfig
from config.policy import IntegrationConfig, PolicyFile
from escalation.grading import GradingRule
from escalation.model import LevelSpec, RouteDecision
from escalation.policy import EscalationPolicy, OnTimeout, Target, TargetKind, Tier
from escalation.routing import Route
from escalation.sources import PARSERS
from storage.ingest import IngestRules


@dataclass(frozen=True, slots=True)
class Rules:
    ingest: IngestRules
    levels: dict[int, LevelSpec]
    integrations: dict[str, IntegrationConfig]
    root_causes: tuple[str, ...]
    policies: dict[str, EscalationPolicyConfig]
    team_timezones: dict[str, str]
    follow_up_due_time: str = "09:00"
    follow_up_every_seconds: int = 86400
    last_time_days: int = 30
    team_members: dict[str, frozenset[str]] = field(default_factory=dict)
    """Teams that list their members; anyone may add notes to other teams' alerts."""

    def timezone_of(self, team: str) -> str:
        return self.team_timezones.get(team, "UTC")

    def policy_for(self, name: str, level: int) -> EscalationPolicy:
        return escalation_policy(name, self.policies[name], self.levels.get(level))


def escalation_policy(
    name: str, config: EscalationPolicyConfig, level: LevelSpec | None
) -> EscalationPolicy:
    """A policy of the file in domain terms, with the level's deadlines merged in."""
    return EscalationPolicy(
        name=name,
        tiers=tuple(
            Tier(
                targets=tuple(Target(TargetKind(t.kind), t.ref) for t in tier.notify),
                after_seconds=tier.after,
                requires_approval=tier.requires_approval,
            )
            for tier in config.tiers
        ),
        repeat=config.repeat,
        repeat_after_seconds=config.repeat_after,
        approvers=tuple(config.approvers),
        approval_timeout_seconds=config.approval_timeout,
        on_timeout=OnTimeout(config.on_timeout),
        ack_within_seconds=level.ack_within_seconds if level else None,
        resolve_within_seconds=level.resolve_within_seconds if level else None,
        remind_every_seconds=config.remind_every,
        stand_down_needs_approval=config.stand_down_needs_approval
        and level is not None
        and level.number == 1,
    )


def build_rules(policy: PolicyFile) -> Rules:
    levels: dict[int, LevelSpec] = {
        int(number): LevelSpec(
            number=number,
            name=spec.name,
            emoji=spec.emoji,
            ack_within_seconds=spec.ack_within,
            resolve_within_seconds=spec.resolve_within,
        )
        for number, spec in policy.levels.items()
    }
    grading = [
        GradingRule(
            level=rule.level,
            severities=frozenset(s.lower() for s in rule.match.severity),
            labels=dict(rule.match.labels),
            categories=frozenset(c.lower() for c in rule.match.category),
        )
        for rule in policy.grading
    ]
    routes = [
        Route(team=r.team, channel=r.channel, policy=r.policy, match=dict(r.match))
        for r in policy.routes
    ]
    fallback = RouteDecision(
        team=policy.default_route.team,
        channel=policy.default_route.channel,
        policy=policy.default_route.policy,
        route_index=None,
    )
    policies = dict(policy.policies)

    def policy_for(name: str, level: int) -> EscalationPolicy:
        return escalation_policy(name, policies[name], levels.get(level))

    ingest = IngestRules(
        parsers=PARSERS,
        grading=grading,
        default_level=policy.default_level,
        routes=routes,
        fallback=fallback,
        policy_for=policy_for,
        key_labels=tuple(policy.last_time.key_labels),
    )
    return Rules(
        ingest=ingest,
        levels=levels,
        integrations={i.name: i for i in policy.integrations},
        root_causes=tuple(policy.root_causes),
        policies=policies,
        team_timezones={name: team.timezone for name, team in policy.teams.items()},
        follow_up_due_time=policy.follow_ups.due_time,
        follow_up_every_seconds=policy.follow_ups.remind_every,
        last_time_days=max(policy.last_time.window // 86400, 1),
        team_members={
            name: frozenset(team.members) for name, team in policy.teams.items() if team.members
        },
    )
