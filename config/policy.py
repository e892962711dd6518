"""The policy file: levels, integrations, grading, routes, teams, people, root causes.

Loaded from YAML and validated into typed models. Every problem is reported with its line
and exact place in the file (``line 40: routes[2].channel: is required``) and stops start-up.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Annotated, Literal, Self

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from config.durations import parse_duration
from config.person_names import person_problem
from config.places import item, join, load_with_lines, with_line
from config.problems import Problems, describe
from config.sections.escalation import EscalationPolicyConfig, RotationConfig, WebhookConfig
from config.sections.grading import GradingRuleConfig, grading_problems
from config.sections.heartbeats import CHANNEL, CHANNEL_PROBLEM, HeartbeatConfig
from config.sections.limits import AccessConfig, RateLimitConfig
from config.sections.matching import MatchValue
from config.sections.noise import LABEL_NAME, FlappingConfig, GroupingConfig
from config.sections.record import FollowUpConfig, LastTimeConfig
from config.sections.review import DigestConfig, ReviewConfig
from config.sections.routing import RouteExtras
from config.sections.storm import StormConfig
from config.sections.template import TEMPLATE_CHECK_CONTEXT, TemplateCheck, TemplateConfig

Duration = Annotated[int, BeforeValidator(parse_duration)]
FORMATS_CONTEXT = "source_formats"
"""The validation context key holding the formats the source registry knows: ``config``
imports nothing of the project, so the caller (bot.policy.policy_file) passes them in."""


class SourceName:
    """Marks a field naming a source format (config.reference lists the known ones)."""


def format_problem(value: str, formats: Collection[str]) -> str | None:
    """What is wrong with ``value`` as an integration's format, or ``None``."""
    return None if value in formats else f"must be one of {_or_list(sorted(formats))}"


def _known_format(value: str, info: ValidationInfo) -> str:
    formats = (info.context or {}).get(FORMATS_CONTEXT)
    problem = None if formats is None else format_problem(value, formats)
    if problem is not None:
        raise ValueError(problem)
    return value


def _or_list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


SourceFormat = Annotated[
    str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$"), AfterValidator(_known_format), SourceName()
]
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class LevelConfig(_Strict):
    name: str = Field(min_length=1, max_length=40)
    """What the level is called on warnings (e.g. critical)."""
    emoji: str = Field(default="", max_length=60)
    """Slack emoji shown before the name."""
    ack_within: Duration | None = None
    """How soon someone should acknowledge, counted from when the alert fired: an
    unacknowledged warning says "Acknowledge within 5 min — by 14:05"; used in the review."""
    resolve_within: Duration | None = None
    """How long an owner has to resolve before escalation resumes."""


SIGNED_FORMATS = ("grafana", "sentry")
"""The formats whose senders sign their requests with a shared secret (``hmac_secret``)."""
SENTRY_SIGNATURE_HEADER = "Sentry-Hook-Signature"
TEMPLATE_FORMAT = "template"
"""The format whose integrations map any JSON body with their own ``template``."""


