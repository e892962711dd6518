"""Where the OpenAPI document and the service used to disagree (issue 15, item 7), the
document a token holder gets now says what the service does, integration by integration:
the service's verdict on a body (2xx or not) is the document's (valid or not)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest

from escalation.sources import SOURCES
from tests.support.databases import database
from tests.support.harness import WEBHOOK_TOKEN, Harness, running_tocsin
from tests.support.policies import example_policy, integration_item

AUTH = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
INTEGRATIONS = {f"src-{name}": name for name in SOURCES}
"""An integration of every source (so a new source is covered without editing this file)."""
LENIENT = ("generic", "opsgenie")
"""Formats whose only required field is common (``title``, ``message``)."""
MAPPED = ("template",)
"""Formats whose body is whatever the integration's mapping reads: documented as any JSON
(the 422 naming the mapping's field is documented), so left out of the verdicts' match."""
TRIGGER: dict[str, Any] = {
    "event_action": "trigger",
    "payload": {"summary": "Checkout down", "source": "checkout-1", "severity": "critical"},
}


@pytest.fixture
async def tocsin(tmp_path: Path) -> AsyncIterator[Harness]:
    policy = example_policy(
        tmp_path,
        integrations="".join(integration_item(name, fmt) for name, fmt in INTEGRATIONS.items()),
    )
    settings = {"TOCSIN_REVIEW_TOKEN": WEBHOOK_TOKEN}
    async with (
        database("sqlite", tmp_path) as url,
        running_tocsin(database_url=url, config_path=policy, settings=settings) as harness,
    ):
        yield harness


async def _document(tocsin: Harness) -> dict[str, Any]:
    answer = await tocsin.http.get(f"{tocsin.base_url}/openapi.json", headers=AUTH)
    document: dict[str, Any] = answer.json()
    return document


def _operation(document: dict[str, Any], integration: str) -> dict[str, Any]:
    operation: dict[str, Any] = document["paths"][f"/webhooks/{integration}"]["post"]
    return operation


def _documented_valid(document: dict[str, Any], integration: str, body: Any) -> bool:
    """Whether the integration's operation in ``document`` calls ``body`` valid."""
    content = _operation(document, integration)["requestBody"]["content"]["application/json"]
    name = content["schema"]["$ref"].rsplit("/", 1)[1]
    schema = document["components"]["schemas"][name]
    return bool(jsonschema_rs.Draft202012Validator(schema, validate_formats=True).is_valid(body))


async def _post(tocsin: Harness, integration: str, raw: bytes) -> httpx.Response:
    headers = {**AUTH, "Content-Type": "application/json"}
    url = f"{tocsin.base_url}/webhooks/{integration}"
    return await tocsin.http.post(url, content=raw, headers=headers)


async def test_a_null_client_url_is_taken_and_documented(tocsin: Harness) -> None:
    body = {**TRIGGER, "client": "Checks", "client_url": None}

    answer = await tocsin.webhook("src-pagerduty", body)

    assert answer.status_code == 202, answer.text
    assert _documented_valid(await _document(tocsin), "src-pagerduty", body)


async def test_resolve_without_dedup_key_is_refused_with_a_documented_400(
    tocsin: Harness,
) -> None:
    body = {"event_action": "resolve"}
    document = await _document(tocsin)

    answer = await tocsin.webhook("src-pagerduty", body)

    assert answer.status_code == 400
    assert answer.json()["errors"] == ["dedup_key is required"]
    assert not _documented_valid(document, "src-pagerduty", body)
    assert "400" in _operation(document, "src-pagerduty")["responses"]
    assert "422" not in _operation(document, "src-pagerduty")["responses"]


async def test_the_public_document_names_no_integration(tocsin: Harness) -> None:
    document = (await tocsin.http.get(f"{tocsin.base_url}/openapi.json")).json()

    webhook_paths = {path for path in document["paths"] if path.startswith("/webhooks/")}
    assert webhook_paths == {"/webhooks/{integration}"}
    assert {f"{name}_body" for name in SOURCES} <= set(document["components"]["schemas"])


async def test_the_public_document_lists_every_format_with_an_example(tocsin: Harness) -> None:
    document = (await tocsin.http.get(f"{tocsin.base_url}/openapi.json")).json()
    schemas = document["components"]["schemas"]
    content = document["paths"]["/webhooks/{integration}"]["post"]["requestBody"]["content"]
    listed = content["application/json"]["examples"]

    for name, source in SOURCES.items():
        schema = schemas[f"{name}_body"]
        assert schema["title"] == source.title, name
        assert schema["examples"], f"format {name} has no example in its schema"
        assert schema["examples"] == [dict(example.body) for example in source.examples]
        assert any(example.name in listed for example in source.examples), name
        for body in schema["examples"]:
            validator = jsonschema_rs.Draft202012Validator(schema, validate_formats=True)
            assert validator.is_valid(body), (name, body)


async def test_every_documented_example_is_accepted_by_its_integration(tocsin: Harness) -> None:
    document = await _document(tocsin)

    for integration, fmt in INTEGRATIONS.items():
        content = _operation(document, integration)["requestBody"]["content"]
        examples = content["application/json"]["examples"]
        assert set(examples) == {example.name for example in SOURCES[fmt].examples}
        for name, example in examples.items():
            answer = await tocsin.webhook(integration, example["value"])
            assert answer.status_code == 202, (name, answer.text)


async def test_each_integration_documents_its_own_format_only(tocsin: Harness) -> None:
    document = await _document(tocsin)
    verdicts: dict[tuple[str, str], tuple[int, bool]] = {}

    for integration in INTEGRATIONS:
        for source in SOURCES.values():
            for example in source.examples:
                answer = await tocsin.webhook(integration, dict(example.body))
                valid = _documented_valid(document, integration, dict(example.body))
                verdicts[integration, example.name] = (answer.status_code, valid)

    disagreements = {
        place: verdict
        for place, verdict in verdicts.items()
        if (verdict[0] == 202) != verdict[1] and INTEGRATIONS[place[0]] not in MAPPED
    }
    assert not disagreements
    own = {
        (integration, example.name)
        for integration, fmt in INTEGRATIONS.items()
        for example in SOURCES[fmt].examples
    }
    taken = {place for place, (status, _) in verdicts.items() if status == 202}
    assert taken >= own
    # generic takes any object with a title, opsgenie any with a message (both keep what they
    # do not know as details): they may take another format's example; no other one does
    assert {integration for integration, _ in taken - own} <= {
        f"src-{name}" for name in (*LENIENT, *MAPPED)
    }


@pytest.mark.parametrize(
    "raw",
    [
        b'{"title": "disk \\u0000 full"}',
        b'{"title": "disk full", "note\\u0000": 1}',
        b'{"title": "disk full", "labels": {"host": "db\\u0000"}}',
    ],
)
async def test_a_nul_character_is_refused_and_documented(tocsin: Harness, raw: bytes) -> None:
    document = await _document(tocsin)

    answer = await _post(tocsin, "src-generic", raw)

    assert answer.status_code == 400, answer.text
    assert "NUL" in answer.json()["error"]
    assert not _documented_valid(document, "src-generic", json.loads(raw))
    assert _documented_valid(document, "src-generic", json.loads(raw.replace(b"\\u0000", b"")))


async def test_a_lone_surrogate_is_refused_as_the_400_says(tocsin: Harness) -> None:
    document = await _document(tocsin)

    answer = await _post(tocsin, "src-generic", b'{"title": "disk \\ud800 full"}')

    assert answer.status_code == 400
    assert (
        "lone surrogate" in _operation(document, "src-generic")["responses"]["400"]["description"]
    )


async def test_api_reports_declares_the_query_parameters_it_reads(tocsin: Harness) -> None:
    document = await _document(tocsin)
    operation = document["paths"]["/api/reports"]["get"]
    declared = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
    url = f"{tocsin.base_url}/api/reports"

    refused = await tocsin.http.get(url, params={"level": "4"}, headers=AUTH)
    answered = await tocsin.http.get(url, params={"period": "30d", "level": "1"}, headers=AUTH)

    assert declared == {"period", "from", "to", "team", "level", "category"}
    assert refused.status_code == 400
    assert refused.json()["field"] == "level"
    assert answered.status_code == 200
