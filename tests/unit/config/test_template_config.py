"""A template integration's mistakes are caught when the policy file loads, each named by
its line, its integration and its field; a policy read without the check is refused when
its rules are built."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.policy.policy_file import load_policy
from bot.policy.rules import build_rules
from config.policy import PolicyError, parse_policy

HEAD = """\
levels:
  1: {name: critical}
  2: {name: major}
  3: {name: minor}
default_route: {team: ops, channel: "#alerts"}
integrations:
  - {name: am, format: alertmanager, token: tok-0123456789}
"""


def problems_of(tmp_path: Path, integrations: str) -> list[str]:
    path = tmp_path / "policy.yaml"
    path.write_text(HEAD + integrations, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path, env={})
    return caught.value.problems


def test_each_bad_template_and_expression_is_named_with_its_line_and_place(
    tmp_path: Path,
) -> None:
    problems = problems_of(
        tmp_path,
        """\
  - name: checks
    format: template
    token: tok-0123456789
    template:
      alerts: body.[
      title: "{{ alert.name }"
      resolved_when: alert.status == "up"
      labels:
        host: "{{ alert.host | nope }}"
      links:
        - url: "{% for a in b %}{% for c in a %}{% endfor %}{% endfor %}"
""",
    )

    assert problems == [
        "line 13: integrations[1].template.title: \"{{ alert.name }\": unexpected '}'",
        'line 12: integrations[1].template.alerts: "body.[": not a valid expression: '
        "expected name or number",
        'line 16: integrations[1].template.labels.host: "{{ alert.host | nope }}": '
        "No filter named 'nope'.",
        "line 18: integrations[1].template.links[0].url: loops inside loops are not available "
        "in templates (use filters: map, join)",
    ]


def test_an_unknown_template_field_gets_the_closest_known_one(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        "  - {name: checks, format: template, token: tok-0123456789,"
        " template: {title: x, resolve_when: 'alert.ok'}}\n",
    )

    assert problems == [
        "line 8: integrations[1].template.resolve_when: is not a known setting; "
        "did you mean resolved_when?"
    ]


def test_a_template_integration_needs_a_mapping_with_a_title(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        "  - {name: checks, format: template, token: tok-0123456789}\n"
        "  - {name: other, format: template, token: tok-0123456789, template: {alerts: body.x}}\n",
    )

    assert problems == [
        "line 8: integrations[1]: format template needs a template: mapping "
        "(with a title at least)",
        "line 9: integrations[2].template.title: is required",
    ]


def test_a_mapping_on_another_format_is_refused(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path, "  - {name: g, format: generic, token: tok-0123456789, template: {title: x}}\n"
    )

    assert problems == ["line 8: integrations[1]: template applies only to format template"]


def test_a_good_mapping_loads_and_gives_the_integration_its_own_parser(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        HEAD + "  - {name: checks, format: template, token: tok-0123456789,"
        " template: {title: '{{ alert.what }}'}}\n",
        encoding="utf-8",
    )

    rules = build_rules(load_policy(path, env={}))

    (event,) = rules.ingest.parser_for("checks", "template")({"what": "disk full"})
    assert event.title == "disk full"
    assert event.source == "checks"
    assert rules.ingest.parser_for("am", "alertmanager") is rules.ingest.parsers["alertmanager"]


def test_rules_refuse_a_mapping_read_without_the_check_naming_the_place() -> None:
    policy = parse_policy(
        HEAD + "  - {name: checks, format: template, token: tok-0123456789,"
        " template: {title: '{{ x', labels: {h: '{{ y | nope }}'}}}\n",
        env={},
    )

    with pytest.raises(PolicyError) as caught:
        build_rules(policy)

    assert caught.value.problems == [
        "integrations[1].template.title: unexpected end of template, expected 'end of print "
        "statement'.",
        "integrations[1].template.labels.h: No filter named 'nope'.",
    ]
