"""The policy file's grading rules and routes turned into the domain's terms."""

from __future__ import annotations

from config.policy import PolicyFile, RouteConfig
from config.sections.grading import BandConfig, GradingRuleConfig
from config.sections.matching import MatcherFields
from config.sections.routing import TimeWindowConfig, day_numbers, span_minutes
from escalation.triage.grading import Band, GradingRule
from escalation.triage.matchers import Matchers
from escalation.triage.routing import Route
from escalation.triage.timewindow import TimeWindow


def _matchers(config: MatcherFields) -> Matchers:
    return Matchers.build(regex=config.match_re, not_equal=config.not_, not_regex=config.not_re)


def _band(band: BandConfig) -> Band:
    return Band(
        low=band.from_, high=band.to, level=None if band.level == "noise" else int(band.level)
    )


def grading_rule(rule: GradingRuleConfig) -> GradingRule:
    return GradingRule(
        level=rule.level,
        severities=frozenset(s.lower() for s in rule.match.severity),
        labels=dict(rule.match.labels),
        categories=frozenset(c.lower() for c in rule.match.category),
        matchers=_matchers(rule),
        metrics=frozenset(rule.metric),
        bands=tuple(_band(b) for b in rule.bands),
    )


def _window(window: TimeWindowConfig, default_zone: str) -> TimeWindow:
    start, end = span_minutes(window.between)
    return TimeWindow(
        days=day_numbers(window.days),
        start_minute=start,
        end_minute=end,
        timezone=window.timezone or default_zone,
    )


def route(config: RouteConfig, *, default_zone: str) -> Route:
    return Route(
        team=config.team,
        channel=config.channel,
        policy=config.policy,
        matchers=Matchers.build(
            equal=config.match,
            regex=config.match_re,
            not_equal=config.not_,
            not_regex=config.not_re,
        ),
        windows=tuple(_window(w, default_zone) for w in config.when),
        continue_=config.continue_,
    )


def grading_rules(policy: PolicyFile) -> list[GradingRule]:
    return [grading_rule(rule) for rule in policy.grading]


def route_rules(policy: PolicyFile) -> list[Route]:
    zones = {name: team.timezone for name, team in policy.teams.items()}
    return [route(r, default_zone=zones.get(r.team, "UTC")) for r in policy.routes]