class IntegrationConfig(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    """The path: monitoring tools post to /webhooks/<name>."""
    format: SourceFormat
    """Payload format: one of the formats listed under Webhooks."""
    token: str = Field(min_length=8)
    """Bearer token the tool must send; literal or ${ENV_VAR}. PagerDuty senders may send it
    as the body's routing_key instead."""
    rate_limit: RateLimitConfig | None = None
    """Requests this integration may post (default: the top-level rate_limit)."""
    hmac_secret: str | None = Field(default=None, min_length=8)
    """Grafana and Sentry only: the contact point's HMAC secret (Sentry: the integration's
    client secret); every request must then carry a valid signature."""
    signature_header: str = Field(
        default="X-Grafana-Alerting-Signature", pattern=r"^[A-Za-z0-9-]{1,64}$"
    )
    """Grafana and Sentry only: the header holding the signature (hex HMAC-SHA256 of the
    body); for format sentry the default is Sentry-Hook-Signature."""
    timestamp_header: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]{1,64}$")
    """Grafana only: the contact point's timestamp header; the signature then covers
    "timestamp:body" and requests more than 5 minutes off are refused."""
    template: TemplateConfig | None = None
    """Format template only (and required there): how a body becomes alerts — Jinja2
    templates and expressions for title, status, fingerprint, labels, links, …"""

    @model_validator(mode="before")
    @classmethod
    def _sentry_signature_header(cls, data: object) -> object:
        if (
            isinstance(data, Mapping)
            and data.get("format") == "sentry"
            and data.get("signature_header") is None
        ):
            return {**data, "signature_header": SENTRY_SIGNATURE_HEADER}
        return data

    @model_validator(mode="after")
    def _signed_formats_only(self) -> Self:
        if self.format not in SIGNED_FORMATS and self.hmac_secret is not None:
            raise ValueError("hmac_secret applies only to formats grafana and sentry")
        if self.format != "grafana" and self.timestamp_header is not None:
            raise ValueError("timestamp_header applies only to format grafana")
        if self.timestamp_header is not None and self.hmac_secret is None:
            raise ValueError("timestamp_header needs hmac_secret")
        if self.format == TEMPLATE_FORMAT and self.template is None:
            raise ValueError("format template needs a template: mapping (with a title at least)")
        if self.format != TEMPLATE_FORMAT and self.template is not None:
            raise ValueError("template applies only to format template")
        return self


class RouteTarget(_Strict):
    team: str
    """Team that owns the alert (a key of teams when teams are defined)."""
    channel: str
    """Channel for the warning: #name or a channel id."""
    policy: str = "default"
    """Escalation policy (a key of policies)."""
    group_by: list[Annotated[str, Field(pattern=LABEL_NAME)]] = Field(default_factory=list)
    """Labels whose values form the group key (default: the source's, e.g. groupKey)."""
    group_window: Duration | None = None
    """How long after a group's first alert others join it (default: grouping.window)."""

    @field_validator("channel")
    @classmethod
    def _channel(cls, channel: str) -> str:
        if not CHANNEL.match(channel):
            raise ValueError(CHANNEL_PROBLEM)
        return channel


class RouteConfig(RouteExtras, RouteTarget):
    match: dict[str, MatchValue] = Field(default_factory=dict)
    """Label values (or category/source/severity/level/metric) that must all be equal; a list
    of values: any of them."""


class TeamConfig(_Strict):
    name: str | None = None
    """Display name."""
    channel: str | None = None
    """The team's channel."""
    timezone: str = "UTC"
    """IANA time zone (snooze until tomorrow 09:00, reports)."""
    members: list[str] = Field(default_factory=list)
    """People: Slack user ids or email addresses."""
    digest: DigestConfig | None = None
    """Weekly review digest posted to the team's channel (off when not set)."""

    @field_validator("members")
    @classmethod
    def _slack_ids(cls, members: list[str]) -> list[str]:
        for member in members:
            problem = person_problem(member)
            if problem is not None:
                raise ValueError(problem)
        return members


Role = Literal["responder", "approver", "admin"]


def _responder() -> list[Role]:
    return ["responder"]


class PersonConfig(_Strict):
    name: str
    """Display name."""
    roles: list[Role] = Field(default_factory=_responder)
    """responder, approver and/or admin (admins may approve anything)."""


DEFAULT_ROOT_CAUSES = (
    "hardware",
    "software change",
    "capacity",
    "third party",
    "data error",
    "human error",
    "unknown",
)


