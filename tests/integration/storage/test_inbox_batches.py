"""The inbox worker's batches leave the database as processing body by body does: the same
alerts, timeline lines, outbox rows, groups, resolutions and inbox statuses — for a mix of
new alerts, repeats, the same fingerprint twice in a batch, resolutions, groups, silences,
flapping, metrics, acknowledgements, mirrors, truncation counts and bad bodies among good
ones. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import re
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from structlog.testing import capture_logs

from bot.policy.policy_file import load_policy
from bot.policy.rules import build_rules
from config.settings import async_url
from escalation.model import AlertEvent, Metric, SourceStatus
from escalation.noise.label_matchers import Matcher, Op
from storage.db import Database
from storage.intake import batch_ingest, inbox
from storage.intake.batch_ingest import Body, process_batch
from storage.intake.ingest import IngestOutcome, IngestRules, parse, process
from storage.noise.silences import create_silence
from tests.support.databases import database
from tests.support.policies import example_policy
from tests.support.workers import inbox_worker

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
ROUTES = """routes:
  - {match: {service: pay}, continue: true, channel: "#payments", team: ops}
  - {match: {service: pay}, channel: "#alerts", team: ops}
  - {match: {service: db}, group_by: [cluster], channel: "#alerts", team: ops}
"""


def parse_events(payload: object) -> list[AlertEvent]:
    """A test format that says everything an event can carry."""
    assert isinstance(payload, dict)
    events = []
    for raw in payload["events"]:
        metric = raw.get("metric")
        events.append(
            AlertEvent(
                fingerprint=raw["fp"],
                status=SourceStatus(raw.get("status", "firing")),
                title=raw.get("title", f"Problem {raw['fp']}"),
                source="test",
                severity=raw.get("severity"),
                labels=raw.get("labels", {}),
                group_key=raw.get("group_key"),
                details=raw.get("details", {}) if not raw.get("unstorable") else {"x": {1}},
                metric=Metric(**metric) if metric else None,
                starts_at=NOW - timedelta(minutes=1),
            )
        )
    return events


def rules_for(tmp_path: Path) -> IngestRules:
    path = example_policy(tmp_path)
    path.write_text(path.read_text().replace("routes: []\n", ROUTES))
    policy = load_policy(path, env={"TOCSIN_WEBHOOK_TOKEN": "t" * 32})
    ingest = build_rules(policy).ingest
    return dataclasses.replace(ingest, parsers={**ingest.parsers, "events": parse_events})


def body(*events: dict[str, Any]) -> bytes:
    return json.dumps({"events": list(events)}).encode()


SEED = [
    body({"fp": "open-1", "severity": "warning"}),
    body({"fp": "open-2", "severity": "warning"}),
    body({"fp": "cut", "details": {"truncatedAlerts": 2}}),
    # Alertmanager's bodies always carry the count, 0 when it left nothing out
    body({"fp": "am-zero", "details": {"truncatedAlerts": 0}}),
    body({"fp": "am-zero-2", "details": {"truncatedAlerts": 0}}),
    body({"fp": "uncounted"}),
    # a group of three (cluster c1): the first leads, the others are members
    body({"fp": "db-1", "labels": {"service": "db", "cluster": "c1"}, "severity": "critical"}),
    body({"fp": "db-2", "labels": {"service": "db", "cluster": "c1"}}),
    body({"fp": "db-3", "labels": {"service": "db", "cluster": "c1"}}),
    body(
        {
            "fp": "orders",
            "metric": {"name": "orders_per_minute", "value": 92, "baseline": 100},
        }
    ),
    # fired four times already: the fifth time it is flapping
    *(body({"fp": "flap", "status": "resolved" if i % 2 else "firing"}) for i in range(8)),
]

GOOD = [
    body({"fp": "new-1", "severity": "critical"}),
    body({"fp": "open-1"}),
    body({"fp": "new-2"}, {"fp": "new-2"}),  # the same fingerprint twice in one body
    body({"fp": "new-3", "severity": "minor"}),
    body({"fp": "new-3"}),  # a repeat of an alert opened earlier in the batch
    body({"fp": "open-2", "status": "resolved"}),
    body({"fp": "open-2"}),  # opens again after its resolution in the same batch
    body({"fp": "db-1", "status": "resolved"}),  # the lead: db-2 takes over
    body({"fp": "db-2"}),  # the new lead fires again
    body({"fp": "db-4", "labels": {"service": "db", "cluster": "c1"}}),  # joins
    body({"fp": "db-9", "labels": {"service": "db", "cluster": "c9"}}),  # starts a group
    body({"fp": "db-10", "labels": {"service": "db", "cluster": "c9"}}),  # joins it
    # a source's group key: the first starts a group, the others join it
    body({"fp": "am-1", "group_key": "gk"}, {"fp": "am-2", "group_key": "gk"}),
    body({"fp": "am-3", "group_key": "gk"}, {"fp": "am-1", "status": "resolved"}),
    body({"fp": "am-4", "group_key": "gk"}, {"fp": "am-2"}),
    body({"fp": "muted", "labels": {"service": "quiet"}}),
    body({"fp": "flap"}),
    body({"fp": "open-1", "severity": "critical"}),  # graded worse: re-graded
    body({"fp": "open-1"}),
    body({"fp": "pay", "labels": {"service": "pay"}}),  # mirrored
    body({"fp": "cut", "details": {"truncatedAlerts": 5}}),
    body({"fp": "late-cut", "details": {"truncatedAlerts": 3}}),
    body({"fp": "am-zero", "details": {"truncatedAlerts": 0}}),  # the count as it was
    body({"fp": "am-zero-2"}),  # no count this time: it is set to 0, as it was
    body({"fp": "uncounted", "details": {"truncatedAlerts": 0}}),  # a count at last
    body({"fp": "am-zero-2", "details": {"truncatedAlerts": 4}}),  # now it left some out
    body({"fp": "orders", "metric": {"name": "orders_per_minute", "value": 70, "baseline": 100}}),
    body({"fp": "noise", "metric": {"name": "orders_per_minute", "value": 99, "baseline": 100}}),
    body({"fp": "never-open", "status": "resolved"}),
    body({"fp": "new-1"}, {"fp": "new-4"}, {"fp": "new-1", "status": "resolved"}),
    body({"fp": "new-5"}, {"fp": "new-5"}, {"fp": "new-5"}),
]
BAD = [b"{not json", body({"fp": "bad", "unstorable": True})]
WITH_BAD = [*GOOD[:4], BAD[0], *GOOD[4:12], BAD[1], *GOOD[12:]]


@contextlib.asynccontextmanager
async def migrated(kind: str, tmp_path: Path) -> AsyncIterator[Database]:
    async with database(kind, tmp_path) as url:
        db = Database(async_url(url))
        await db.upgrade()
        try:
            yield db
        finally:
            await db.dispose()


Pending = bytes | tuple[str, bytes]
"""A body for integration ``test``, or (another integration, a body)."""


async def seed(db: Database, rules: IngestRules, bodies: Sequence[Pending]) -> None:
    for i, raw in enumerate(SEED):
        at = NOW - timedelta(minutes=len(SEED) - i)
        item_id = await inbox.store(
            db, integration="test", source_format="events", body=raw, now=at
        )
        [item] = await inbox.claim(db, now=at)
        assert item.id == item_id
        await process(db, item, rules, now=at)
    await create_silence(
        db,
        matchers=[Matcher("service", Op.EQUAL, "quiet")],
        starts_at=NOW - timedelta(hours=1),
        ends_at=NOW + timedelta(hours=1),
        team=None,
        created_by="U0ALICE",
        comment="maintenance",
        now=NOW - timedelta(hours=1),
    )
    for pending in bodies:
        name, raw = pending if isinstance(pending, tuple) else ("test", pending)
        await inbox.store(db, integration=name, source_format="events", body=raw, now=NOW)


class AliceOnCall:
    """A directory in which every rotation is Alice's."""

    def on_call(self, rotation: str, *, at: datetime) -> str | None:
        return "U0ALICE"


