"""The source registry: every module of escalation/sources declares one Source, and what each
declares holds (its examples and its send-test sample parse and fit its schema, it has
fixtures). Written once for all sources: a new source is checked without editing this file."""

from __future__ import annotations

import json
import pkgutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

import escalation.sources
from bot.http.docs.body_schema import documented
from escalation.errors import PayloadError
from escalation.sources import FORMATS, PARSERS, SOURCES, Source

FIXTURES = Path(__file__).parents[2] / "fixtures"
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def _validator(source: Source) -> Any:
    return jsonschema_rs.Draft202012Validator(documented(source.schema), validate_formats=True)


def test_every_public_module_is_a_registered_source() -> None:
    modules = [m.name for m in pkgutil.iter_modules(escalation.sources.__path__)]

    assert sorted(m for m in modules if not m.startswith("_")) == list(SOURCES)
    assert FORMATS == tuple(SOURCES) == tuple(sorted(SOURCES))
    assert {name: source.parse for name, source in SOURCES.items()} == dict(PARSERS)


@pytest.mark.parametrize("name", FORMATS)
def test_a_source_is_named_like_its_module_and_documents_itself(name: str) -> None:
    source = SOURCES[name]

    assert source.name == name
    assert source.title
    assert source.examples
    assert sorted((FIXTURES / name).glob("*.json")), f"tests/unit/fixtures/{name}/ is empty"


def test_example_names_are_unique_across_sources() -> None:
    names = [example.name for source in SOURCES.values() for example in source.examples]

    assert len(names) == len(set(names))


@pytest.mark.parametrize("name", FORMATS)
def test_every_example_parses_and_fits_the_documented_schema(name: str) -> None:
    source = SOURCES[name]
    validator = _validator(source)

    for example in source.examples:
        validator.validate(dict(example.body))
        assert source.parse(json.loads(json.dumps(example.body))), example.name


@pytest.mark.parametrize("name", FORMATS)
def test_the_send_test_sample_parses_fits_the_schema_and_is_unique_per_run(name: str) -> None:
    source = SOURCES[name]

    first = source.send_test(NOW, "run1")
    second = source.send_test(NOW, "run2")

    _validator(source).validate(first)
    (event,) = source.parse(first)
    (other,) = source.parse(second)
    assert event.fingerprint != other.fingerprint


@pytest.mark.parametrize("name", FORMATS)
def test_fixtures_the_parser_accepts_fit_the_schema(name: str) -> None:
    """The schema is no stricter than the parser on real payloads from the tools."""
    source = SOURCES[name]
    validator = _validator(source)

    accepted = 0
    for path in sorted((FIXTURES / name).glob("*.json")):
        payload = json.loads(path.read_text())
        try:
            source.parse(payload)
        except PayloadError:
            continue
        accepted += 1
        errors = [str(error) for error in validator.iter_errors(payload)]
        assert not errors, (path.name, errors)
    assert accepted


def test_the_policy_file_takes_exactly_the_registered_formats(tmp_path: Path) -> None:
    from bot.policy.policy_file import load_policy
    from config.policy import PolicyError
    from config.settings import EXAMPLE_POLICY

    env = {"TOCSIN_WEBHOOK_TOKEN": "example-token-0123"}
    text = EXAMPLE_POLICY.read_text().replace("format: generic", "format: nagios", 1)
    path = tmp_path / "policy.yaml"
    path.write_text(text)

    with pytest.raises(PolicyError) as caught:
        load_policy(path, env=env)

    (problem,) = caught.value.problems
    assert problem.endswith(f'"nagios": must be one of {", ".join(FORMATS[:-1])} or {FORMATS[-1]}')
    assert {i.format for i in load_policy(EXAMPLE_POLICY, env=env).integrations} <= set(FORMATS)


def test_rules_refuse_a_policy_read_without_the_registry_naming_the_place() -> None:
    from bot.policy.rules import build_rules
    from config.policy import PolicyError, parse_policy
    from config.settings import EXAMPLE_POLICY

    text = EXAMPLE_POLICY.read_text().replace("format: generic", "format: nagios", 1)
    policy = parse_policy(text, env={"TOCSIN_WEBHOOK_TOKEN": "example-token-0123"})

    with pytest.raises(PolicyError) as caught:
        build_rules(policy)

    (problem,) = caught.value.problems
    assert problem.startswith('integrations[1].format: "nagios": must be one of alertmanager')