class PolicyFile(_Strict):
    levels: dict[Literal[1, 2, 3], LevelConfig]
    """The three graded warning levels, 1 (major) to 3 (minor)."""
    default_level: Annotated[int, Field(ge=1, le=3)] = 3
    """Level for alerts no grading rule matches."""
    integrations: list[IntegrationConfig] = Field(min_length=1)
    """Where monitoring tools post."""
    grading: list[GradingRuleConfig] = Field(default_factory=list)
    """Rules turning source words and metric deviations into levels; first match wins."""
    routes: list[RouteConfig] = Field(default_factory=list)
    """Where alerts go; first match wins."""
    default_route: RouteTarget
    """Where alerts go when no route matches."""
    teams: dict[str, TeamConfig] = Field(default_factory=dict)
    """Teams by id."""
    people: dict[str, PersonConfig] = Field(default_factory=dict)
    """People (Slack user ids or email addresses) → names and roles."""
    root_causes: list[str] = Field(default_factory=lambda: list(DEFAULT_ROOT_CAUSES), min_length=1)
    """Categories offered when resolving."""
    policies: dict[str, EscalationPolicyConfig] = Field(
        default_factory=lambda: {"default": EscalationPolicyConfig()}
    )
    """Escalation policies by name."""
    rotations: dict[str, RotationConfig] = Field(default_factory=dict)
    """On-call rotations by name."""
    webhooks: dict[str, WebhookConfig] = Field(default_factory=dict)
    """Outbound webhooks a tier can page, by name."""
    rate_limit: RateLimitConfig = Field(default_factory=RateLimitConfig)
    """Default webhook rate limit of each integration (per replica); over it: 429."""
    access: AccessConfig = Field(default_factory=AccessConfig)
    """Who may act on alerts."""
    last_time: LastTimeConfig = Field(default_factory=LastTimeConfig)
    """How the warning finds earlier firings of the same problem ("last time")."""
    follow_ups: FollowUpConfig = Field(default_factory=FollowUpConfig)
    """When follow-ups taken on at resolution are due and how often their owners are reminded."""
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    """Reports and the review page: night, weekend, flapping."""
    storm: StormConfig = Field(default_factory=StormConfig)
    """When a flood of alerts in one channel is rolled up into one storm summary."""
    grouping: GroupingConfig = Field(default_factory=GroupingConfig)
    """Defaults for grouping alerts into one warning."""
    flapping: FlappingConfig | None = Field(default_factory=FlappingConfig)
    """Flapping detection (null turns it off)."""
    heartbeats: list[HeartbeatConfig] = Field(default_factory=list)
    """Senders that must ping Tocsin regularly; silence opens an alert (dead man's switch)."""

    @field_validator("levels")
    @classmethod
    def _all_levels(cls, levels: dict[int, LevelConfig]) -> dict[int, LevelConfig]:
        missing = sorted({1, 2, 3} - set(levels))
        if missing:
            raise ValueError(f"levels {missing} are missing; define 1, 2 and 3")
        return levels

    @model_validator(mode="after")
    def _references(self) -> Self:
        problems: list[str] = []
        names = [i.name for i in self.integrations]
        for index, name in enumerate(names):
            if name in names[:index]:
                problems.append(f'integrations[{index}].name: "{name}" is defined twice')
        targets: list[tuple[str, RouteTarget]] = [("default_route", self.default_route)]
        targets += [(f"routes[{i}]", r) for i, r in enumerate(self.routes)]
        for where, target in targets:
            if target.policy not in self.policies:
                problems.append(f'{where}.policy: "{target.policy}" is not in policies')
            if self.teams and target.team not in self.teams:
                problems.append(f'{where}.team: "{target.team}" is not in teams')
        for name, policy in self.policies.items():
            for t, tier in enumerate(policy.tiers):
                for n, notify in enumerate(tier.notify):
                    at = f"policies.{name}.tiers[{t}].notify[{n}]"
                    if notify.oncall is not None and notify.oncall not in self.rotations:
                        problems.append(f'{at}.oncall: "{notify.oncall}" is not in rotations')
                    if notify.webhook is not None and notify.webhook not in self.webhooks:
                        problems.append(f'{at}.webhook: "{notify.webhook}" is not in webhooks')
        for name, team in self.teams.items():
            if team.digest is not None and (team.digest.channel or team.channel) is None:
                problems.append(f"teams.{name}.digest.channel: is required (the team has none)")
        problems += grading_problems(self.grading)
        problems += self._heartbeat_problems(names)
        for person in self.people:
            if (problem := person_problem(person)) is not None:
                problems.append(f"people.{person}: {problem}")
        if problems:
            raise Problems(problems)
        return self

    def _heartbeat_problems(self, integrations: list[str]) -> list[str]:
        problems: list[str] = []
        seen: set[str] = set()
        for index, beat in enumerate(self.heartbeats):
            at = f"heartbeats[{index}]"
            if beat.name in seen:
                problems.append(f'{at}.name: "{beat.name}" is defined twice')
            seen.add(beat.name)
            for n, name in enumerate(beat.integrations):
                if name not in integrations:
                    problems.append(f'{at}.integrations[{n}]: "{name}" is not in integrations')
            route = beat.route
            if route is not None and route.policy not in self.policies:
                problems.append(f'{at}.route.policy: "{route.policy}" is not in policies')
            if route is not None and self.teams and route.team not in self.teams:
                problems.append(f'{at}.route.team: "{route.team}" is not in teams')
        return problems


