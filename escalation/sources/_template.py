"""An integration's template mapping (``format: template``), compiled into a parser.

The policy file's ``template:`` section (config.sections.template) arrives here as a
:class:`TemplateSpec`; :func:`compile_spec` checks every template and expression and gives
the integration's parser. Templates see two variables: ``body`` (the decoded JSON body) and
``alert`` (the element of ``alerts`` being mapped; the body itself when there is no
``alerts``). The evaluation rules are in :mod:`escalation.sources._template_engine`.

At run time a body the mapping cannot read is a :class:`PayloadError` (a 422) naming the
mapping's field and, for a list, the element: ``template.title: alerts[2]: 'dict object'
has no attribute 'host'``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import TemplateError, Undefined
from jinja2.environment import Template, TemplateExpression

from escalation.errors import PayloadError
from escalation.model import AlertEvent, Link, SourceStatus
from escalation.sources._fingerprint import derive_fingerprint, keyed_fingerprint
from escalation.sources._template_engine import (
    compile_expression,
    compile_text,
    describe,
    evaluate,
    render,
)
from escalation.sources._validate import (
    MAX_ALERTS,
    MAX_LABEL_CHARS,
    is_http_url,
    json_type,
    parse_level,
)


@dataclass(frozen=True, slots=True)
class Limits:
    """The most characters each kind of field keeps of what its template renders."""

    title: int = 1000
    short: int = 200
    """severity, level, category, source"""
    long: int = 10_000
    """description, suggested actions, fingerprint key, group key"""
    label: int = MAX_LABEL_CHARS
    url: int = 4096
    link_title: int = 200


LIMITS = Limits()
PLACE = "template"
"""Where the mapping lives in an integration (the first part of every problem's place)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkSpec:
    url: str
    title: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateSpec:
    """The mapping as the policy file writes it: templates (text) and expressions (values).

    Every field but ``title`` is optional; ``alerts`` and ``resolved_when`` are expressions,
    the rest templates."""

    title: str
    alerts: str | None = None
    resolved_when: str | None = None
    fingerprint: str | None = None
    description: str | None = None
    severity: str | None = None
    level: str | None = None
    category: str | None = None
    source: str | None = None
    group_key: str | None = None
    suggested_actions: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    links: tuple[LinkSpec, ...] = ()


EXPRESSION_FIELDS = frozenset({"alerts", "resolved_when"})
"""The fields holding an expression; every other one holds a template."""


def spec_from_mapping(mapping: Mapping[str, Any]) -> TemplateSpec:
    """The spec of the policy file's ``template:`` section as plain data (the config model
    dumped, or a test's dict); ``None`` values are absent fields."""
    given = {key: value for key, value in mapping.items() if value is not None}
    links = tuple(
        LinkSpec(url=link["url"], title=link.get("title")) for link in given.pop("links", ())
    )
    return TemplateSpec(**given, links=links)


class TemplateSpecError(ValueError):
    """The mapping does not compile: ``problems`` are ``(place, problem)``, the place below
    the integration (``template.labels.host``)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{place}: {problem}" for place, problem in problems))


@dataclass(frozen=True, slots=True)
class _Compiled:
    title: Template
    alerts: TemplateExpression | None
    resolved_when: TemplateExpression | None
    texts: Mapping[str, Template]
    labels: Mapping[str, Template]
    links: tuple[tuple[Template, Template | None], ...]


class TemplateParser:
    """The parser of one integration's mapping: the body's events, or a PayloadError."""

    def __init__(self, spec: TemplateSpec, *, default_source: str) -> None:
        self.spec = spec
        self.default_source = default_source
        self._compiled = _compile(spec)

    def __call__(self, payload: object) -> list[AlertEvent]:
        compiled = self._compiled
        if compiled.alerts is None:
            return [self._event(payload, payload, index=None)]
        items = _evaluate(compiled.alerts, {"body": payload}, place=f"{PLACE}.alerts", at=None)
        if not isinstance(items, list | tuple):
            raise PayloadError(
                f"{PLACE}.alerts", f"must give a list of alerts, gave {json_type(items)}"
            )
        if not items:
            raise PayloadError(f"{PLACE}.alerts", "gave an empty list: no alert to take")
        if len(items) > MAX_ALERTS:
            raise PayloadError(
                f"{PLACE}.alerts", f"gave {len(items)} alerts; at most {MAX_ALERTS} are accepted"
            )
        return [self._event(payload, each, index=i) for i, each in enumerate(items)]

    def _event(self, body: object, alert: object, *, index: int | None) -> AlertEvent:
        compiled = self._compiled
        variables = {"body": body, "alert": alert}
        at = None if index is None else f"alerts[{index}]"

        def text(name: str, template: Template, cap: int) -> str:
            return _render(template, variables, cap=cap, place=f"{PLACE}.{name}", at=at)

        def optional(name: str, cap: int) -> str | None:
            template = compiled.texts.get(name)
            return None if template is None else (text(name, template, cap) or None)

        title = text("title", compiled.title, LIMITS.title)
        if not title:
            raise PayloadError(_place(f"{PLACE}.title", at), "rendered empty")
        status = SourceStatus.FIRING
        if compiled.resolved_when is not None:
            resolved = _evaluate(
                compiled.resolved_when, variables, place=f"{PLACE}.resolved_when", at=at
            )
            status = SourceStatus.RESOLVED if resolved else SourceStatus.FIRING
        labels = {
            name: value
            for name, template in compiled.labels.items()
            if (value := text(f"labels.{name}", template, LIMITS.label))
        }
        level_text = optional("level", LIMITS.short)
        level = (
            None
            if level_text is None
            else parse_level(level_text, field=_place(f"{PLACE}.level", at))
        )
        key = optional("fingerprint", LIMITS.long)
        return AlertEvent(
            fingerprint=keyed_fingerprint("template", key)
            if key
            else derive_fingerprint(title=title, labels=labels),
            status=status,
            title=title,
            source=optional("source", LIMITS.short) or self.default_source,
            description=optional("description", LIMITS.long) or "",
            suggested_actions=optional("suggested_actions", LIMITS.long) or "",
            severity=optional("severity", LIMITS.short),
            level=level,
            category=(optional("category", LIMITS.short) or "").lower() or None,
            labels=labels,
            links=self._links(variables, at),
            group_key=optional("group_key", LIMITS.long),
        )

    def _links(self, variables: Mapping[str, object], at: str | None) -> tuple[Link, ...]:
        links: list[Link] = []
        for index, (url_template, title_template) in enumerate(self._compiled.links):
            place = f"{PLACE}.links[{index}]"
            url = _render(url_template, variables, cap=LIMITS.url, place=f"{place}.url", at=at)
            if not url:
                continue  # a link the body has no URL for is left out
            if not is_http_url(url):
                raise PayloadError(
                    _place(f"{place}.url", at), f"gave {url[:60]!r}, not an http(s) URL"
                )
            title = (
                _render(title_template, variables, cap=LIMITS.link_title, place=place, at=at)
                if title_template is not None
                else ""
            )
            links.append(Link(title or url, url))
        return tuple(links)


def compile_spec(spec: TemplateSpec, *, default_source: str) -> TemplateParser:
    """The integration's parser; raises :class:`TemplateSpecError` naming every bad field."""
    return TemplateParser(spec, default_source=default_source)


def _compile(spec: TemplateSpec) -> _Compiled:
    problems: list[tuple[str, str]] = []

    def text(place: str, source: str) -> Template | None:
        try:
            return compile_text(source)
        except TemplateError as exc:
            problems.append((place, describe(exc)))
        except ValueError as exc:
            problems.append((place, str(exc)))
        return None

    def expression(place: str, source: str) -> TemplateExpression | None:
        try:
            return compile_expression(source)
        except TemplateError as exc:
            problems.append((place, describe(exc, "expression")))
        except ValueError as exc:
            problems.append((place, str(exc)))
        return None

    title = text(f"{PLACE}.title", spec.title)
    alerts = None if spec.alerts is None else expression(f"{PLACE}.alerts", spec.alerts)
    resolved_when = (
        None
        if spec.resolved_when is None
        else expression(f"{PLACE}.resolved_when", spec.resolved_when)
    )
    texts: dict[str, Template] = {}
    for name in _TEXT_FIELDS:
        source = getattr(spec, name)
        if source is not None and (compiled := text(f"{PLACE}.{name}", source)) is not None:
            texts[name] = compiled
    labels: dict[str, Template] = {}
    for name, source in spec.labels.items():
        if (compiled := text(f"{PLACE}.labels.{name}", source)) is not None:
            labels[name] = compiled
    links: list[tuple[Template, Template | None]] = []
    for index, link in enumerate(spec.links):
        url = text(f"{PLACE}.links[{index}].url", link.url)
        link_title = (
            None if link.title is None else text(f"{PLACE}.links[{index}].title", link.title)
        )
        if url is not None:
            links.append((url, link_title))
    if problems or title is None:
        raise TemplateSpecError(problems)
    return _Compiled(title, alerts, resolved_when, texts, labels, tuple(links))


_TEXT_FIELDS = (
    "fingerprint",
    "description",
    "severity",
    "level",
    "category",
    "source",
    "group_key",
    "suggested_actions",
)


def _place(place: str, at: str | None) -> str:
    return place if at is None else f"{place} ({at})"


def _render(
    template: Template, variables: Mapping[str, object], *, cap: int, place: str, at: str | None
) -> str:
    try:
        return render(template, variables, cap=cap)
    except Exception as exc:  # anything a template raises is the body's 422
        raise _failure(exc, place, at) from None


def _evaluate(
    expression: TemplateExpression, variables: Mapping[str, object], *, place: str, at: str | None
) -> Any:
    try:
        value = evaluate(expression, variables)
        if place.endswith("resolved_when"):
            return bool(value)  # an undefined value raises here, naming what is missing
        if isinstance(value, Undefined):
            str(value)  # raises, naming what is missing
        return value
    except Exception as exc:  # anything an expression raises: the body's 422
        raise _failure(exc, place, at) from None


def _failure(exc: BaseException, place: str, at: str | None) -> PayloadError:
    if isinstance(exc, PayloadError):
        return exc
    return PayloadError(_place(place, at), f"cannot be read from this body: {describe(exc)}")
