"""Schemathesis drives the running service from its own OpenAPI document (the one a token
holder gets: an operation per integration, each taking its own format's body): every
operation, fuzzed within and outside its schema, must answer without a server error and as
documented (status codes, content types, headers, response schemas); and a webhook body the
document calls valid must be accepted (2xx), format by format.

Reproducible and bounded: derandomized (tests/support/fuzz.py), about 2,000 cases in ~50 s
(``TOCSIN_FUZZ_PROFILE=long``: fresh ones, 20 times as many). The operations are dealt into
:data:`SHARDS` tests, so the test command's workers share them (one test was the tail of the
whole run)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import given
from schemathesis import GenerationMode
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from bot.app import stop_workers
from escalation.sources import FORMATS
from tests.support.databases import database
from tests.support.fuzz import fuzz, ran
from tests.support.harness import WEBHOOK_TOKEN, Harness, running_tocsin
from tests.support.policies import example_policy, integration_item
from tests.support.threads import OnLoop, in_thread

FUZZED = {f"fuzz-{name}": name for name in FORMATS}
"""An integration of every format, with a rate limit the fuzzing never reaches."""
POLICY_INTEGRATIONS = "".join(
    integration_item(name, fmt, extra=", rate_limit: {per_minute: 1000000, burst: 100000}")
    for name, fmt in FUZZED.items()
)
CASES = {  # (positive, negative) cases per operation
    "fuzzed webhook": (330, 60),
    "other webhook": (10, 5),
    "POST /v2/enqueue": (150, 40),
    "POST /v2/alerts": (150, 40),
    # a path parameter outside its schema (a "/" in the alias) names another path (404)
    "POST /v2/alerts/{identifier}/close": (40, 0),
    "POST /v2/alerts/{identifier}/acknowledge": (40, 0),
    # its only input is the name, and a name outside its schema is a known integration's,
    # which the concrete path /webhooks/<name> documents (concrete paths match first)
    "POST /webhooks/{integration}": (40, 0),
    "GET /api/reports": (120, 40),
    "GET": (20, 0),
}


@pytest.fixture
async def tocsin(tmp_path: Path) -> AsyncIterator[Harness]:
    policy = example_policy(tmp_path, integrations=POLICY_INTEGRATIONS)
    async with (
        database("sqlite", tmp_path) as url,
        running_tocsin(
            database_url=url,
            config_path=policy,
            settings={"TOCSIN_REVIEW_TOKEN": WEBHOOK_TOKEN},  # one Bearer token for all
        ) as harness,
    ):
        yield harness


SMALL = {"maxItems": 3, "maxProperties": 5}
"""Bounds the fuzzer's request bodies: a narrower schema than the document's, so every body it
generates is one the document calls valid, and a case costs milliseconds instead of the
service routing a thousand alerts (big bodies: tests/integration/test_abuse_webhooks.py)."""


def _small(node: Any) -> Any:
    """The document with every array and object schema at most :data:`SMALL` big (an object
    still takes all its required properties: an SNS envelope has eight)."""
    if isinstance(node, list):
        return [_small(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _small(value) for key, value in node.items()}
    for key, kind in (("maxItems", "array"), ("maxProperties", "object")):
        if key in node or node.get("type") == kind:
            out[key] = min(node.get(key, SMALL[key]), SMALL[key])
    if "maxProperties" in out:
        out["maxProperties"] = max(out["maxProperties"], len(node.get("required", ())))
    return out


def _small_bodies(document: dict[str, Any]) -> dict[str, Any]:
    """The request bodies :func:`_small` (the answers' schemas stay as documented)."""
    schemas = document["components"]["schemas"]
    for name in FORMATS:
        schemas[f"{name}_body"] = _small(schemas[f"{name}_body"])
    for item in document["paths"].values():
        for operation in item.values():
            if "requestBody" in operation:
                operation["requestBody"] = _small(operation["requestBody"])
    return document


def _budget(label: str) -> tuple[int, int]:
    method, path = label.split(" ", 1)
    if path.removeprefix("/webhooks/") in FUZZED:
        return CASES["fuzzed webhook"]
    if method == "POST" and path.startswith("/webhooks/") and "{" not in path:
        return CASES["other webhook"]
    return CASES.get(label, CASES["GET"])


SHARDS = 4


@pytest.mark.parametrize("shard", range(SHARDS))
async def test_the_service_answers_as_its_openapi_document_says(
    tocsin: Harness, shard: int
) -> None:
    # The HTTP contract only: the workers would spend the time routing and posting every
    # stored alert (processing fuzzed bodies is test_webhook_fuzz's and the parsers' fuzzing)
    await stop_workers(tocsin.service)
    headers = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
    url = f"{tocsin.base_url}/openapi.json"
    document: dict[str, Any] = (await tocsin.http.get(url, headers=headers)).json()
    schema = schemathesis.openapi.from_dict(_small_bodies(document))
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # every operation of the document is usable
        operations.append(result.ok())
    labels = {op.label for op in operations}
    assert labels >= {f"POST /webhooks/{name}" for name in FUZZED} | {
        "POST /webhooks/{integration}",
        "POST /v2/enqueue",
        "POST /v2/alerts",
        "POST /v2/alerts/{identifier}/close",
        "POST /v2/alerts/{identifier}/acknowledge",
        "GET /webhooks",
        "GET /api/reports",
        "GET /metrics",
        "GET /healthz",
        "GET /readyz",
    }

    ordered = sorted(labels)
    for operation in operations:
        if ordered.index(operation.label) % SHARDS != shard:
            continue  # another shard's
        positive, negative = _budget(operation.label)
        for mode, examples in (
            (GenerationMode.POSITIVE, positive),
            (GenerationMode.NEGATIVE, negative),
        ):
            if examples:
                await in_thread(
                    runner(operation, mode, examples, base_url=tocsin.base_url, headers=headers)
                )


def runner(
    operation: Any, mode: GenerationMode, examples: int, *, base_url: str, headers: dict[str, str]
) -> Callable[[OnLoop], None]:
    label = f"{operation.label} ({mode.value})"
    # A body outside the schema may still be accepted: the schemas promise what is taken,
    # and are stricter than the parsers in places (URLs, dates, values kept as details).
    excluded: list[Any] = [negative_data_rejection]
    if operation.label == "GET /api/reports":
        # period or from/to, at most 400 days: how the parameters combine is beyond what
        # OpenAPI parameters can say; the 400 that names the field is documented
        excluded.append(positive_data_acceptance)
    if operation.label == "POST /webhooks/fuzz-template":
        # any JSON is documented: what the body must hold is the integration's mapping's,
        # which no schema says (the 422 naming the template's field is documented)
        excluded.append(positive_data_acceptance)

    @fuzz(examples)
    @given(case=operation.as_strategy(mode))
    def run(on_loop: OnLoop, case: Any) -> None:
        ran(f"schemathesis {label}")
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        case.validate_response(response, excluded_checks=excluded)

    return run
