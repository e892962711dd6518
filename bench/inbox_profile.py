"""CPU time per alert of the inbox worker, in one process: new alerts and repeat firings,
in batches (the service's path) or body by body (the path before batches, for comparison).

    .venv/bin/python -m bench.inbox_profile [--db sqlite|postgres|both] [--alerts 5000]
                                            [--mode batch|body|both] [--cprofile] [--top 30]
                                            [--batch-bodies 200] [--batch-events 1000]
                                            [--grouped]

For each database and mode, a fresh database (migrated with Alembic) and the shipped example
policy (grouping and flapping on). ``alerts`` single-alert generic webhook bodies, each its
own fingerprint, are stored in the inbox (as the intake stores them, ``InboxWriter``); then
the worker drains them on a fixed clock — claims, parsing, grading, routing, the writes and
the commits, as the service does (log lines at WARNING, as the other profiles). That is the
**new** phase (with ``--grouped`` each body carries a group key of its own, as Alertmanager
sends one webhook per group: each alert then starts a group). The **repeat** phase stores the
same bodies again: each is a repeat firing of its open alert. Figures per alert:

* **client CPU**: ``time.process_time()`` of this process over the drain (on SQLite this
  includes SQLite itself, which runs in aiosqlite's thread);
* **server CPU** (PostgreSQL): user + system time of this database's backends over the drain
  (``/proc``; the server must run on this machine);
* **alerts/s**: alerts over the drain's wall time — on a shared machine it depends on what
  else runs; the CPU figures do not.

Then it checks what the drain left: one alert per fingerprint, fired twice after the repeat
phase, every body done. Exit status 2 if not, else 0.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, text

from bench.escalation_bench import DEFAULT_POSTGRES
from bench.ingest_bench import batch_bodies
from bench.seed import temporary_database
from bench.step_profile import _print_profile, _server_cpu
from bot.policy.policy_file import load_policy
from bot.policy.rules import build_rules
from bot.runtime.heap import freeze_startup_objects
from bot.runtime.logging_setup import configure_logging
from bot.runtime.wakeup import Wakeup
from bot.workers.inbox_worker import InboxWorker
from config.settings import EXAMPLE_POLICY, Settings
from storage.db import Database
from storage.intake import inbox
from storage.intake.ingest import IngestRules, process
from storage.tables import AlertRow, InboxRow, table_of

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
_ALERT, _INBOX = table_of(AlertRow), table_of(InboxRow)
_DEFAULTS = Settings.model_fields


@dataclass(frozen=True, slots=True)
class Figure:
    db: str
    mode: str
    phase: str
    alerts: int
    client_ms: float
    """Client CPU per alert, ms."""
    server_ms: float | None
    per_s: float
    """Alerts per second of wall time."""


def bodies(count: int, *, grouped: bool) -> list[bytes]:
    return [
        json.dumps(
            {
                **({"group_key": f"profile-group-{i}"} if grouped else {}),
                "title": f"Checkout error rate high on node {i % 97}",
                "fingerprint": f"profile-{i}",
                "severity": "warning",
                "description": "5xx above 8% for 10 minutes",
                "labels": {"service": "checkout", "env": "prod", "node": str(i % 97)},
            }
        ).encode()
        for i in range(count)
    ]


def rules() -> IngestRules:
    policy = load_policy(EXAMPLE_POLICY, env={"TOCSIN_WEBHOOK_TOKEN": "p" * 32})
    return build_rules(policy).ingest


async def store(db: Database, raw: list[bytes], source: str) -> None:
    writer = inbox.InboxWriter(db)
    try:
        for start in range(0, len(raw), 500):
            await asyncio.gather(
                *(
                    writer.store(integration=source, source_format=source, body=b, now=NOW)
                    for b in raw[start : start + 500]
                )
            )
    finally:
        await writer.close()


async def drain_batches(db: Database, ingest: IngestRules, args: argparse.Namespace) -> int:
    worker = InboxWorker(
        db=db,
        rules=ingest,
        clock=lambda: NOW,
        wakeup=Wakeup(),
        on_processed=Wakeup(),
        poll_seconds=1,
        batch_bodies=args.batch_bodies,
        batch_events=args.batch_events,
    )
    return await worker.drain()


async def drain_body_by_body(db: Database, ingest: IngestRules, _: argparse.Namespace) -> int:
    """The worker before batches: claims of 50, one transaction per body."""
    total = 0
    while items := await inbox.claim(db, now=NOW, limit=50):
        for item in items:
            await process(db, item, ingest, now=NOW)
            total += 1
    return total


async def run(kind: str, mode: str, args: argparse.Namespace) -> list[Figure]:
    ingest = rules()
    if args.batch_of > 1:  # Alertmanager notifications, ``batch_of`` alerts in each
        raw = batch_bodies("profile", max(1, args.alerts // args.batch_of), args.batch_of)
        source, alerts = "alertmanager", len(raw) * args.batch_of
    else:
        raw, source = bodies(args.alerts, grouped=args.grouped), "generic"
        alerts = len(raw)
    drain = drain_batches if mode == "batch" else drain_body_by_body
    figures = []
    async with temporary_database(kind, args.postgres_url) as url:
        db = Database(url)
        await db.upgrade()
        try:
            for phase in ("new", "repeat"):
                await store(db, raw, source)
                if not db.is_sqlite:
                    async with db.engine.connect() as conn:
                        await conn.execute(text("ANALYZE"))
                freeze_startup_objects()  # as ``tocsin serve`` does once the service is built
                server = await _server_cpu(db)
                profiler = cProfile.Profile() if args.cprofile else None
                cpu, wall = time.process_time(), time.perf_counter()
                if profiler is not None:
                    profiler.enable()
                done = await drain(db, ingest, args)
                if profiler is not None:
                    profiler.disable()
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                after = await _server_cpu(db)
                server_s = None
                if server is not None and after is not None:
                    server_s = sum(after.get(pid, 0.0) - was for pid, was in server.items())
                if done != len(raw):
                    raise SystemExit(f"drained {done} bodies, expected {len(raw)}")
                figures.append(
                    Figure(
                        kind,
                        mode,
                        phase,
                        alerts,
                        round(cpu * 1000 / alerts, 3),
                        None if server_s is None else round(server_s * 1000 / alerts, 3),
                        round(alerts / wall, 1),
                    )
                )
                print(line(figures[-1]), flush=True)
                if profiler is not None:
                    _print_profile(profiler, args.top)
            await check(db, alerts)
        finally:
            await db.dispose()
    return figures


async def check(db: Database, count: int) -> None:
    async with db.read() as session:
        conn = await session.connection()
        alerts, fired = (await conn.execute(select(func.count(), func.sum(_ALERT.c.count)))).one()
        pending = (
            await conn.execute(
                select(func.count()).select_from(_INBOX).where(_INBOX.c.status != "done")
            )
        ).scalar_one()
    if alerts != count or fired != 2 * count or pending:
        print(f"WRONG: {alerts} alerts fired {fired} times, {pending} bodies not done")
        raise SystemExit(2)


def line(f: Figure) -> str:
    server = "" if f.server_ms is None else f", server {f.server_ms:.3f} ms"
    return (
        f"{f.db:<8} {f.mode:<5} {f.phase:<6} {f.alerts} alerts: client CPU {f.client_ms:.3f} "
        f"ms/alert{server}, {f.per_s:,.0f} alerts/s"
    )


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--alerts", type=int, default=5000)
    parser.add_argument("--mode", choices=("batch", "body", "both"), default="both")
    parser.add_argument("--batch-bodies", type=int, default=_DEFAULTS["inbox_batch_bodies"].default)
    parser.add_argument("--batch-events", type=int, default=_DEFAULTS["inbox_batch_events"].default)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--grouped", action="store_true")
    parser.add_argument(
        "--batch-of",
        type=int,
        default=1,
        help="Alertmanager notifications of this many alerts each (default: single-alert "
        "generic bodies)",
    )
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--top", type=int, default=30)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    configure_logging(fmt="console", level="WARNING")
    kinds = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    modes = ("batch", "body") if args.mode == "both" else (args.mode,)
    figures = []
    for kind in kinds:
        for mode in modes:
            figures.extend(asyncio.run(run(kind, mode, args)))
    load = os.getloadavg()
    print(json.dumps({"figures": [asdict(f) for f in figures], "load": load}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
