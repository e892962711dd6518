"""An outbox row of a kind this version does not know (a newer version wrote it, and this one
still runs beside it or was rolled back to): the sender neither crashes nor drops it. The
row fails like any delivery that fails — kept, with its error, tried again later — and every
other row goes on."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.sandbox import SlackWorld
from storage.tables import AlertRow, OutboxRow
from tests.support.harness import Harness, running_tocsin

POLICY = """
levels:
  1: {name: critical}
  2: {name: major}
  3: {name: minor}
integrations:
  - {name: generic, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}"}
storm: {enabled: false}
default_route: {team: ops, channel: "#alerts", policy: quiet}
policies:
  quiet: {tiers: []}
"""
FUTURE_KIND = "page_carrier_pigeon"


@pytest.fixture
async def tocsin(tmp_path: Path) -> AsyncIterator[Harness]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    async with running_tocsin(
        database_url=f"sqlite:///{tmp_path / 'tocsin.db'}",
        config_path=policy,
        world=SlackWorld(rate_per_second=20, burst=20),
    ) as harness:
        yield harness


async def fire(tocsin: Harness, title: str) -> None:
    response = await tocsin.webhook("generic", {"title": title})
    assert response.status_code == 202


async def deliveries_metric(tocsin: Harness, *, kind: str, outcome: str) -> float:
    text = (await tocsin.http.get(f"{tocsin.base_url}/metrics")).text
    wanted = re.escape(f'tocsin_outbox_deliveries_total{{kind="{kind}",outcome="{outcome}"}}')
    found = re.search(rf"^{wanted} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def test_a_row_of_an_unknown_kind_is_kept_and_retried_while_the_others_are_delivered(
    tocsin: Harness,
) -> None:
    await fire(tocsin, "first")
    await tocsin.wait_for_messages(1)
    db = tocsin.service.db
    async with db.write() as session:
        alert = (await session.exec(select(AlertRow).where(AlertRow.title == "first"))).one()
        now = tocsin.service.clock()
        # as a newer version would write it: a kind and a payload this version never wrote
        session.add(
            OutboxRow(
                idempotency_key="from-the-future",
                alert_id=alert.id,
                kind=FUTURE_KIND,
                payload={"pigeon": "Percy", "user": "U0ALICE"},
                created_at=now,
                next_attempt_at=now,
            )
        )

    async def future_row() -> OutboxRow:
        async with db.read() as session:
            query = select(OutboxRow).where(OutboxRow.kind == FUTURE_KIND)
            return (await session.exec(query)).one()

    async def tried() -> bool:
        return (await future_row()).attempts >= 1

    await tocsin.until(tried, what="the unknown row tried once")
    await fire(tocsin, "second")
    messages = await tocsin.wait_for_messages(2)

    assert [m.text.rsplit(" ", 1)[-1] for m in messages] == ["first", "second"]
    row = await future_row()
    assert row.status == "pending"
    assert row.last_error == f"ValueError: unknown outbox kind {FUTURE_KIND!r}"
    assert row.in_doubt  # as any attempt that failed with an exception
    assert row.payload == {"pigeon": "Percy", "user": "U0ALICE"}
    retry_at: datetime = row.next_attempt_at
    assert retry_at - now >= timedelta(seconds=1)  # backed off, as a failed delivery is
    assert await deliveries_metric(tocsin, kind=FUTURE_KIND, outcome="failed") >= 1.0
