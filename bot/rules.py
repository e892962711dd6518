"""The policy file (config models) turned into the domain's terms, once at start."""

from __future__ import annotations

from dataclasses import dataclass

from config.policy import IntegrationConfig, PolicyFile
from escalation.grading import GradingRule
from escalation.model import LevelSpec, RouteDecision
from escalation.routing import Route
from escalation.sources import PARSERS
from storage.ingest import IngestRules


@dataclass(frozen=True, slots=True)
class Rules:
    ingest: IngestRules
    levels: dict[int, LevelSpec]
    integrations: dict[str, IntegrationConfig]
    root_causes: tuple[str, ...]


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
    ingest = IngestRules(
        parsers=PARSERS,
        grading=grading,
        default_level=policy.default_level,
        routes=routes,
        fallback=fallback,
    )
    return Rules(
        ingest=ingest,
        levels=levels,
        integrations={i.name: i for i in policy.integrations},
        root_causes=tuple(policy.root_causes),
    )
