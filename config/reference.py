"""The policy file reference, generated from the models so the documentation cannot drift.

``tocsin config reference`` prints it; the README carries a copy that a test keeps equal.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from config.policy import (
    IntegrationConfig,
    LevelConfig,
    PersonConfig,
    PolicyFile,
    RouteConfig,
    RouteTarget,
    SourceName,
    TeamConfig,
)
from config.sections.escalation import (
    EscalationPolicyConfig,
    IcalConfig,
    OverrideConfig,
    RotationConfig,
    TargetConfig,
    TierConfig,
    WebhookConfig,
)
from config.sections.grading import BandConfig, GradingMatch, GradingRuleConfig
from config.sections.heartbeats import HeartbeatConfig, HeartbeatRouteConfig
from config.sections.limits import AccessConfig, RateLimitConfig
from config.sections.noise import FlappingConfig, GroupingConfig
from config.sections.record import FollowUpConfig, LastTimeConfig
from config.sections.review import DigestConfig, ReviewConfig
from config.sections.routing import TimeWindowConfig
from config.sections.storm import StormConfig
from config.sections.template import LinkTemplateConfig, TemplateConfig

SECTIONS: tuple[tuple[str, type[BaseModel]], ...] = (
    ("top level", PolicyFile),
    ("levels.<1|2|3>", LevelConfig),
    ("integrations[]", IntegrationConfig),
    ("integrations[].template", TemplateConfig),
    ("integrations[].template.links[]", LinkTemplateConfig),
    ("grading[]", GradingRuleConfig),
    ("grading[].match", GradingMatch),
    ("grading[].bands[]", BandConfig),
    ("routes[]", RouteConfig),
    ("routes[].when[]", TimeWindowConfig),
    ("default_route", RouteTarget),
    ("teams.<id>", TeamConfig),
    ("teams.<id>.digest", DigestConfig),
    ("people.<user id>", PersonConfig),
    ("policies.<name>", EscalationPolicyConfig),
    ("policies.<name>.tiers[]", TierConfig),
    ("policies.<name>.tiers[].notify[]", TargetConfig),
    ("rotations.<name>", RotationConfig),
    ("rotations.<name>.ical", IcalConfig),
    ("rotations.<name>.overrides[]", OverrideConfig),
    ("webhooks.<name>", WebhookConfig),
    ("rate_limit", RateLimitConfig),
    ("access", AccessConfig),
    ("last_time", LastTimeConfig),
    ("follow_ups", FollowUpConfig),
    ("review", ReviewConfig),
    ("storm", StormConfig),
    ("grouping", GroupingConfig),
    ("flapping", FlappingConfig),
    ("heartbeats[]", HeartbeatConfig),
    ("heartbeats[].route", HeartbeatRouteConfig),
)
DURATION_FIELDS = {
    "ack_within",
    "resolve_within",
    "after",
    "repeat_after",
    "approval_timeout",
    "remind_every",
    "timeout",
    "calm_for",
    "summary_every",
    "group_window",
    "window",
    "interval",
    "grace",
    "refresh",
}
PERCENT_FIELDS = {"from_", "to"}


def _type_name(annotation: Any, field: str) -> str:
    if field in DURATION_FIELDS:
        return "duration"
    if field in PERCENT_FIELDS:
        return "percentage"
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0], field)
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a, field) for a in args if a is not type(None)]
        return " or ".join(dict.fromkeys(names))
    if origin is typing.Literal:
        return " \\| ".join(str(a) for a in args)
    if origin is list:
        return f"list of {_type_name(args[0], field)}"
    if origin is dict:
        return f"map of {_type_name(args[1], field)}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "mapping"
    return getattr(annotation, "__name__", str(annotation))


def _default(info: Any) -> str:
    if info.is_required():
        return "**required**"
    if info.default_factory is not None:
        value = info.default_factory()
        if isinstance(value, BaseModel):
            return "see its section"
        if isinstance(value, dict) and value:
            return "`" + ", ".join(value) + "` (empty)"
        if isinstance(value, BaseModel):
            return "see below"
        return f"`{value!r}`"
    if info.default is None or info.default is PydanticUndefined:
        return "—"
    if info.default == "":
        return '`""`'
    return f"`{info.default}`"


def policy_reference() -> str:
    """Markdown tables: one per section of the policy file."""
    parts: list[str] = []
    for title, model in SECTIONS:
        parts.append(f"#### `{title}`\n")
        parts.append("| key | type | default | meaning |\n|---|---|---|---|")
        for name, info in model.model_fields.items():
            kind = _type_name(info.annotation, name)
            if any(isinstance(meta, SourceName) for meta in info.metadata):
                kind = "source name"  # listed in the README's Webhooks section
            meaning = " ".join((info.description or "").split()).replace("|", "\\|")
            key = info.alias or name
            parts.append(f"| `{key}` | {kind} | {_default(info)} | {meaning} |")
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def environment_reference() -> str:
    """The environment variables, as a Markdown table generated from :class:`Settings`."""
    from config.settings import EXAMPLE_POLICY, Settings

    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, info in Settings.model_fields.items():
        default = info.default
        if default is None:
            shown = "unset"
        elif default == EXAMPLE_POLICY:
            shown = "`config/example.yaml`"
        elif isinstance(default, bool):
            shown = f"`{str(default).lower()}`"
        elif isinstance(default, float):
            shown = f"`{default:g}`"
        else:
            shown = f"`{default}`"
        meaning = " ".join((info.description or "").split())
        rows.append(f"| `{info.alias or name.upper()}` | {shown} | {meaning} |")
    return "\n".join(rows) + "\n"
