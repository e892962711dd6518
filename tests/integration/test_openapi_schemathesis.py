"""Schemathesis drives the running service from its own OpenAPI document: every operation,
fuzzed within (and, for bodies, outside) the schema, must answer without a server error and
as documented (status codes, content types, response schemas)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
)

from tests.support.databases import database
from tests.support.fuzz import fuzz, ran
from tests.support.harness import WEBHOOK_TOKEN, Harness, running_tocsin
from tests.support.policies import FUZZ_INTEGRATION, example_policy
from tests.support.threads import OnLoop, in_thread


@pytest.fixture
async def tocsin(tmp_path: Path) -> AsyncIterator[Harness]:
    policy = example_policy(tmp_path, integrations=FUZZ_INTEGRATION)
    async with (
        database("sqlite", tmp_path) as url,
        running_tocsin(database_url=url, config_path=policy) as harness,
    ):
        yield harness


async def test_the_service_answers_as_its_openapi_document_says(tocsin: Harness) -> None:
    document: dict[str, Any] = (await tocsin.http.get(f"{tocsin.base_url}/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(document)
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    assert {op.label for op in operations} >= {
        "POST /webhooks/{integration}",
        "GET /metrics",
        "GET /healthz",
        "GET /readyz",
    }
    headers = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}

    for operation in operations:
        for mode in GenerationMode:
            if mode is GenerationMode.NEGATIVE and operation.method != "post":
                continue  # a GET without parameters has no invalid form
            await in_thread(runner(operation, mode, base_url=tocsin.base_url, headers=headers))


def runner(
    operation: Any, mode: GenerationMode, *, base_url: str, headers: dict[str, str]
) -> Callable[[OnLoop], None]:
    label = f"{operation.label} ({mode.value})"

    @fuzz(60 if operation.method == "post" else 10)
    @given(case=operation.as_strategy(mode), known=st.booleans())
    def run(on_loop: OnLoop, case: Any, known: bool) -> None:
        ran(f"schemathesis {label}")
        if known and "integration" in (case.path_parameters or {}):
            case.path_parameters = {"integration": "fuzz"}  # reach the parser too
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        # A webhook body's format depends on the integration in the path, so a body valid for
        # one format's schema may rightly be refused (422) by another's; and every format
        # takes null for an absent optional field, which the schemas do not spell out, so a
        # "negative" body with a null may rightly be accepted. Every other check applies: no
        # 5xx, documented status codes, content types, headers and response schemas.
        case.validate_response(
            response, excluded_checks=[positive_data_acceptance, negative_data_rejection]
        )

    return run
