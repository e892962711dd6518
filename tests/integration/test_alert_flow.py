"""The foundation walked end to end over real HTTP: webhook in, warning in (fake) Slack,
owner by button, resolution kept — on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.sandbox.workspace.models import Message
from bot.slack import ids
from storage.tables import AlertEventRow, AlertRow, InboxRow, ResolutionRow
from tests.support.databases import database
from tests.support.harness import Harness, running_tocsin

FIXTURES = Path(__file__).parents[1] / "unit" / "fixtures"


def am_payload(status: str = "firing", **labels: str) -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="DiskFull"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "tocsin",
        "groupLabels": {"alertname": "DiskFull"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": [
            {
                "status": status,
                "labels": {"alertname": "DiskFull", "severity": "critical", **labels},
                "annotations": {
                    "summary": "Disk almost full on db-1",
                    "description": "/var/lib/postgresql is 97% full",
                    "runbook_url": "https://runbooks.example.com/disk-full",
                },
                "startsAt": "2026-11-21T10:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.example:9090/graph",
                "fingerprint": "c0ffee0000000001",
            }
        ],
    }


@pytest.fixture(params=["sqlite", "postgres"])
async def tocsin(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    async with (
        database(request.param, tmp_path) as url,
        running_tocsin(database_url=url) as harness,
    ):
        yield harness


def text_of(message: Message) -> str:
    return json.dumps(message.blocks) + message.text


async def wait_until_text(harness: Harness, ts: str, needle: str) -> Any:
    def updated() -> bool:
        msgs = [m for m in harness.channel_messages() if m.ts == ts]
        return bool(msgs) and needle in text_of(msgs[0])

    await harness.world.wait_for(updated, timeout=10)
    return next(m for m in harness.channel_messages() if m.ts == ts)


async def test_alertmanager_webhook_posts_one_graded_warning_and_repeats_update_it(
    tocsin: Harness,
) -> None:
    response = await tocsin.webhook("alertmanager", am_payload())
    assert response.status_code == 202, response.text
    assert response.json()["alerts"] == 1
    [message] = await tocsin.wait_for_messages(1)
    assert "CRITICAL: Disk almost full on db-1" in text_of(message)
    assert ids.ACKNOWLEDGE in text_of(message)

    again = await tocsin.webhook("alertmanager", am_payload())
    assert again.status_code == 202
    updated = await wait_until_text(tocsin, message.ts, "Fired 2 times")
    assert len(tocsin.channel_messages()) == 1
    assert updated.edited >= 1


async def test_body_is_in_the_inbox_when_the_webhook_answers(tocsin: Harness) -> None:
    response = await tocsin.webhook("generic", {"title": "Backup failed", "level": 2})
    assert response.status_code == 202
    inbox_id = response.json()["inbox_id"]
    async with tocsin.service.db.read() as session:
        row = await session.get(InboxRow, inbox_id)
    assert row is not None
    assert json.loads(row.body)["title"] == "Backup failed"


async def test_acknowledge_claim_assign_and_resolve_update_the_message_in_place(
    tocsin: Harness,
) -> None:
    await tocsin.webhook("alertmanager", am_payload())
    [message] = await tocsin.wait_for_messages(1)
    channel = message.channel

    await tocsin.driver.press_button(
        channel=channel, ts=message.ts, action_id=ids.ACKNOWLEDGE, user="U0ALICE"
    )
    await wait_until_text(tocsin, message.ts, "*Acknowledged* by <@U0ALICE>")

    await tocsin.driver.press_button(
        channel=channel, ts=message.ts, action_id=ids.CLAIM, user="U0BOB"
    )
    await wait_until_text(tocsin, message.ts, "owner <@U0BOB>")

    await tocsin.driver.select_user(
        channel=channel, ts=message.ts, action_id=ids.ASSIGN, user="U0BOB", selected_user="U0CAROL"
    )
    await wait_until_text(tocsin, message.ts, "owner <@U0CAROL>")

    await tocsin.driver.press_button(
        channel=channel, ts=message.ts, action_id=ids.RESOLVE, user="U0CAROL"
    )
    await tocsin.world.wait_for(lambda: len(tocsin.world.views.open_for()) == 1)
    [view] = tocsin.world.views.open_for()
    assert view.callback_id == ids.RESOLVE_MODAL
    await tocsin.driver.submit_view(
        view_id=view.id,
        user="U0CAROL",
        values={
            ids.RESOLVE_NOTE_BLOCK: {ids.RESOLVE_NOTE_ACTION: "Rotated logs, grew the volume"},
            ids.RESOLVE_CAUSE_BLOCK: {ids.RESOLVE_CAUSE_ACTION: "capacity"},
        },
    )
    resolved = await wait_until_text(tocsin, message.ts, "*Resolved* by <@U0CAROL>")
    assert "Rotated logs, grew the volume" in text_of(resolved)
    assert ids.ACKNOWLEDGE not in text_of(resolved)

    async with tocsin.service.db.read() as session:
        [record] = (await session.exec(select(ResolutionRow))).all()
        timeline = (await session.exec(select(AlertEventRow.rule))).all()
    assert record.resolved_by == "U0CAROL"
    assert record.root_cause == "capacity"
    assert record.note == "Rotated logs, grew the volume"
    assert not record.by_source
    assert record.time_to_acknowledge_s is not None
    assert record.time_to_resolve_s is not None
    assert record.time_to_resolve_s >= record.time_to_acknowledge_s
    for rule in ("FIRE-1", "ACK-1", "CLAIM-2", "ASSIGN-2", "RESOLVE-1"):
        assert rule in timeline


async def test_resolve_modal_without_a_note_is_refused_with_a_field_error(
    tocsin: Harness,
) -> None:
    await tocsin.webhook("alertmanager", am_payload())
    [message] = await tocsin.wait_for_messages(1)
    await tocsin.driver.press_button(
        channel=message.channel, ts=message.ts, action_id=ids.RESOLVE, user="U0ALICE"
    )
    await tocsin.world.wait_for(lambda: len(tocsin.world.views.open_for()) == 1)
    [view] = tocsin.world.views.open_for()
    response = await tocsin.driver.submit_view(
        view_id=view.id,
        user="U0ALICE",
        values={
            ids.RESOLVE_NOTE_BLOCK: {ids.RESOLVE_NOTE_ACTION: "   "},
            ids.RESOLVE_CAUSE_BLOCK: {ids.RESOLVE_CAUSE_ACTION: "capacity"},
        },
    )
    body = response.json()
    assert body["response_action"] == "errors"
    assert ids.RESOLVE_NOTE_BLOCK in body["errors"]
    async with tocsin.service.db.read() as session:
        assert (await session.exec(select(ResolutionRow))).all() == []


async def test_resolved_at_source_resolves_the_warning_and_keeps_the_record(
    tocsin: Harness,
) -> None:
    await tocsin.webhook("alertmanager", am_payload())
    [message] = await tocsin.wait_for_messages(1)
    response = await tocsin.webhook("alertmanager", am_payload("resolved"))
    assert response.status_code == 202
    await wait_until_text(tocsin, message.ts, "*Resolved* by the source")
    async with tocsin.service.db.read() as session:
        [record] = (await session.exec(select(ResolutionRow))).all()
        [alert] = (await session.exec(select(AlertRow))).all()
    assert record.by_source
    assert record.resolved_by is None
    assert record.time_to_acknowledge_s is None
    assert alert.status == "resolved"


async def test_double_click_acts_once_and_tells_the_second_presser(tocsin: Harness) -> None:
    await tocsin.webhook("generic", {"title": "Queue stuck", "severity": "major"})
    [message] = await tocsin.wait_for_messages(1)
    first = await tocsin.driver.press_button(
        channel=message.channel, ts=message.ts, action_id=ids.ACKNOWLEDGE, user="U0ALICE"
    )
    second = await tocsin.driver.press_button(
        channel=message.channel, ts=message.ts, action_id=ids.ACKNOWLEDGE, user="U0BOB"
    )
    assert first.status_code == second.status_code == 200
    await tocsin.world.wait_for(
        lambda: any("Already acknowledged" in e.text for e in tocsin.world.ephemerals)
    )
    [notice] = [e for e in tocsin.world.ephemerals if "Already acknowledged" in e.text]
    assert notice.user == "U0BOB"
    async with tocsin.service.db.read() as session:
        acks = (
            await session.exec(select(AlertEventRow).where(AlertEventRow.rule == "ACK-1"))
        ).all()
    assert len(acks) == 1


async def test_a_new_firing_after_resolution_opens_a_new_warning(tocsin: Harness) -> None:
    payload = {"title": "Cert expires", "fingerprint": "cert-1", "level": 3}
    await tocsin.webhook("generic", payload)
    await tocsin.wait_for_messages(1)
    await tocsin.webhook("generic", {**payload, "status": "resolved"})
    await tocsin.webhook("generic", payload)
    messages = await tocsin.wait_for_messages(2)
    assert len(messages) == 2
    assert "Last time" in text_of(messages[1])
    assert "resolved by the source" in text_of(messages[1])
