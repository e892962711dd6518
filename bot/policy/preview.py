"""What a body sent to an integration would become — parsed, graded and routed as intake
does it — without storing or posting anything (``tocsin integration test``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.policy.rules import Rules
from escalation.model import AlertEvent, SourceStatus
from escalation.triage.grading import Grade, Noise, grade
from escalation.triage.routing import Routing, route_all


@dataclass(frozen=True, slots=True)
class Preview:
    """One alert of the body: the event, and for a firing one its grade and route."""

    event: AlertEvent
    grade: Grade | Noise | None = None
    routing: Routing | None = None


def preview(rules: Rules, integration: str, payload: object, *, now: datetime) -> list[Preview]:
    """The alerts ``payload`` becomes at ``integration``; raises the parser's PayloadError
    (the webhook's 422) or ``KeyError`` for an integration the policy does not have."""
    config = rules.integrations[integration]
    ingest = rules.ingest
    previews: list[Preview] = []
    for event in ingest.parser_for(integration, config.format)(payload):
        if event.status is not SourceStatus.FIRING:
            previews.append(Preview(event))
            continue
        graded = grade(event, ingest.grading, default_level=ingest.default_level)
        if isinstance(graded, Noise):
            previews.append(Preview(event, graded))
            continue
        routing = route_all(event, graded.level, ingest.routes, fallback=ingest.fallback, now=now)
        previews.append(Preview(event, graded, routing))
    return previews


def describe(rules: Rules, previews: list[Preview]) -> list[str]:
    """The previews as lines for a terminal."""
    lines: list[str] = []
    for number, each in enumerate(previews, start=1):
        event = each.event
        lines.append(f"alert {number} of {len(previews)}: {event.status.value}")
        lines.append(f"  title:       {event.title}")
        lines.append(f"  fingerprint: {event.fingerprint}")
        lines.append(f"  source:      {event.source}")
        if event.severity is not None:
            lines.append(f"  severity:    {event.severity}")
        if event.category is not None:
            lines.append(f"  category:    {event.category}")
        if isinstance(each.grade, Noise):
            lines.append(f"  dropped as noise: {each.grade.reason}")
        elif each.grade is not None:
            level = each.grade.level
            name = rules.levels[level].name if level in rules.levels else ""
            lines.append(f"  level:       {level} ({name}) — {each.grade.reason}")
        if each.routing is not None:
            where = each.routing.primary
            rule = "default_route" if where.route_index is None else f"routes[{where.route_index}]"
            lines.append(
                f"  route:       team {where.team}, channel {where.channel}, "
                f"policy {where.policy} ({rule})"
            )
            for mirror in each.routing.mirrors:
                lines.append(f"  mirrored to: {mirror.channel} (routes[{mirror.route_index}])")
        elif event.status is SourceStatus.RESOLVED:
            lines.append("  resolves the open alert of this fingerprint (nothing if none is open)")
        elif event.status is SourceStatus.ACKNOWLEDGED:
            lines.append("  acknowledges the open alert of this fingerprint at the source")
        if event.group_key:
            lines.append(f"  group key:   {event.group_key}")
        if event.labels:
            labels = ", ".join(f"{k}={v}" for k, v in sorted(event.labels.items()))
            lines.append(f"  labels:      {labels}")
        for link in event.links:
            lines.append(f"  link:        {link.title} <{link.url}>")
        if event.description:
            first, *more = event.description.splitlines()
            lines.append(f"  description: {first}{' …' if more else ''}")
    return lines
