"""Escalation timer benchmark: lateness of due steps, a burst falling due at once, catch-up
after a restart, peak memory — on SQLite (one instance) and PostgreSQL (several instances
racing over the same alerts, checked for exactly-once).

    .venv/bin/python -m bench.escalation_bench [--db sqlite|postgres|both] [--pending 100000]
                                               [--quick]

Everything runs on the real code path: a real ``Database`` (migrated with Alembic), the real
``step_due`` and, for lateness and the burst, the real ``EscalationEngine`` with its
APScheduler timer on the system clock, each instance in its own OS process. See
bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing as mp
import os
import random
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from bench.instance import InstanceSpec, StepLog, peak_rss_mb, run_instance
from bench.seed import Planned, fix_sequences, insert, settle, spread, temporary_database
from escalation.timeline import STEP_RULES
from storage.db import Database
from storage.tables import AlertEventRow, AlertRow

TARGETS = {
    "lateness_p99_ms": ("<=", 100.0),
    "burst_all_committed_s": ("<=", 2.0),
    "catchup_steps_per_s": (">=", 5000.0),
    "peak_rss_mb": ("<=", 300.0),
    "duplicates": ("<=", 0),
    "missing": ("<=", 0),
}
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
_T0 = time.monotonic()


def say(kind: str, text: str) -> None:
    print(f"[{time.monotonic() - _T0:7.1f}s] {kind:<8} {text}", flush=True)


@dataclass(frozen=True, slots=True)
class Sizes:
    pending: int
    late: int
    window: float
    burst: int
    gap: float
    catchup: int
    instances: int

    @property
    def background(self) -> int:
        return max(self.pending - self.late - self.burst, 0)


# --- processes ----------------------------------------------------------------------------------


class Instances:
    """N instance processes (spawned), started together and collected together."""

    def __init__(self, url: str, count: int, mode: str) -> None:
        ctx = mp.get_context("spawn")
        self.ready: Any = ctx.Queue()
        self.results: Any = ctx.Queue()
        self.go = ctx.Event()
        self.stop = ctx.Event()
        self.start_at = ctx.Value("d", 0.0)
        self.procs = [
            ctx.Process(
                target=run_instance,
                args=(
                    InstanceSpec(index=i, url=url, mode=mode),
                    self.ready,
                    self.go,
                    self.start_at,
                    self.stop,
                    self.results,
                ),
                daemon=True,
            )
            for i in range(count)
        ]

    async def start(self) -> None:
        for proc in self.procs:
            proc.start()
        for _ in self.procs:
            await asyncio.to_thread(self.ready.get, True, 120)

    async def collect(self) -> list[dict[str, Any]]:
        found = [await asyncio.to_thread(self.results.get, True, 300) for _ in self.procs]
        for proc in self.procs:
            await asyncio.to_thread(proc.join, 30)
        errors = [r["error"] for r in found if "error" in r]
        if errors:
            raise RuntimeError("an instance failed:\n" + "\n".join(errors))
        return sorted(found, key=lambda r: r["index"])


# --- measuring ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(math.ceil(p / 100 * len(ordered)), 1)
    return ordered[rank - 1]


def commit_times(logs: Sequence[StepLog]) -> dict[datetime, datetime]:
    """``at`` of a timeline row → when the step_due call that wrote it returned (committed).
    Two instances reading the clock in the same microsecond would share a key: the later
    commit is kept (the pessimistic choice)."""
    found: dict[datetime, datetime] = {}
    for log in logs:
        for now, committed, stepped in log:
            if stepped and (now not in found or committed > found[now]):
                found[now] = committed
    return found


async def step_rows(db: Database) -> list[tuple[int, datetime]]:
    async with db.read() as session:
        query = select(AlertEventRow.alert_id, AlertEventRow.at).where(
            col(AlertEventRow.rule).in_(STEP_RULES)
        )
        return [(int(a), at) for a, at in (await session.exec(query)).all()]


async def count_steps(db: Database, first_id: int) -> int:
    async with db.read() as session:
        query = (
            select(func.count())
            .select_from(AlertEventRow)
            .where(col(AlertEventRow.rule).in_(STEP_RULES), AlertEventRow.alert_id >= first_id)
        )
        return int((await session.exec(query)).one())


async def count_open(db: Database) -> int:
    async with db.read() as session:
        query = select(func.count()).select_from(AlertRow).where(AlertRow.status != "resolved")
        return int((await session.exec(query)).one())


# --- one database -------------------------------------------------------------------------------


async def bench_database(kind: str, sizes: Sizes, admin_url: str) -> dict[str, Any]:
    label = kind if kind == "sqlite" else f"pg x{sizes.instances}"
    instances = 1 if kind == "sqlite" else sizes.instances
    rng = random.Random(20261121)
    async with temporary_database(kind, admin_url) as url:
        db = Database(url)
        await db.upgrade()
        say(label, f"fresh database: {url.split('@')[-1]}")

        # 1. the background: pending alerts whose first step is hours away
        started = time.monotonic()
        now = datetime.now(UTC)
        background = (
            Planned(i + 1, now + timedelta(seconds=rng.uniform(3600, 6 * 3600)), slow=True)
            for i in range(sizes.background)
        )
        step = max(sizes.background // 5, 1)

        def progress(done: int) -> None:
            if done % step < 5000 or done == sizes.background:
                say(label, f"  seeded {done:,}/{sizes.background:,} background alerts")

        await insert(db, background, progress=progress)
        seed_s = time.monotonic() - started
        await settle(db)
        rate = sizes.background / seed_s if seed_s > 0 else 50_000.0
        say(label, f"seeded {sizes.background:,} background alerts in {seed_s:.1f}s")

        # 2. the instances, then the alerts that will fall due while they run
        engines = Instances(url, instances, "engine")
        await engines.start()
        say(label, f"{instances} engine process(es) ready")
        timed = sizes.late + sizes.burst
        first_timed = sizes.background + 1
        lead = 0.5 + 2.5 * timed / max(rate, 1.0)
        t0 = datetime.now(UTC) + timedelta(seconds=lead)
        late_due = spread(t0, sizes.window, sizes.late, rng)
        burst_at = t0 + timedelta(seconds=sizes.window + sizes.gap)
        due: dict[int, datetime] = {}
        plans = []
        for offset, when in enumerate([*late_due, *[burst_at] * sizes.burst]):
            plans.append(Planned(first_timed + offset, when))
            due[first_timed + offset] = when
        late_ids = set(range(first_timed, first_timed + sizes.late))
        burst_ids = set(range(first_timed + sizes.late, first_timed + timed))
        await insert(db, plans)
        slack = (t0 - datetime.now(UTC)).total_seconds()
        say(label, f"{timed:,} timed alerts inserted ({slack:.2f}s before the first is due)")
        say(label, f"open alerts: {await count_open(db):,}")
        engines.go.set()
        say(
            label,
            f"lateness: {sizes.late:,} steps due over {sizes.window:.0f}s; then "
            f"{sizes.burst:,} due at once at +{sizes.window + sizes.gap:.1f}s",
        )
        await asyncio.sleep(max((burst_at - datetime.now(UTC)).total_seconds(), 0))
        say(label, f"burst instant: {sizes.burst:,} steps due now")
        deadline = time.monotonic() + 60 + sizes.burst / 500
        done = 0
        while time.monotonic() < deadline:
            await asyncio.sleep(0.25)
            done = await count_steps(db, first_timed)
            if done >= timed:
                break
        engines.stop.set()
        engine_results = await engines.collect()
        say(label, f"engines stopped; {done:,}/{timed:,} timed steps done")

        # 3. a restart with alerts overdue: fresh processes (started while the overdue alerts
        #    are written; they touch the database only once told to go), one drain() each
        drains = Instances(url, instances, "drain")
        first_catchup = first_timed + timed
        now = datetime.now(UTC)
        catchup = [
            Planned(first_catchup + i, now - timedelta(seconds=rng.uniform(1, 60)))
            for i in range(sizes.catchup)
        ]
        for plan in catchup:
            due[plan.alert_id] = plan.due

        async def overdue() -> None:
            await insert(db, catchup)
            await fix_sequences(db)
            await settle(db)

        await asyncio.gather(drains.start(), overdue())
        say(label, f"restart: {sizes.catchup:,} alerts overdue; open: {await count_open(db):,}")
        drains.start_at.value = time.time() + 0.2
        drains.go.set()
        drain_results = await drains.collect()
        catch_start = drains.start_at.value
        catch_end = max(r["ended"] for r in drain_results).timestamp()
        caught = sum(r["drained"] for r in drain_results)
        catch_s = catch_end - catch_start
        say(label, f"catch-up: {caught:,} steps in {catch_s:.2f}s")

        # 4. what happened, from the timeline
        rows = await step_rows(db)
        await db.dispose()

    committed = commit_times([r["steps"] for r in engine_results + drain_results])
    per_alert: dict[int, list[datetime]] = defaultdict(list)
    for alert_id, at in rows:
        per_alert[alert_id].append(at)
    duplicates = sum(1 for a in due if len(per_alert.get(a, ())) > 1)
    missing = sum(1 for a in due if not per_alert.get(a))
    stray = sum(len(v) for a, v in per_alert.items() if a not in due)
    unmatched = sum(1 for ats in per_alert.values() for at in ats if at not in committed)

    def lateness(ids: set[int]) -> tuple[list[float], list[float]]:
        commit_ms, timer_ms = [], []
        for a in ids:
            for at in per_alert.get(a, ()):
                timer_ms.append((at - due[a]).total_seconds() * 1000)
                if at in committed:
                    commit_ms.append((committed[at] - due[a]).total_seconds() * 1000)
        return commit_ms, timer_ms

    late_ms, late_timer_ms = lateness(late_ids)
    burst_ms, _ = lateness(burst_ids)
    burst_all_s = max(burst_ms) / 1000 if burst_ms else math.nan
    shares = [sum(n for *_, n in r["steps"]) for r in engine_results]
    result = {
        "database": kind,
        "instances": instances,
        "pending": sizes.pending,
        "lateness_steps": len(late_ms),
        "lateness_p50_ms": round(percentile(late_ms, 50), 1),
        "lateness_p99_ms": round(percentile(late_ms, 99), 1),
        "lateness_max_ms": round(max(late_ms, default=math.nan), 1),
        "timer_p50_ms": round(percentile(late_timer_ms, 50), 1),
        "timer_p99_ms": round(percentile(late_timer_ms, 99), 1),
        "burst_steps": len(burst_ms),
        "burst_first_committed_s": round(min(burst_ms, default=math.nan) / 1000, 3),
        "burst_all_committed_s": round(burst_all_s, 3),
        "catchup_steps": caught,
        "catchup_seconds": round(catch_s, 3),
        "catchup_steps_per_s": round(caught / catch_s if catch_s > 0 else math.nan),
        "peak_rss_mb": round(max(r["rss_mb"] for r in engine_results + drain_results), 1),
        "ru_maxrss_mb": round(max(r["ru_maxrss_mb"] for r in engine_results + drain_results), 1),
        "seeding_rss_mb": round(peak_rss_mb(), 1),
        "duplicates": duplicates,
        "missing": missing,
        "stray_steps": stray,
        "unmatched_steps": unmatched,
        "steps_per_instance": shares,
        "empty_wakeups_per_instance": [
            sum(1 for *_, n in r["steps"] if n == 0) for r in engine_results
        ],
        "skipped_wakeups": sum(r["skipped_wakeups"] for r in engine_results),
    }
    say(label, "done")
    return result


# --- report -------------------------------------------------------------------------------------

ROWS = [
    ("lateness_p50_ms", "lateness p50 (ms)"),
    ("lateness_p99_ms", "lateness p99 (ms)"),
    ("lateness_max_ms", "lateness max (ms)"),
    ("timer_p99_ms", "  of which timer p99 (ms)"),
    ("burst_all_committed_s", "burst: all committed after (s)"),
    ("burst_first_committed_s", "burst: first committed after (s)"),
    ("catchup_steps_per_s", "catch-up (steps/s)"),
    ("peak_rss_mb", "peak RSS, instance (MB)"),
    ("seeding_rss_mb", "peak RSS, bench coordinator (MB)"),
    ("duplicates", "alerts stepped twice or more"),
    ("missing", "due alerts never stepped"),
    ("stray_steps", "steps of alerts not due"),
    ("steps_per_instance", "steps per instance (engine run)"),
    ("empty_wakeups_per_instance", "claims that found nothing, per instance"),
    ("skipped_wakeups", "timer wake-ups APScheduler skipped"),
]


def verdict(key: str, value: Any) -> str:
    if key not in TARGETS:
        return ""
    op, bound = TARGETS[key]
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    ok = value <= bound if op == "<=" else value >= bound
    return ("ok " if ok else "MISS ") + f"{op} {bound:g}"


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return "/".join(f"{v:,}" for v in value)
    if isinstance(value, int):
        return f"{value:,}"
    if abs(value) < 10:
        return f"{value:.3f}"
    return f"{value:,.1f}"


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as info:
        names = (ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name"))
        model = next(names, "")
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": sys.version.split()[0],
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }


def report(
    results: list[dict[str, Any]], sizes: Sizes, *, quick: bool, before: dict[str, Any]
) -> int:
    """Print the table and the JSON line; the exit status: 2 if exactly-once was broken, 1 if
    a performance target was missed (full runs only), else 0."""
    after = machine()
    heads = [
        f"{r['database']} x{r['instances']}" if r["instances"] > 1 else r["database"]
        for r in results
    ]
    print()
    print(
        f"Escalation benchmark — {sizes.pending:,} pending, {sizes.late:,} due over "
        f"{sizes.window:g}s, burst {sizes.burst:,}, catch-up {sizes.catchup:,}"
        + (" (--quick: a smoke run; the targets are for the full run)" if quick else "")
    )
    print(
        f"machine: {before['cpus']} CPUs ({before['cpu_model'] or 'unknown'}), Python "
        f"{before['python']}, load average {before['loadavg_1m']} before, "
        f"{after['loadavg_1m']} after"
    )
    width = 36
    line = f"{'figure':<{width}}" + "".join(f"{h:>20}" for h in heads) + "   target"
    print(line)
    print("-" * len(line))
    missed_any = False
    for key, name in ROWS:
        cells = [_cell(r[key]) for r in results]
        verdicts = [verdict(key, r[key]) for r in results]
        missed = any(v.startswith("MISS") for v in verdicts)
        missed_any = missed_any or missed
        target = next((v.split(" ", 1)[1] for v in verdicts if v), "")
        mark = ("MISSED " if missed else "met ") if target else ""
        print(f"{name:<{width}}" + "".join(f"{c:>20}" for c in cells) + f"   {mark}{target}")
    broken = any(r["duplicates"] or r["missing"] or r["stray_steps"] for r in results)
    status = 2 if broken else 1 if missed_any and not quick else 0
    print()
    summary = {
        "sizes": asdict(sizes),
        "quick": quick,
        "machine": before | {"loadavg_1m_after": after["loadavg_1m"]},
        "results": results,
        "targets_met": not missed_any,
        "exactly_once": not broken,
    }
    print(json.dumps(summary))
    return status


def parse(argv: Sequence[str]) -> tuple[Sizes, list[str], str, bool]:
    parser = argparse.ArgumentParser(prog="python -m bench.escalation_bench")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pending", type=int, default=None, help="open alerts (100,000)")
    parser.add_argument("--late", type=int, default=None, help="steps due over the window")
    parser.add_argument("--window", type=float, default=None, help="seconds (20)")
    parser.add_argument("--burst", type=int, default=None, help="steps due at one instant")
    parser.add_argument("--catchup", type=int, default=None, help="overdue at restart")
    parser.add_argument("--instances", type=int, default=3, help="PostgreSQL instances")
    parser.add_argument("--quick", action="store_true", help="a small run for smoke tests")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES,
        help="a database to connect to for CREATE/DROP DATABASE",
    )
    args = parser.parse_args(argv)
    base = (
        {"pending": 5000, "late": 300, "window": 2.0, "burst": 1000, "gap": 1.0, "catchup": 2000}
        if args.quick
        else {
            "pending": 100_000,
            "late": 2000,
            "window": 20.0,
            "burst": 10_000,
            "gap": 3.0,
            "catchup": 20_000,
        }
    )
    for key in ("pending", "late", "window", "burst", "catchup"):
        if getattr(args, key) is not None:
            base[key] = getattr(args, key)
    sizes = Sizes(instances=args.instances, **base)  # type: ignore[arg-type]
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    return sizes, kinds, args.postgres_url, args.quick


async def main_async(sizes: Sizes, kinds: list[str], admin_url: str, quick: bool) -> int:
    before = machine()
    results = [await bench_database(kind, sizes, admin_url) for kind in kinds]
    return report(results, sizes, quick=quick, before=before)


def main(argv: Sequence[str] | None = None) -> int:
    sizes, kinds, admin_url, quick = parse(sys.argv[1:] if argv is None else argv)
    return asyncio.run(main_async(sizes, kinds, admin_url, quick))


if __name__ == "__main__":
    sys.exit(main())
