"""The webhook documentation is derived from the sources: the docs' list of formats, the
OpenAPI body schemas (with the rules every format shares) and the answers per style."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs

from bot.http.docs.body_schema import documented
from bot.http.docs.webhook_docs import component_schemas, formats_markdown, post_responses
from bot.http.webhook_formats import accepted, refused
from config.policy import IntegrationConfig
from docs.hooks.generated import expand
from escalation.sources import SOURCES

DOCS = Path(__file__).parents[4] / "docs"


def _valid(schema: dict[str, Any], value: Any) -> bool:
    return bool(jsonschema_rs.Draft202012Validator(schema).is_valid(value))


def test_the_sources_page_gets_the_list_of_formats_when_the_site_is_built() -> None:
    page = (DOCS / "sources.md").read_text(encoding="utf-8")
    assert "<!-- generated: source-formats -->" in page  # nothing to paste by hand

    built = expand(page)

    assert formats_markdown().rstrip("\n") in built
    assert "<!-- generated:" not in built


def test_the_list_names_every_source_once() -> None:
    rows = [line for line in formats_markdown().splitlines() if line.startswith("| `")]

    assert [row.split("`")[1] for row in rows[1:]] == list(SOURCES)


def test_every_source_has_its_body_schema_in_the_document() -> None:
    assert set(component_schemas()) == {f"{name}_body" for name in SOURCES}


def test_an_optional_field_may_be_null_a_required_one_may_not() -> None:
    schema = documented(
        {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}, "b": {}}}
    )

    assert _valid(schema, {"a": "x", "b": None})
    assert not _valid(schema, {"a": None})


def test_no_string_nor_key_may_hold_a_nul_anywhere() -> None:
    schema = documented(
        {
            "type": "object",
            "properties": {
                "s": {"type": "string", "pattern": r"\S"},
                "m": {"type": "object", "additionalProperties": {"type": "string"}},
                "any": {},
            },
        }
    )

    assert _valid(schema, {"s": "x", "m": {"k": "v"}, "any": {"k": ["v"]}, "extra": "ok"})
    for bad in (
        {"s": "x\x00"},
        {"m": {"k": "\x00"}},
        {"m": {"\x00": "v"}},
        {"any": {"k": "\x00"}},
        {"any": ["\x00"]},
        {"extra\x00": 1},
        {"extra": "\x00"},
    ):
        assert not _valid(schema, bad), bad


def test_pagerduty_answers_in_its_own_shape_and_never_422() -> None:
    pagerduty = post_responses("pagerduty")
    tocsin = post_responses("tocsin")

    assert 422 not in pagerduty
    assert 404 not in pagerduty
    assert 422 in tocsin
    assert 404 not in tocsin
    error = {"status": "invalid event", "message": "Event object is invalid", "errors": ["x"]}
    pd_schema = pagerduty[400]["content"]["application/json"]["schema"]
    assert _valid(pd_schema, error)
    assert not _valid(tocsin[400]["content"]["application/json"]["schema"], error)


def test_opsgenie_answers_in_its_own_shape_which_no_other_style_matches() -> None:
    config = IntegrationConfig(name="og", format="opsgenie", token="token-1234")
    opsgenie, either = post_responses("opsgenie"), post_responses("either")
    took = accepted(config, inbox_id=1, events=1, dedup_key=None)
    error = refused(config, 422, "is required", field="message", missing=["message"])

    def schema(responses: dict[Any, Any], status: int) -> Any:
        return responses[status]["content"]["application/json"]["schema"]

    took_body, error_body = json.loads(bytes(took.body)), json.loads(bytes(error.body))
    assert took.status_code == 202
    assert took_body["result"] == "Request will be processed"
    assert error_body["message"] == "message: is required"
    assert error_body["errors"] == {"message": "is required"}
    assert _valid(schema(opsgenie, 202), took_body)
    assert _valid(schema(either, 202), took_body)  # exactly one of the styles (oneOf)
    assert _valid(schema(opsgenie, 422), error_body)
    assert _valid(schema(either, 422), error_body)
    assert not _valid(schema(post_responses("tocsin"), 422), error_body)


README = DOCS.parent / "README.md"


def test_the_readme_carries_the_table_of_sources_made_from_the_source_modules() -> None:
    text = README.read_text(encoding="utf-8")
    start, end = "<!-- sources:start -->\n", "<!-- sources:end -->"
    copy = text[text.index(start) + len(start) : text.index(end)]

    assert copy == formats_markdown(page="docs/sources.md"), (
        "paste formats_markdown(page='docs/sources.md') (bot.http.docs.webhook_docs) into README"
    )


def test_every_source_says_what_becomes_what() -> None:
    assert [name for name, source in SOURCES.items() if not source.maps] == []


def test_the_worked_template_example_in_the_docs_is_the_sources_own_mapping() -> None:
    import yaml

    from escalation.sources.template import EXAMPLE_MAPPING

    page = (DOCS / "sources.md").read_text(encoding="utf-8")
    section = page[page.index("### Worked example") :]
    block = section[section.index("```yaml\n") + len("```yaml\n") :]
    policy = yaml.safe_load(block[: block.index("```")])

    assert policy["integrations"][0]["template"] == EXAMPLE_MAPPING
