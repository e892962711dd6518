"""The policy file (config models) turned into the domain's terms, once at start."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.policy.routing_rules import grading_rules, route_rules
from config.policy import IntegrationConfig, PolicyError, PolicyFile, format_problem
from config.sections.escalation import EscalationPolicyConfig
from escalation.heartbeats import HeartbeatSpec
from escalation.model import LevelSpec, RouteDecision
from escalation.noise.flapping import FlapRule
from escalation.noise.grouping import GroupRule
from escalation.policy import EscalationPolicy, OnTimeout, Target, TargetKind, Tier
from escalation.sources import FORMATS, PARSERS, Parser
from escalation.sources.template import TemplateSpecError, integration_parser
from storage.intake.ingest import IngestRules
from storage.intake.noise_ingest import NoiseRules


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


def noise_rules(policy: PolicyFile) -> NoiseRules:
    """Grouping per route (its own group_by/group_window, else the defaults) and flapping."""
    groupings = [
        GroupRule(
            group_by=tuple(route.group_by),
            window_seconds=policy.grouping.window
            if route.group_window is None
            else route.group_window,
        )
        for route in (*policy.routes, policy.default_route)
    ]
    flapping = policy.flapping
    return NoiseRules(
        group_rule=lambda index: groupings[-1 if index is None else index],
        flapping=FlapRule(flapping.fires, flapping.window) if flapping is not None else None,
    )


def heartbeat_specs(policy: PolicyFile) -> dict[str, HeartbeatSpec]:
    """The policy file's heartbeats in domain terms; a routed one tells time in its team's
    zone, any other in UTC."""
    zones = {name: team.timezone for name, team in policy.teams.items()}
    specs: dict[str, HeartbeatSpec] = {}
    for beat in policy.heartbeats:
        route = beat.route
        specs[beat.name] = HeartbeatSpec(
            name=beat.name,
            interval_seconds=beat.interval,
            grace_seconds=beat.grace,
            level=beat.level,
            integrations=tuple(beat.integrations),
            route=None
            if route is None
            else RouteDecision(
                team=route.team, channel=route.channel, policy=route.policy, route_index=None
            ),
            alertname=beat.alertname,
            labels=dict(beat.labels),
            timezone="UTC" if route is None else zones.get(route.team, "UTC"),
        )
    return specs


def integration_parsers(policy: PolicyFile) -> dict[str, Parser]:
    """The parsers of the integrations that map bodies with their own template; a mapping
    that does not compile (a policy read without the check, bot.policy.policy_file) is
    refused naming every place."""
    parsers: dict[str, Parser] = {}
    problems: list[str] = []
    for index, integration in enumerate(policy.integrations):
        if integration.template is None:
            continue
        try:
            parsers[integration.name] = integration_parser(
                integration.template.model_dump(), integration=integration.name
            )
        except TemplateSpecError as exc:
            problems += [f"integrations[{index}].{place}: {what}" for place, what in exc.problems]
    if problems:
        raise PolicyError(Path("<policy>"), problems)
    return parsers


def build_rules(policy: PolicyFile) -> Rules:
    unknown = [
        f'integrations[{index}].format: "{integration.format}": {problem}'
        for index, integration in enumerate(policy.integrations)
        if (problem := format_problem(integration.format, FORMATS)) is not None
    ]
    if unknown:  # a policy read without the registry's formats (bot.policy.policy_file)
        raise PolicyError(Path("<policy>"), unknown)
    own_parsers = integration_parsers(policy)
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
    grading = grading_rules(policy)
    routes = route_rules(policy)
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
        noise=noise_rules(policy),
        level_names={number: spec.name for number, spec in levels.items()},
        heartbeats=heartbeat_specs(policy),
        integration_parsers=own_parsers,
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
