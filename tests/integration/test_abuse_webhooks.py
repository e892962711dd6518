"""Bad and hostile webhook requests through the real endpoint: each refused with a 4xx that
names the problem, nothing stored, counted by reason; a noisy integration is rate limited
without starving the others; fuzzed bodies never cause a 5xx or a half-written inbox."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import col, select

from storage.tables import InboxRow
from tests.support.databases import database
from tests.support.fuzz import fuzz, json_values, ran
from tests.support.harness import WEBHOOK_TOKEN, Harness, running_tocsin
from tests.support.policies import FUZZ_INTEGRATION, example_policy
from tests.support.threads import OnLoop, in_thread

NOISY = (
    '  - {name: noisy, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}",'
    " rate_limit: {per_minute: 6, burst: 3}}\n"
)


def policy_file(tmp_path: Path) -> Path:
    """The shipped example, plus an integration with a small rate limit and one (for the
    fuzzer) with a very large one."""
    return example_policy(tmp_path, integrations=NOISY + FUZZ_INTEGRATION)


@pytest.fixture(params=["sqlite", "postgres"])
async def tocsin(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    async with (
        database(request.param, tmp_path) as url,
        running_tocsin(database_url=url, config_path=policy_file(tmp_path)) as harness,
    ):
        yield harness


async def post(
    tocsin: Harness,
    body: bytes,
    *,
    content_type: str | None = "application/json",
    integration: str = "generic",
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return await tocsin.http.post(
        f"{tocsin.base_url}/webhooks/{integration}", content=body, headers=headers
    )


async def inbox_rows(tocsin: Harness) -> list[InboxRow]:
    async with tocsin.service.db.read() as session:
        return list((await session.exec(select(InboxRow).order_by(col(InboxRow.id)))).all())


async def refused_count(tocsin: Harness, reason: str) -> float:
    text = (await tocsin.http.get(f"{tocsin.base_url}/metrics")).text
    line = f'tocsin_requests_refused_total{{reason="{reason}"}} '
    found = [row for row in text.splitlines() if row.startswith(line)]
    return float(found[0].rsplit(" ", 1)[1]) if found else 0.0


CASES = [
    # body, content type, status, reason, words the error must contain
    (b'{"title": "a", "title": "b"}', "application/json", 400, "duplicate_key", '"title"'),
    (b'{"title": "caf\xe9"}', "application/json", 400, "not_utf8", "UTF-8"),
    (b'{"a":' * 40 + b"1" + b"}" * 40, "application/json", 400, "too_deep", "nested deeper"),
    (b"[" * 100_000, "application/json", 400, "too_deep", "nested deeper"),
    (b'{"title": "x", "v": NaN}', "application/json", 400, "bad_value", "NaN"),
    (b'{"title": "a\\u0000b"}', "application/json", 400, "bad_value", "NUL"),
    (b'{"title": "\\udc00"}', "application/json", 400, "bad_value", "surrogate"),
    (b"title=x", "application/x-www-form-urlencoded", 415, "content_type", "application/json"),
    (b"<alert/>", "application/xml", 415, "content_type", "application/xml"),
    (b"{not json", "application/json", 400, "not_json", "not JSON"),
    (b'{"title": 5}', "application/json", 422, "invalid_payload", "string"),
]


@pytest.mark.parametrize(("body", "content_type", "status", "reason", "words"), CASES)
async def test_a_malformed_body_is_refused_naming_the_problem_and_nothing_is_stored(
    tocsin: Harness, body: bytes, content_type: str, status: int, reason: str, words: str
) -> None:
    response = await post(tocsin, body, content_type=content_type)
    assert response.status_code == status
    assert words in response.json()["error"]
    assert await inbox_rows(tocsin) == []
    assert await refused_count(tocsin, reason) == 1


NUL_AND_SURROGATE_KEY = b'{"\\u0000\\ud800": 1}'
"""A key with a NUL and a lone surrogate: its field name once made the refusal unencodable."""


@pytest.mark.parametrize(
    ("path", "token", "status"),
    [
        ("/webhooks/generic", True, 400),
        ("/webhooks/pagerduty", False, 401),  # its routing_key is looked for before decoding
        ("/webhooks/pagerduty", True, 400),
        ("/v2/enqueue", False, 401),
        ("/v2/enqueue", True, 400),
    ],
)
async def test_a_key_with_nul_and_a_lone_surrogate_is_refused_not_a_500(
    tocsin: Harness, path: str, token: bool, status: int
) -> None:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {WEBHOOK_TOKEN}"
    response = await tocsin.http.post(
        f"{tocsin.base_url}{path}", content=NUL_AND_SURROGATE_KEY, headers=headers
    )
    assert response.status_code == status, response.text
    answer = response.json()
    if status == 400:  # PagerDuty's paths answer in PagerDuty's format
        said = answer["errors"][0] if "pagerduty" in path or "enqueue" in path else answer["error"]
        assert "NUL" in said
        assert "\\x00\\ud800" in (said if "errors" in answer else answer["field"])
    assert await inbox_rows(tocsin) == []


async def test_a_huge_label_map_is_refused_naming_the_field(tocsin: Harness) -> None:
    labels = {f"k{i}": "v" for i in range(5000)}
    response = await tocsin.webhook("generic", {"title": "many labels", "labels": labels})
    assert response.status_code == 422
    assert response.json()["field"] == "labels"
    assert "at most 100" in response.json()["error"]
    assert await inbox_rows(tocsin) == []


async def test_a_body_without_content_length_over_the_cap_is_413(tocsin: Harness) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b" " * 65536  # 2.5 MiB of JSON whitespace, streamed (chunked)

    response = await tocsin.http.post(
        f"{tocsin.base_url}/webhooks/generic",
        content=chunks(),
        headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}", "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert await refused_count(tocsin, "too_large") == 1


async def test_a_noisy_integration_gets_429_with_retry_after_and_the_others_still_get_in(
    tocsin: Harness,
) -> None:
    body = json.dumps({"title": "flood"}).encode()
    answers = [(await post(tocsin, body, integration="noisy")).status_code for _ in range(5)]
    assert answers == [202, 202, 202, 429, 429]
    refused = await post(tocsin, body, integration="noisy")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 10
    assert "noisy" in refused.json()["error"]
    assert (await post(tocsin, b'{"title": "quiet one"}')).status_code == 202
    assert await refused_count(tocsin, "rate_limited") == 3
    assert len(await inbox_rows(tocsin)) == 4


async def test_a_wrong_token_does_not_use_up_the_integrations_rate_limit(tocsin: Harness) -> None:
    for _ in range(10):
        wrong = await tocsin.webhook("noisy", {"title": "x"}, token="not-the-token-at-all")
        assert wrong.status_code == 401
    assert (await tocsin.webhook("noisy", {"title": "real"})).status_code == 202
    assert await refused_count(tocsin, "bad_token") == 10


CONTENT_TYPES = st.sampled_from(
    [None, "application/json", "text/plain", "application/x-www-form-urlencoded", "image/png"]
)
BODIES = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.builds(
        lambda title, extra: json.dumps({"title": title, **extra}).encode(),
        st.text(max_size=60),
        st.dictionaries(st.text(max_size=10), json_values, max_size=4),
    ),
)


async def test_fuzzed_bodies_never_cause_a_5xx_and_are_stored_only_when_accepted(
    tocsin: Harness,
) -> None:
    integration = "fuzz"

    @fuzz(120)
    @given(body=BODIES, content_type=CONTENT_TYPES)
    def case(on_loop: OnLoop, body: bytes, content_type: str | None) -> None:
        ran("webhook endpoint: fuzzed bodies")
        before = len(on_loop(inbox_rows(tocsin)))
        response = on_loop(post(tocsin, body, content_type=content_type, integration=integration))
        assert response.status_code in (202, 400, 413, 415, 422), response.text
        after = on_loop(inbox_rows(tocsin))
        if response.status_code == 202:
            assert len(after) == before + 1
            assert after[-1].body == body
        else:
            assert len(after) == before
            assert response.json()["error"]

    await in_thread(case)

    async def processed() -> bool:
        return all(row.status != "pending" for row in await inbox_rows(tocsin))

    await tocsin.until(processed, what="every accepted body to be processed", seconds=60)
    failed = [(r.id, r.error) for r in await inbox_rows(tocsin) if r.status == "failed"]
    assert failed == []
