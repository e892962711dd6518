"""Policy-file model of an integration's ``template:`` mapping (``format: template``).

Templates and expressions are Jinja2 (evaluated by escalation.sources._template_engine).
``config`` imports nothing of the project, so the check of each one's syntax comes in the
validation context (:data:`TEMPLATE_CHECK_CONTEXT`, passed by bot.policy.policy_file): a
mistake is then reported when the file loads, with its line and place
(``integrations[2].template.title``). Read without it, bot.policy.rules still refuses the
mapping, naming the place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo

from config.sections.noise import LABEL_NAME

TEMPLATE_CHECK_CONTEXT = "template_check"
"""The validation context key holding ``check(kind, source) -> problem or None``, kind
``"text"`` (a template) or ``"expression"``."""

TemplateCheck = Callable[[Literal["text", "expression"], str], "str | None"]
MAX_TEMPLATE_CHARS = 4096


def _checked(kind: Literal["text", "expression"]) -> Callable[[str, ValidationInfo], str]:
    def check(source: str, info: ValidationInfo) -> str:
        checker = (info.context or {}).get(TEMPLATE_CHECK_CONTEXT)
        problem = None if checker is None else checker(kind, source)
        if problem is not None:
            raise ValueError(problem)
        return source

    return check


Text = Annotated[
    str, Field(min_length=1, max_length=MAX_TEMPLATE_CHARS), AfterValidator(_checked("text"))
]
Expression = Annotated[
    str,
    Field(min_length=1, max_length=MAX_TEMPLATE_CHARS),
    AfterValidator(_checked("expression")),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class LinkTemplateConfig(_Strict):
    url: Text
    """Template of the link's URL (http or https); rendering empty leaves the link out."""
    title: Text | None = None
    """Template of the link's text (default: the URL)."""


class TemplateConfig(_Strict):
    title: Text
    """Template of the warning's title, e.g. "{{ alert.name }} is down" (required)."""
    alerts: Expression | None = None
    """Expression giving the list of alerts when one body carries several, e.g.
    body.monitors; each element is then `alert` (default: the body is one alert)."""
    resolved_when: Expression | None = None
    """Expression, true when the alert has recovered, e.g. alert.status == "ok" (default:
    always firing)."""
    fingerprint: Text | None = None
    """Template of the dedup key: the same key updates, and resolves, the same alert
    (default: derived from the title and labels)."""
    description: Text | None = None
    """Template of the description."""
    severity: Text | None = None
    """Template of the tool's severity word, for grading."""
    level: Text | None = None
    """Template giving the level itself, 1 to 3 (beats grading; empty: grading decides)."""
    category: Text | None = None
    """Template of the category (process, data, customer, …)."""
    source: Text | None = None
    """Template of the source shown on the warning (default: the integration's name)."""
    group_key: Text | None = None
    """Template of the group key: alerts with the same one share a warning."""
    suggested_actions: Text | None = None
    """Template of the suggested actions (runbook text)."""
    labels: dict[Annotated[str, Field(pattern=LABEL_NAME)], Text] = Field(default_factory=dict)
    """Label name → template of its value; a value rendering empty is left out."""
    links: list[LinkTemplateConfig] = Field(default_factory=list, max_length=20)
    """Links on the warning (dashboards, runbooks, the event)."""
