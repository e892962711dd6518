"""`tocsin report` and `tocsin export` over a real database filled through the real path."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.slack import ids
from storage.tables import AlertEventRow, AlertRow
from tests.support.databases import database
from tests.support.harness import Harness, running_tocsin


@pytest.fixture
async def tocsin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Harness]:
    async with database("sqlite", tmp_path) as url, running_tocsin(database_url=url) as harness:
        monkeypatch.setenv("TOCSIN_DATABASE_URL", url)
        yield harness


async def invoke(*args: str) -> str:
    result = await asyncio.to_thread(CliRunner().invoke, cli, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


async def two_alerts_one_resolved(tocsin: Harness) -> None:
    await tocsin.webhook("generic", {"title": "Disk full", "level": 2, "fingerprint": "disk"})
    await tocsin.webhook("generic", {"title": "Queue slow", "level": 3, "fingerprint": "queue"})
    messages = await tocsin.wait_for_messages(2)
    first = next(m for m in messages if "Disk full" in m.text)
    await tocsin.driver.press_button(
        channel=first.channel, ts=first.ts, action_id=ids.ACKNOWLEDGE, user="U0ALICE"
    )
    await tocsin.webhook(
        "generic", {"title": "Disk full", "status": "resolved", "fingerprint": "disk"}
    )

    async def resolved() -> bool:
        async with tocsin.service.db.read() as session:
            rows = (await session.exec(select(AlertRow).where(AlertRow.status == "resolved"))).all()
        return len(rows) == 1

    await tocsin.until(resolved, what="the first alert to be resolved")


async def test_report_json_counts_alerts_and_acknowledgements(tocsin: Harness) -> None:
    await two_alerts_one_resolved(tocsin)
    data = json.loads(await invoke("report", "1d", "--format", "json"))
    overall = data["overall"]
    assert overall["alerts"] == 2
    assert overall["resolved"] == 1
    assert overall["resolved_by_source"] == 1
    assert overall["open"] == 1
    assert overall["acknowledged"] == 1
    assert data["by_person"]["U0ALICE"]["alerts"] == 1
    assert set(data["by_level"]) == {"2", "3"}
    assert data["root_causes"] == {"by the source": 1}


async def test_report_text_and_csv_show_the_same_groups(tocsin: Harness) -> None:
    await two_alerts_one_resolved(tocsin)
    text = await invoke("report", "7d")
    assert "overall" in text
    assert "Root causes" in text
    assert "by the source: 1" in text
    csv_out = await invoke("report", "7d", "--format", "csv")
    assert csv_out.splitlines()[0].startswith("group,name,alerts")
    assert any(line.startswith("team,ops,2,") for line in csv_out.splitlines())


async def test_export_reads_back_equal_to_the_database(tocsin: Harness, tmp_path: Path) -> None:
    await two_alerts_one_resolved(tocsin)
    out = tmp_path / "export.jsonl"
    await invoke("export", "--output", str(out))
    records = [json.loads(line) for line in out.read_text().splitlines()]
    async with tocsin.service.db.read() as session:
        alerts = (await session.exec(select(AlertRow).order_by(AlertRow.id))).all()
        events = (await session.exec(select(AlertEventRow))).all()
    assert [r["id"] for r in records] == [a.id for a in alerts]
    for record, alert in zip(records, alerts, strict=True):
        assert record["title"] == alert.title
        assert record["status"] == alert.status
        assert record["fired_at"] == alert.fired_at.isoformat()
        expected = [e.summary for e in events if e.alert_id == alert.id]
        assert [t["summary"] for t in record["timeline"]] == expected
    csv_out = tmp_path / "export.csv"
    await invoke("export", "--format", "csv", "--output", str(csv_out))
    assert len(csv_out.read_text().splitlines()) == 1 + len(alerts)
