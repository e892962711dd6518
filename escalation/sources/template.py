"""``format: template``: any JSON body, mapped to alerts by the integration's own template.

For tools Tocsin has no ready-made source for. The integration's ``template:`` section in
the policy file says, with Jinja2 templates and expressions evaluated in a bounded sandbox
(:mod:`escalation.sources._template_engine`), where the title, status, fingerprint,
severity or level, labels, links and group key of each alert are in the body, and where its
list of alerts is when one body carries several. Each template integration gets its own
parser (:func:`escalation.sources._template.compile_spec`, built by bot.policy.rules);
:data:`SOURCE`'s parser is the one of :data:`EXAMPLE_MAPPING`, the mapping
docs/sources.md works through, and its examples are bodies for that mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from escalation.sources._source import ANY, Example, Source
from escalation.sources._template import (
    TemplateParser,
    TemplateSpecError,
    compile_spec,
    spec_from_mapping,
)
from escalation.sources._template_engine import source_problem

NAME = "template"

EXAMPLE_MAPPING: dict[str, Any] = {
    "alerts": "body.monitors",
    "title": "{{ alert.name }} is {{ alert.status }}",
    "description": "{{ alert.details | default('') }}",
    "resolved_when": 'alert.status == "up"',
    "fingerprint": "monitor-{{ alert.id }}",
    "severity": "{{ alert.severity | default('') }}",
    "labels": {"monitor": "{{ alert.name }}", "account": "{{ body.account }}"},
    "links": [{"title": "Dashboard", "url": "{{ alert.dashboard | default('') }}"}],
    "group_key": "{{ body.account }}",
}
"""A status checker's body (``{"account", "monitors": [...]}``) mapped: the worked example
of docs/sources.md and the mapping of this source's examples."""


def integration_parser(mapping: Mapping[str, Any], *, integration: str) -> TemplateParser:
    """The parser of an integration's ``template:`` section (as plain data); its alerts'
    source is the integration's name unless the mapping says. Raises
    :class:`TemplateSpecError` naming every field that does not compile."""
    return compile_spec(spec_from_mapping(mapping), default_source=integration)


check_source = source_problem
"""``check_source(kind, source)``: the load-time check of one template (``"text"``) or
expression (``"expression"``): the problem, or ``None``."""

__all__ = ["EXAMPLE_MAPPING", "SOURCE", "TemplateSpecError", "check_source", "integration_parser"]


def _monitor(status: str, **more: Any) -> dict[str, Any]:
    return {
        "id": 778,
        "name": "Checkout API",
        "status": status,
        "severity": "critical",
        "dashboard": "https://status.example.com/monitors/778",
        **more,
    }


def _send_test(now: datetime, run: str) -> dict[str, Any]:
    return {
        "account": "send-test",
        "monitors": [
            _monitor(
                "down",
                id=f"send-test-{run}",
                name="Test alert from `tocsin send-test` (template format)",
                details=f"Safe to resolve: sent at {now:%H:%M} UTC to check the path to Slack.",
            )
        ],
    }


SOURCE = Source(
    name=NAME,
    title="Any JSON, mapped by the integration's template (Jinja2, sandboxed)",
    parse=compile_spec(spec_from_mapping(EXAMPLE_MAPPING), default_source=NAME),
    schema=ANY,
    examples=(
        Example(
            name="template-down",
            summary="template: a body of the worked example's shape (docs/sources.md)",
            body={"account": "acme", "monitors": [_monitor("down", details="HTTP 503")]},
        ),
        Example(
            name="template-many",
            summary="template: several alerts in one body, one of them recovered",
            body={
                "account": "acme",
                "monitors": [
                    _monitor("up"),
                    {"id": 779, "name": "Search", "status": "down", "severity": "warning"},
                ],
            },
        ),
    ),
    send_test=_send_test,
    docs_url="#templates-for-any-other-tool",
    maps=(
        "what the integration's `template:` says: title, `resolved_when`, fingerprint, "
        "severity or level, labels, links, group key, the list of alerts"
    ),
)
