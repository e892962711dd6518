"""“Last time” at scale: how long the warning's two look-ups take with many alerts stored.

Seeds ``--alerts`` resolved alerts (default 1,000,000) over a year: most problems fire a
handful of times, a few "hot" ones thousands of times; a third of the repeats change
fingerprint but keep their recurrence key. Then times the real ``storage.alerts``
functions the warning calls — ``last_resolution`` and ``recent_firings`` — for a sample of
alerts, and prints the query plans. Figures are printed, never asserted.

    .venv/bin/python -m bench.last_time_bench                       # SQLite, 1,000,000 alerts
    .venv/bin/python -m bench.last_time_bench --alerts 200000 --db postgres \\
        --postgres-url postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from bench.seed import POLICIES, _template, settle, temporary_database
from escalation.model import Status
from storage.alerts import last_resolution, recent_firings
from storage.db import Database
from storage.tables import AlertRow, table_of

END = datetime(2026, 11, 1, tzinfo=UTC)
HOT_PROBLEMS = 5
HOT_SHARE = 0.05


def plan(alerts: int, rng: random.Random) -> list[tuple[str, str, datetime]]:
    """(fingerprint, recurrence key, fired_at) per alert, oldest first."""
    problems = max(alerts // 8, 1)
    rows = []
    for n in range(alerts):
        if rng.random() < HOT_SHARE:
            problem = rng.randrange(HOT_PROBLEMS)
        else:
            problem = HOT_PROBLEMS + rng.randrange(problems)
        variant = rng.randrange(3) if rng.random() < 0.33 else 0
        fired = END - timedelta(seconds=rng.uniform(0, 365 * 86400))
        rows.append((f"fp-{problem}-{variant}", f"key-{problem:030d}", fired))
        del n
    rows.sort(key=lambda r: r[2])
    return rows


async def seed(db: Database, rows: list[tuple[str, str, datetime]], batch: int = 10_000) -> None:
    base = dict(_template(0, POLICIES[(0, True)]))
    base.update(status=Status.RESOLVED.value, next_action_at=None, escalating=False)
    table = table_of(AlertRow)
    for start in range(0, len(rows), batch):
        chunk = []
        for offset, (fingerprint, key, fired) in enumerate(rows[start : start + batch]):
            alert: dict[str, Any] = dict(base)
            alert.update(
                id=start + offset + 1,
                fingerprint=fingerprint,
                recurrence_key=key,
                fired_at=fired,
                last_seen_at=fired,
                resolved_at=fired + timedelta(minutes=30),
                resolved_by="U0BENCH",
                root_cause="capacity",
                resolution_note="restarted",
            )
            chunk.append(alert)
        async with db.write() as session:
            await (await session.connection()).execute(table.insert(), chunk)
        print(f"\r  seeded {start + len(chunk):,}", end="", flush=True)
    print()


async def measure(db: Database, ids: list[int], *, days: int) -> tuple[list[float], list[float]]:
    last_ms, count_ms = [], []
    async with db.read() as session:
        for alert_id in ids:
            row = await session.get(AlertRow, alert_id)
            assert row is not None
            t0 = time.perf_counter()
            await last_resolution(session, row)
            t1 = time.perf_counter()
            await recent_firings(session, row, days=days)
            t2 = time.perf_counter()
            last_ms.append((t1 - t0) * 1000)
            count_ms.append((t2 - t1) * 1000)
    return last_ms, count_ms


def figures(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"  {name:<16} p50 {statistics.median(ordered):7.2f} ms   p99 {p99:7.2f} ms   "
        f"max {ordered[-1]:7.2f} ms"
    )


async def plans(db: Database) -> None:
    row_sql = (
        "SELECT id FROM alert WHERE recurrence_key = 'k' AND resolved_at IS NOT NULL AND id < 5 "
        "ORDER BY fired_at DESC, id DESC LIMIT 1"
    )
    count_sql = (
        "SELECT count(*) FROM (SELECT id FROM alert WHERE fingerprint = 'f' AND fired_at > "
        "'2026-01-01' AND fired_at <= '2026-02-01' UNION SELECT id FROM alert WHERE "
        "recurrence_key = 'k' AND fired_at > '2026-01-01' AND fired_at <= '2026-02-01') AS s"
    )
    explain = "EXPLAIN QUERY PLAN " if db.is_sqlite else "EXPLAIN "
    async with db.engine.connect() as conn:
        for sql in (row_sql, count_sql):
            result = await conn.execute(text(explain + sql))
            print("  plan:", " | ".join(str(r[-1]) for r in result.all()))


async def run(kind: str, alerts: int, samples: int, postgres_url: str) -> None:
    rng = random.Random(7)
    async with temporary_database(kind, postgres_url) as url:
        db = Database(url)
        try:
            await db.upgrade()
            print(f"{kind}: {alerts:,} resolved alerts over 365 days")
            t0 = time.perf_counter()
            await seed(db, plan(alerts, rng))
            await settle(db)
            print(f"  seeding took {time.perf_counter() - t0:.0f} s")
            hot = [n for n in range(alerts - 2000, alerts + 1)]
            ids = rng.sample(range(1, alerts + 1), samples) + rng.sample(hot, 50)
            await measure(db, ids[:50], days=30)  # warm the cache
            last_ms, count_ms = await measure(db, ids, days=30)
            print(f"  {len(ids):,} look-ups, each a warning render's two queries:")
            print(figures("last time", last_ms))
            print(figures("30-day count", count_ms))
            await plans(db)
        finally:
            await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--alerts", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    kinds = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    for kind in kinds:
        asyncio.run(run(kind, args.alerts, args.samples, args.postgres_url))


if __name__ == "__main__":
    main()