async def body_by_body(
    db: Database, rules: IngestRules, *, directory: AliceOnCall | None = None
) -> None:
    """What the worker did before batches: each body in its own transaction."""
    for item in await inbox.claim(db, now=NOW, limit=1000):
        try:
            await process(db, item, rules, now=NOW, directory=directory)
        except Exception as exc:
            await inbox.mark_failed(db, item.id, now=NOW, error=f"{type(exc).__name__}: {exc}")


async def batched(db: Database, rules: IngestRules, *, bodies: int, events: int) -> int:
    return await inbox_worker(db, rules, now=NOW, bodies=bodies, events=events).drain()


TABLES = {
    "alert": "id",
    "alert_event": "id",
    "outbox": "id",
    "resolution": "id",
    "alert_group": "id",
    "alert_mirror": "alert_id, channel",
    "slack_message": "alert_id",
    "noise_drop": "fingerprint, integration",
    "inbox": "id",
}


async def contents(db: Database) -> dict[str, list[dict[str, Any]]]:
    found = {}
    async with db.read() as session:
        conn = await session.connection()
        for table, order in TABLES.items():
            rows = (await conn.execute(text(f"SELECT * FROM {table} ORDER BY {order}"))).all()  # noqa: S608
            found[table] = [_comparable(table, dict(row._mapping)) for row in rows]
    return found


