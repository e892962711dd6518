"""Over real HTTP, on the real clock (the escalation engine pages by itself), against the
fake Slack at Slack's own pace (one write a second per
conversation, bursts of three): a page never waits for the channel, and a big group's joins
are drawn as one edit and one listing, not one per member."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.sandbox import SlackWorld
from bot.slack import ids
from escalation.outbox_kinds import OutboxKind
from storage import outbox
from storage.tables import OutboxRow
from tests.integration.test_group_list import am_alert, am_batch
from tests.support.harness import Harness, running_tocsin

POLICY = """
levels:
  1: {name: critical}
  2: {name: major}
  3: {name: minor}
integrations:
  - {name: alertmanager, format: alertmanager, token: "${TOCSIN_WEBHOOK_TOKEN}"}
  - {name: generic, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}"}
storm: {enabled: false}
default_route: {team: ops, channel: "#alerts", policy: page}
people:
  U0ALICE: {name: Alice}
policies:
  page: {tiers: [{notify: [{user: U0ALICE}], after: 0m}]}
"""
MEMBERS = 30


@pytest.fixture
async def tocsin(tmp_path: Path) -> AsyncIterator[Harness]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    async with running_tocsin(
        database_url=f"sqlite:///{tmp_path / 'tocsin.db'}",
        config_path=policy,
        world=SlackWorld(rate_per_second=1, burst=3),
    ) as harness:
        yield harness


async def test_a_page_goes_out_while_slack_holds_its_alerts_channel(tocsin: Harness) -> None:
    # Slack refuses the warning for a minute (429, Retry-After: 60): the page does not wait
    tocsin.world.fail_next("chat.postMessage", status=429, retry_after=60, channel="#alerts")
    response = await tocsin.webhook("generic", {"title": "Checkout down", "level": 1})
    assert response.status_code == 202
    await tocsin.world.wait_for(lambda: len(tocsin.dms("U0ALICE")) == 1, timeout=10)
    assert "Checkout down" in tocsin.dms("U0ALICE")[0].text
    assert tocsin.channel_messages("#alerts") == []  # its warning still waits for Slack


async def test_a_page_sent_before_its_warning_links_the_warning_once_it_is_posted(
    tocsin: Harness,
) -> None:
    tocsin.world.fail_next("chat.postMessage", status=429, retry_after=2, channel="#alerts")
    response = await tocsin.webhook("generic", {"title": "Payments down", "level": 1})
    assert response.status_code == 202
    await tocsin.world.wait_for(lambda: len(tocsin.dms("U0ALICE")) == 1, timeout=10)
    page = tocsin.dms("U0ALICE")[0]
    assert "open the warning" not in json.dumps(page.blocks)
    assert "#alerts" in json.dumps(page.blocks)  # it names the channel meanwhile
    [warning] = await tocsin.wait_for_messages(1, seconds=15)
    await tocsin.world.wait_for(
        lambda: "open the warning" in json.dumps(tocsin.dms("U0ALICE")[0].blocks), timeout=10
    )
    linked = tocsin.dms("U0ALICE")[0]
    assert linked.ts == page.ts  # an edit of the page, not a new message
    assert f"{warning.channel}/{warning.ts}" in json.dumps(linked.blocks)
    # a later page of the same alert links the warning from the start
    assert len(tocsin.dms("U0ALICE")) == 1


async def test_a_groups_joins_cost_a_few_channel_writes_and_its_page_does_not_wait(
    tocsin: Harness,
) -> None:
    batch = am_batch(*(am_alert(n) for n in range(1, MEMBERS + 1)))
    assert (await tocsin.webhook("alertmanager", batch)).status_code == 202
    [warning] = await tocsin.wait_for_messages(1)
    await tocsin.world.wait_for(lambda: len(tocsin.dms("U0ALICE")) == 1, timeout=10)

    def fully_listed() -> bool:
        text = "\n".join(m.text for m in tocsin.thread(warning))
        return all(f"#{n} Disk" in text for n in range(1, MEMBERS + 1))

    await tocsin.world.wait_for(fully_listed, timeout=20)
    channel = warning.channel
    writes = [w for w in tocsin.world.write_log.writes() if w.channel == channel]
    edits = [w for w in writes if w.method == "chat.update" and w.ts == warning.ts]
    # one post, an edit or two as members arrive, two listing messages (20 + 10 members)
    # and perhaps an edit of them — where each join once cost an edit and a listing
    assert len(edits) <= 2
    assert len(writes) <= 7
    assert f"{MEMBERS} of {MEMBERS} open" in tocsin.thread(warning)[0].text


async def test_pages_due_together_for_one_person_go_out_as_one_message_naming_each(
    tocsin: Harness,
) -> None:
    titles = [f"Queue {n} stuck" for n in range(12)]
    for n, title in enumerate(titles):
        level = 1 if n % 4 == 3 else 2
        assert (
            await tocsin.webhook("generic", {"title": title, "level": level})
        ).status_code == 202

    def named() -> list[str]:
        return [t for m in tocsin.dms("U0ALICE") for t in titles if t in json.dumps(m.blocks)]

    await tocsin.world.wait_for(lambda: len(set(named())) == len(titles), timeout=20)
    assert sorted(named()) == sorted(titles)  # each alert paged once
    dms = tocsin.dms("U0ALICE")
    assert len(dms) < len(titles)  # within Slack's pace: several alerts a message
    many = [m for m in dms if sum(t in json.dumps(m.blocks) for t in titles) > 1]
    assert many, "no message named more than one alert"
    buttons = [
        e["value"]
        for b in many[0].blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == ids.ACKNOWLEDGE
    ]
    assert len(buttons) == len(set(buttons)) > 1  # an Acknowledge for each alert it names
    for message in many:  # the most urgent first
        rendered = json.dumps(message.blocks)
        levels = [rendered.index(word) for word in ("CRITICAL", "MAJOR") if word in rendered]
        assert levels == sorted(levels)


async def test_a_page_message_slack_posted_but_never_confirmed_is_not_sent_twice(
    tocsin: Harness,
) -> None:
    titles = ["Second", "Third", "Fourth"]
    await _page_message_posted_unconfirmed(tocsin, titles)  # the retry finds it, stops there

    def named(title: str) -> int:
        return sum(title in json.dumps(m.blocks) for m in tocsin.dms("U0ALICE"))

    await tocsin.world.wait_for(lambda: all(named(t) for t in titles), timeout=20)
    await tocsin.until(
        lambda: _nothing_pending(tocsin), what="every page delivered or found", seconds=20
    )
    assert [named(t) for t in titles] == [1, 1, 1]


async def test_each_row_of_a_page_message_in_doubt_finds_it_even_when_retried_alone(
    tocsin: Harness,
) -> None:
    await _page_message_posted_unconfirmed(tocsin, ["Second", "Third"])
    await tocsin.world.wait_for(lambda: len(tocsin.dms("U0ALICE")) == 2, timeout=20)
    await tocsin.until(
        lambda: _nothing_pending(tocsin), what="every page delivered or found", seconds=20
    )
    [message] = [m for m in tocsin.dms("U0ALICE") if "Second" in json.dumps(m.blocks)]
    assert "Third" in json.dumps(message.blocks)  # one message named both

    # the last row's retry comes due a moment after the first's and is claimed on its own:
    # it finds the message the failed attempt posted, by its own key
    async with tocsin.service.db.read() as session:
        query = select(OutboxRow).where(OutboxRow.kind == OutboxKind.PAGE_DM.value)
        last = (await session.exec(query.order_by(col(OutboxRow.id).desc()))).first()
    assert last is not None
    assert last.id is not None
    alone = outbox.Claimed(
        id=last.id,
        alert_id=last.alert_id,
        kind=last.kind,
        payload=dict(last.payload),
        attempts=1,
        created_at=last.created_at,
        idempotency_key=last.idempotency_key,
        in_doubt=True,
    )
    done = await tocsin.service.outbox_sender._deliveries.deliver_pages([alone])
    assert done == [last.id]
    assert len(tocsin.dms("U0ALICE")) == 2  # nothing posted again


async def _page_message_posted_unconfirmed(tocsin: Harness, titles: list[str]) -> None:
    """Alice paged once; then pages for ``titles`` due together, whose one message Slack posts
    but answers 500 for (its outcome unknown to Tocsin)."""
    assert (await tocsin.webhook("generic", {"title": "First", "level": 2})).status_code == 202
    await tocsin.world.wait_for(lambda: len(tocsin.dms("U0ALICE")) == 1, timeout=10)
    dm = tocsin.world.open_dm("U0ALICE")
    tocsin.world.fail_next("chat.postMessage", status=500, apply=True, channel=dm.id)
    batch = {"alerts": [{"title": t, "level": 2, "fingerprint": t} for t in titles]}
    assert (await tocsin.webhook("generic", batch)).status_code == 202


async def _nothing_pending(tocsin: Harness) -> bool:
    async with tocsin.service.db.read() as session:
        query = select(OutboxRow).where(
            OutboxRow.status == "pending", OutboxRow.kind == OutboxKind.PAGE_DM.value
        )
        return not (await session.exec(query)).all()