class PolicyError(Exception):
    """The policy file cannot be used. ``problems`` are lines like ``line 12: place: what is
    wrong`` (without ``line N:`` where the file has no such place, e.g. a missing section)."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{path}: {len(problems)} problem(s) in the policy file:\n{lines}")


def load_policy(
    path: Path,
    *,
    env: Mapping[str, str],
    formats: Collection[str] | None = None,
    template_check: TemplateCheck | None = None,
) -> PolicyFile:
    """Read, expand ``${VAR}`` references from ``env``, and validate the policy file.

    ``formats``: the source formats an integration may name (``None``: any well-formed
    name; the service passes the source registry's, bot.policy.policy_file);
    ``template_check``: what checks a template mapping's templates and expressions."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(path, [f"cannot read the file: {exc.strerror or exc}"]) from exc
    return parse_policy(text, env=env, path=path, formats=formats, template_check=template_check)


def parse_policy(
    text: str,
    *,
    env: Mapping[str, str],
    path: Path = Path("<policy>"),
    formats: Collection[str] | None = None,
    template_check: TemplateCheck | None = None,
) -> PolicyFile:
    """Validate the policy file's text; every problem names its line and place (``formats``:
    the source formats the service knows, when it checks them; ``template_check``: the
    check of template mappings)."""
    try:
        raw, lines = load_with_lines(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        # ``from None``: the YAML error quotes the offending line, which may hold a token.
        raise PolicyError(path, [f"{where}not valid YAML ({problem})"]) from None
    if not isinstance(raw, dict):
        raise PolicyError(path, ["the file must be a mapping (levels:, integrations:, …)"])
    problems: list[str] = []
    expanded = _expand(raw, env, "", problems)
    if problems:
        raise PolicyError(path, [with_line(p, lines) for p in problems])
    try:
        context: dict[str, object] = {}
        if formats is not None:
            context[FORMATS_CONTEXT] = frozenset(formats)
        if template_check is not None:
            context[TEMPLATE_CHECK_CONTEXT] = template_check
        return PolicyFile.model_validate(expanded, context=context or None)
    except ValidationError as exc:
        # ``from None``: pydantic's own message echoes every input, tokens included.
        found = [p for err in exc.errors() for p in describe(err, model=PolicyFile)]
        raise PolicyError(path, [with_line(p, lines) for p in found]) from None


def _expand(node: object, env: Mapping[str, str], where: str, problems: list[str]) -> object:
    if isinstance(node, str):

        def sub(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                problems.append(f"{where}: environment variable {name} is not set")
                return ""
            return env[name]

        return _ENV_REF.sub(sub, node)
    if isinstance(node, dict):
        return {k: _expand(v, env, join(where, k), problems) for k, v in node.items()}
    if isinstance(node, list):
        return [_expand(v, env, item(where, i), problems) for i, v in enumerate(node)]
    return node