def _comparable(table: str, row: dict[str, Any]) -> dict[str, Any]:
    if table == "outbox" and str(row["idempotency_key"]).startswith("group:"):
        row["idempotency_key"] = "group:…"  # a random part, so each redraw is its own row
    if table == "inbox" and row["error"]:
        row["error"] = row["error"].split(":")[0]
    for name, value in row.items():
        if isinstance(value, str) and value[:1] in "{[":
            with contextlib.suppress(ValueError):
                row[name] = json.loads(value)  # JSON columns as SQLite returns them
    return row


@pytest.fixture(params=["sqlite", "postgres"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextlib.asynccontextmanager
async def twins(
    kind: str,
    tmp_path: Path,
    rules: IngestRules,
    bodies: Sequence[Pending],
    *,
    directory: AliceOnCall | None = None,
) -> AsyncIterator[tuple[Database, Database]]:
    """Two databases seeded alike, ``bodies`` pending in their inboxes, the first one's
    processed body by body (paging as they open with a ``directory``)."""
    for name in ("one", "batched"):
        (tmp_path / name).mkdir()
    async with (
        migrated(kind, tmp_path / "one") as one,
        migrated(kind, tmp_path / "batched") as many,
    ):
        for db in (one, many):
            await seed(db, rules, bodies)
        await body_by_body(one, rules, directory=directory)
        yield one, many


def renumbered(found: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Ids as ranks. A transaction rolled back still used up the numbers it took from a
    PostgreSQL sequence (a failed batch, before it is done again body by body); order is
    all that the ids tell."""
    alerts = {row["id"]: rank for rank, row in enumerate(found["alert"], start=1)}
    groups = {row["id"]: rank for rank, row in enumerate(found["alert_group"], start=1)}

    def alert_refs(value: str) -> str:
        value = re.sub(r"#(\d+)", lambda m: f"#{alerts.get(int(m[1]), m[1])}", value)
        return re.sub(r"alert:(\d+):", lambda m: f"alert:{alerts[int(m[1])]}:", value)

    out: dict[str, list[dict[str, Any]]] = {}
    for table, rows in found.items():
        out[table] = []
        for rank, row in enumerate(rows, start=1):
            row = dict(row)
            if table in ("alert_event", "outbox", "resolution"):
                row["id"] = rank
            for name in ("alert_id", "anchor_id", "lead_id"):
                if row.get(name) is not None:
                    row[name] = alerts[row[name]]
            if table == "alert":
                row["id"] = alerts[row["id"]]
            if table == "alert_group":
                row["id"] = groups[row["id"]]
            if row.get("group_id") is not None:
                row["group_id"] = groups[row["group_id"]]
            for name in ("summary", "idempotency_key"):
                if isinstance(row.get(name), str):
                    row[name] = alert_refs(row[name])
            if isinstance(row.get("payload"), dict):
                row["payload"] = json.loads(alert_refs(json.dumps(row["payload"])))
                if row.get("kind") == "group_list":
                    row["payload"]["group"] = groups[row["payload"]["group"]]
            out[table].append(row)
    return out


def redraws_once(found: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The outbox with one member-list row per group and one edit per warning (a group's,
    which its members share, or an alert's own): a batch asks once per transaction for each,
    as they are drawn from the state at delivery, where body by body each body asked."""
    group_of = {row["id"]: row["group_id"] for row in found["alert"]}
    seen: set[tuple[str, int]] = set()
    kept = []
    for row in found["outbox"]:
        once: tuple[str, int] | None = None
        if row["kind"] == "group_list":
            once = ("list", row["payload"]["group"])
        elif row["kind"] == "update_warning":
            group = group_of.get(row["alert_id"])
            once = ("alert", row["alert_id"]) if group is None else ("group", group)
        if once is not None and once in seen:
            continue
        if once is not None:
            seen.add(once)
        kept.append(row)
    return {**found, "outbox": kept}


async def assert_same(one: Database, many: Database) -> dict[str, list[dict[str, Any]]]:
    expected = renumbered(redraws_once(await contents(one)))
    got = renumbered(redraws_once(await contents(many)))
    for table in TABLES:
        assert got[table] == expected[table], table
    return got


async def test_one_batch_leaves_what_body_by_body_processing_leaves(
    kind: str, tmp_path: Path
) -> None:
    rules = rules_for(tmp_path)
    async with twins(kind, tmp_path, rules, GOOD) as (one, many):
        items = await inbox.claim(many, now=NOW, limit=1000)
        bodies = [Body(item, parse(item, rules)) for item in items]
        outcomes = await process_batch(many, bodies, rules, now=NOW)
        got = await assert_same(one, many)
    assert len(outcomes) == len(GOOD)
    assert all(row["status"] == "done" for row in got["inbox"])
    kinds = {row["kind"] for row in got["alert_event"]}
    assert {"graded", "routed", "fired", "refired", "resolved", "regraded", "mirrored"} <= kinds
    assert {"noise", "group_lead", "source_notice"} <= kinds
    assert any(row["flap_fires"] for row in got["alert"])
    assert any(row["silence_id"] for row in got["alert"])
    assert got["noise_drop"]


async def test_new_alerts_paged_as_they_open_leave_the_same_rows_batched_or_not(
    kind: str, tmp_path: Path
) -> None:
    rules = rules_for(tmp_path)
    alice = AliceOnCall()
    async with twins(kind, tmp_path, rules, GOOD, directory=alice) as (one, many):
        items = await inbox.claim(many, now=NOW, limit=1000)
        bodies = [Body(item, parse(item, rules)) for item in items]
        outcomes = await process_batch(many, bodies, rules, now=NOW, directory=alice)
        got = await assert_same(one, many)
    opened = {alert for outcome in outcomes for alert in outcome.opened}
    paged = [alert for outcome in outcomes for alert in outcome.stepped]
    assert paged, "new alerts whose first tier is due at once are paged as they open"
    assert set(paged) < opened  # not group members, silenced alerts, later first tiers
    renumber = {row["id"]: rank for rank, row in enumerate(got["alert"], start=1)}
    ranks = {renumber[alert] for alert in paged}
    alerts = {row["id"]: row for row in got["alert"]}
    assert all(alerts[rank]["tier"] == 0 for rank in ranks)  # tier 1 paged (-1: not yet)
    lines = [row for row in got["alert_event"] if row["alert_id"] in ranks]
    assert sorted(row["alert_id"] for row in lines if row["rule"] == "STEP-1") == sorted(ranks)
    dms = [row for row in got["outbox"] if row["kind"] == "page_dm" and row["alert_id"] in ranks]
    assert sorted(row["alert_id"] for row in dms) == sorted(ranks)
    assert {row["payload"]["user"] for row in dms} == {"U0ALICE"}


async def test_alertmanager_repeats_with_nothing_left_out_take_the_bulk_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alertmanager sends its truncation count (0) with every alert: its repeats change
    nothing but the alerts' state, so they are planned in memory, not through the ORM."""
    rules = rules_for(tmp_path)
    repeats = [body({"fp": "am-zero", "details": {"truncatedAlerts": 0}}) for _ in range(3)]
    async with twins("sqlite", tmp_path, rules, repeats) as (one, many):
        through_orm: list[str] = []
        real = batch_ingest._Batch._through_orm

        async def noted(self: Any, event: AlertEvent, *args: Any, **kwargs: Any) -> None:
            through_orm.append(event.fingerprint)
            await real(self, event, *args, **kwargs)

        monkeypatch.setattr(batch_ingest._Batch, "_through_orm", noted)
        items = await inbox.claim(many, now=NOW, limit=1000)
        outcomes = await process_batch(
            many, [Body(i, parse(i, rules)) for i in items], rules, now=NOW
        )
        await assert_same(one, many)
    assert through_orm == []
    assert [len(outcome.updated) for outcome in outcomes] == [1, 1, 1]


@pytest.mark.parametrize(("bodies", "events"), [(200, 1000), (200, 40), (4, 3), (1, 1)])
async def test_the_worker_s_batches_fail_only_the_bad_bodies(
    kind: str, bodies: int, events: int, tmp_path: Path
) -> None:
    rules = rules_for(tmp_path)
    async with twins(kind, tmp_path, rules, WITH_BAD) as (one, many):
        assert await batched(many, rules, bodies=bodies, events=events) == len(WITH_BAD)
        got = await assert_same(one, many)
    statuses = [row["status"] for row in got["inbox"][len(SEED) :]]
    assert statuses.count("failed") == 2  # the unreadable body, the unstorable event
    assert statuses.count("done") == len(GOOD)


# The seed's alerts came to integration "test"; "other" is a second tool that happens to
# send the same fingerprints.
CROSS: list[Pending] = [
    ("other", body({"fp": "open-1", "severity": "critical"})),  # not test's open-1: a new one
    body({"fp": "open-1"}),  # test's own repeat
    ("other", body({"fp": "open-1"})),  # a repeat of other's
    ("other", body({"fp": "open-2", "status": "resolved"})),  # other has none open: ignored
    body({"fp": "open-2", "status": "resolved"}),  # closes test's open-2 only
    ("other", body({"fp": "shared"}, {"fp": "shared"})),
    body({"fp": "shared"}),  # the same fingerprint from test: a second alert
    ("other", body({"fp": "shared", "status": "resolved"})),  # closes other's only
    ("other", body({"fp": "flap"})),  # test's flapping history is not other's
    body({"fp": "flap"}),  # test's fifth firing: flapping
    *(
        (
            name,
            body(
                {
                    "fp": "quiet",
                    "metric": {"name": "orders_per_minute", "value": 99, "baseline": 100},
                }
            ),
        )
        for name in ("other", "test", "other")
    ),  # noise, counted per integration
]


@pytest.mark.parametrize("way", ["process_batch", "worker"])
async def test_the_same_fingerprint_from_two_integrations_is_two_alerts_batched_or_not(
    kind: str, way: str, tmp_path: Path
) -> None:
    rules = rules_for(tmp_path)
    async with twins(kind, tmp_path, rules, CROSS) as (one, many):
        if way == "worker":
            assert await batched(many, rules, bodies=200, events=1000) == len(CROSS)
        else:
            items = await inbox.claim(many, now=NOW, limit=1000)
            bodies = [Body(item, parse(item, rules)) for item in items]
            assert len(await process_batch(many, bodies, rules, now=NOW)) == len(CROSS)
        got = await assert_same(one, many)
    alerts: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in got["alert"]:
        alerts.setdefault((row["integration"], row["fingerprint"]), []).append(row)
    [other_open_1] = alerts["other", "open-1"]
    assert (other_open_1["status"], other_open_1["count"]) == ("firing", 2)
    assert [row["count"] for row in alerts["test", "open-1"]] == [2]
    assert alerts["test", "open-1"][0]["status"] == "firing"
    assert ("other", "open-2") not in alerts
    assert [row["status"] for row in alerts["test", "open-2"]] == ["resolved"]
    assert [row["status"] for row in alerts["other", "shared"]] == ["resolved"]
    assert [row["status"] for row in alerts["test", "shared"]] == ["firing"]
    assert [row["flap_fires"] for row in alerts["other", "flap"]] == [None]
    assert alerts["test", "flap"][-1]["flap_fires"]
    assert all(row["status"] == "done" for row in got["inbox"])
    drops = {(row["integration"], row["fingerprint"]): row["count"] for row in got["noise_drop"]}
    assert (drops["other", "quiet"], drops["test", "quiet"]) == (2, 1)


async def test_a_webhook_is_stored_while_a_worker_transaction_holds_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a SQLite file the inbox has a file and a writer of its own: a webhook's commit
    waits for no worker transaction, even one that has written its rows and holds the
    database's writer (with one writer for both, this store would wait for it for ever)."""
    rules = rules_for(tmp_path)
    (tmp_path / "db").mkdir()
    async with migrated("sqlite", tmp_path / "db") as db:
        assert await db.inbox_apart()
        raw = body({"fp": "backlog"})
        await inbox.store(db, integration="test", source_format="events", body=raw, now=NOW)
        writer = inbox.InboxWriter(db)
        stored: list[int] = []
        write = batch_ingest._Batch.write

        async def writing(batch: Any) -> None:
            await write(batch)  # the worker's rows are written, its transaction still open
            if not stored:
                meanwhile = body({"fp": "meanwhile"})
                store = writer.store(
                    integration="test", source_format="events", body=meanwhile, now=NOW
                )
                stored.append(await asyncio.wait_for(store, timeout=10))

        monkeypatch.setattr(batch_ingest._Batch, "write", writing)
        assert await batched(db, rules, bodies=10, events=10) == 2  # the drain took it too
        await writer.close()
        got = await contents(db)
    assert stored == [2]
    assert [row["status"] for row in got["inbox"]] == ["done", "done"]
    assert sorted(row["fingerprint"] for row in got["alert"]) == ["backlog", "meanwhile"]


async def test_a_fingerprint_another_replica_opened_meanwhile_is_a_repeat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch found no open alert; another replica opened one before the batch wrote its
    own: the unique index refuses the second, and the batch done again makes it a repeat."""
    rules = rules_for(tmp_path)
    (tmp_path / "db").mkdir()
    async with migrated("postgres", tmp_path / "db") as db:
        raw = body({"fp": "race"})
        await inbox.store(db, integration="test", source_format="events", body=raw, now=NOW)
        [elsewhere] = await inbox.claim(db, now=NOW)  # the other replica's body
        await inbox.store(db, integration="test", source_format="events", body=raw, now=NOW)
        start = batch_ingest._Batch.start
        raced: list[IngestOutcome] = []

        async def racing(batch: Any, events: Any) -> None:
            await start(batch, events)
            if not raced:  # it commits while this batch is planning
                raced.append(await process(db, elsewhere, rules, now=NOW))

        monkeypatch.setattr(batch_ingest._Batch, "start", racing)
        assert await batched(db, rules, bodies=10, events=10) == 1
        got = await contents(db)
    [alert] = got["alert"]
    assert alert["count"] == 2
    assert [row["kind"] for row in got["alert_event"]] == ["fired", "graded", "routed", "refired"]
    assert [row["status"] for row in got["inbox"]] == ["done", "done"]


@pytest.mark.parametrize("reloaded", [False, True])
async def test_the_worker_uses_the_events_the_intake_parsed_unless_the_rules_changed(
    tmp_path: Path, reloaded: bool
) -> None:
    """A body taken in by this process is parsed once: its worker takes the events kept as
    it was stored (here told apart from the body's own by their title) — unless the policy
    was reloaded meanwhile, when it parses the body by the rules of now."""
    rules = rules_for(tmp_path)
    (tmp_path / "db").mkdir()
    async with migrated("sqlite", tmp_path / "db") as db:
        worker = inbox_worker(db, rules, now=NOW)
        writer = inbox.InboxWriter(db, parsed=worker.parsed)
        raw = body({"fp": "kept", "title": "As in the body"})
        [as_parsed] = parse_events(json.loads(raw))
        kept = dataclasses.replace(as_parsed, title="As parsed at the door")
        await writer.store(
            integration="test", source_format="events", body=raw, now=NOW, parsed=(rules, [kept])
        )
        await writer.close()
        assert len(worker.parsed) == 1
        if reloaded:
            worker.use_rules(dataclasses.replace(rules))
        assert await worker.drain() == 1
        [alert] = (await contents(db))["alert"]
    title = alert["title"]
    assert title == ("As in the body" if reloaded else "As parsed at the door")
    assert len(worker.parsed) == 0


async def test_members_joining_in_one_batch_ask_for_one_redraw_and_one_listing(
    tmp_path: Path,
) -> None:
    """A notification of 50 alerts sharing a group key: the first opens the group's warning;
    the 49 joining ask once for the warning's redraw and once for the member list (both
    drawn from the state at delivery), not 49 times each for the sender to claim. The same
    notification again (Alertmanager's repeat_interval): one more redraw, not 50."""
    rules = rules_for(tmp_path)
    (tmp_path / "db").mkdir()
    async with migrated("sqlite", tmp_path / "db") as db:
        raw = body(*({"fp": f"member-{i}", "group_key": "node-pool"} for i in range(50)))
        await inbox.store(db, integration="test", source_format="events", body=raw, now=NOW)
        items = await inbox.claim(db, now=NOW)
        [outcome] = await process_batch(
            db, [Body(i, parse(i, rules)) for i in items], rules, now=NOW
        )
        found = await contents(db)
        await inbox.store(db, integration="test", source_format="events", body=raw, now=NOW)
        items = await inbox.claim(db, now=NOW)
        [again] = await process_batch(db, [Body(i, parse(i, rules)) for i in items], rules, now=NOW)
        repeated = await contents(db)
    assert len(outcome.opened) == 50
    assert len({row["group_id"] for row in found["alert"]}) == 1
    kinds = [row["kind"] for row in found["outbox"]]
    assert kinds.count("post_warning") == 1
    assert kinds.count("update_warning") == 1
    assert kinds.count("group_list") == 1
    assert len(again.updated) == 50
    assert all(row["count"] == 2 for row in repeated["alert"])
    kinds = [row["kind"] for row in repeated["outbox"]]
    assert (kinds.count("update_warning"), kinds.count("group_list")) == (2, 1)


async def test_a_claim_hands_out_bodies_up_to_its_byte_bound_and_at_least_one(
    kind: str, tmp_path: Path
) -> None:
    """A claim of many bodies at their size cap would hold them all in memory: it stops at
    ``max_bytes`` of bodies; the rest stay pending for the next claim, in order."""
    async with migrated(kind, tmp_path) as db:
        for i in range(3):
            raw = body({"fp": f"fp-{i}", "title": "x" * 100})
            await inbox.store(db, integration="test", source_format="events", body=raw, now=NOW)
        size = len(body({"fp": "fp-0", "title": "x" * 100}))
        first = await inbox.claim(db, now=NOW, limit=10, max_bytes=2 * size + 1)
        alone = await inbox.claim(db, now=NOW, limit=10, max_bytes=1)  # larger than the bound
        rest = await inbox.claim(db, now=NOW, limit=10)
    assert [item.id for item in first] == [1, 2]
    assert [item.id for item in alone] == [3]
    assert rest == []


async def test_the_worker_logs_a_line_per_batch_and_each_body_only_at_debug(
    tmp_path: Path,
) -> None:
    """A flood of single-alert webhooks is thousands of bodies a second: the worker's INFO
    line sums up a transaction's bodies (which, and what they did in all); each body's own
    line, with its alert ids, is at DEBUG."""
    rules = rules_for(tmp_path)
    (tmp_path / "db").mkdir()
    async with migrated("sqlite", tmp_path / "db") as db:
        for raw in (
            body({"fp": "a"}, {"fp": "b"}),
            body({"fp": "a"}),
            body({"fp": "gone", "status": "resolved"}),
        ):
            await inbox.store(db, integration="test", source_format="events", body=raw, now=NOW)
        with capture_logs() as logs:
            assert await batched(db, rules, bodies=10, events=100) == 3
    [line] = [entry for entry in logs if entry["event"] == "inbox_batch_processed"]
    assert line["log_level"] == "info"
    assert (line["bodies"], line["first_inbox_id"], line["last_inbox_id"]) == (3, 1, 3)
    assert (line["opened"], line["updated"], line["ignored"]) == (2, 1, 1)
    each = [entry for entry in logs if entry["event"] == "inbox_processed"]
    assert [entry["inbox_id"] for entry in each] == [1, 2, 3]
    assert {entry["log_level"] for entry in each} == {"debug"}
    assert len(each[0]["opened"]) == 2
