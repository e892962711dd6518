"""CPU time per escalation step, in one process: where a step's time goes, without the noise
of a shared machine's wall clock.

    .venv/bin/python -m bench.step_profile [--db sqlite|postgres] [--pending 20000]
                                           [--due 5000] [--rounds 3] [--pattern burst|catchup]
                                           [--cprofile] [--top 30]

A fresh database (as ``bench.escalation_bench`` makes it, with ``bench.seed``) holds
``pending`` open alerts whose first step is hours away. Each round inserts ``due`` alerts
falling due at the round's instant (``burst``: all at that instant, so claimed in id order;
``catchup``: overdue by 1 to 60 s, claimed in due order, scattered over the table as after a
restart), then calls ``EscalationEngine.drain()`` once on a fixed clock — silence timers,
claims, the state machine, the writes and the commits, batch after batch, as the service
does. The figures per step:

* **client CPU**: ``time.process_time()`` of this process over the drain (on SQLite this
  includes SQLite itself, which runs in aiosqlite's thread);
* **server CPU** (PostgreSQL): the user + system time of this database's backends over the
  drain, from ``/proc/<pid>/stat`` (the server must run on this machine; its background
  writers are not counted);
* **wall**: for comparison only — on a shared machine it depends on what else runs.

With ``--cprofile`` the last round runs under cProfile and the top functions are printed
(by own time and by cumulative time). The median and the minimum of the rounds are reported
(each figure separately): on a shared machine other work only ever adds time, so the minimum
is the steadier figure to compare versions by.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import random
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, text
from sqlmodel import col, select

from bench.escalation_bench import DEFAULT_POSTGRES
from bench.instance import NoRotations
from bench.seed import Planned, fix_sequences, insert, settle, temporary_database
from bot.runtime.heap import freeze_startup_objects
from bot.runtime.logging_setup import configure_logging
from bot.runtime.wakeup import Wakeup
from bot.workers.escalation_engine import EscalationEngine
from escalation.timeline import STEP_RULES
from storage.db import Database
from storage.tables import AlertEventRow

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True, slots=True)
class Round:
    steps: int
    client_s: float
    loop_s: float
    """Of ``client_s``, the event loop's thread (the rest is the driver's: aiosqlite's
    thread, where SQLite runs)."""
    server_s: float | None
    wall_s: float


async def _backend_pids(db: Database) -> list[int]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        )
        return [int(pid) for (pid,) in rows]


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process, 0 if it is gone or unreadable."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


async def _server_cpu(db: Database) -> dict[int, float] | None:
    if db.is_sqlite:
        return None
    return {pid: _cpu_seconds(pid) for pid in await _backend_pids(db)}


async def _count_steps(db: Database) -> int:
    async with db.read() as session:
        query = (
            select(func.count())
            .select_from(AlertEventRow)
            .where(col(AlertEventRow.rule).in_(STEP_RULES))
        )
        return int((await session.exec(query)).one())


async def profile(args: argparse.Namespace) -> int:
    configure_logging(fmt="console", level="WARNING")  # as bench.instance: no line per batch
    rng = random.Random(20261121)
    async with temporary_database(args.db, args.postgres_url) as url:
        db = Database(url)
        await db.upgrade()
        start = datetime.now(UTC)
        background = (
            Planned(i + 1, start + timedelta(seconds=rng.uniform(3600, 6 * 3600)), slow=True)
            for i in range(args.pending)
        )
        await insert(db, background)
        await fix_sequences(db)
        await settle(db)
        print(f"{args.db}: {args.pending:,} open alerts seeded; load average {_load()}")
        freeze_startup_objects()  # as ``tocsin serve`` does once the service is built

        rounds: list[Round] = []
        next_id = args.pending + 1
        for r in range(args.rounds):
            # each round is later than the last; what earlier rounds stepped is next due
            # minutes later, so only this round's alerts are due
            now = start + timedelta(minutes=1, seconds=r)
            if args.pattern == "burst":
                plans = [Planned(next_id + i, now) for i in range(args.due)]
            else:
                plans = [
                    Planned(next_id + i, now - timedelta(seconds=rng.uniform(1, 60)))
                    for i in range(args.due)
                ]
            next_id += args.due
            await insert(db, plans)
            await fix_sequences(db)
            await settle(db)

            def clock(at: datetime = now) -> datetime:
                return at

            engine = EscalationEngine(
                db=db,
                directory=NoRotations(),
                clock=clock,
                wakeup=Wakeup(),
                on_stepped=Wakeup(),
                batch=args.batch,
            )
            before_steps = await _count_steps(db)
            profiler = cProfile.Profile() if args.cprofile and r == args.rounds - 1 else None
            server_before = await _server_cpu(db)
            wall0, cpu0, loop0 = time.perf_counter(), time.process_time(), time.thread_time()
            if profiler is not None:
                profiler.enable()
            stepped = await engine.drain()
            if profiler is not None:
                profiler.disable()
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            loop = time.thread_time() - loop0
            server_s = None
            if server_before is not None:
                server_after = await _server_cpu(db)
                assert server_after is not None
                server_s = sum(t - server_before.get(p, 0.0) for p, t in server_after.items())
            found = await _count_steps(db) - before_steps
            if stepped != args.due or found != args.due:
                print(f"round {r}: stepped {stepped}, timeline rows {found}, expected {args.due}")
                return 2
            rounds.append(Round(stepped, cpu, loop, server_s, wall))
            print(_line(f"round {r + 1}", rounds[-1]) + (" (cProfile)" if profiler else ""))
            if profiler is not None:
                _print_profile(profiler, args.top)
        await db.dispose()

    timed = [x for x in rounds if not (args.cprofile and x is rounds[-1])] or rounds
    for name, pick in (("median", statistics.median), ("min", min)):
        server = [x.server_s for x in timed if x.server_s is not None]
        summary = Round(
            args.due,
            pick(x.client_s for x in timed),
            pick(x.loop_s for x in timed),
            pick(server) if server else None,
            pick(x.wall_s for x in timed),
        )
        print(_line(name, summary) + (f"; load average {_load()}" if name == "min" else ""))
    return 0


def _line(name: str, r: Round) -> str:
    per = 1e6 / r.steps
    server = f", server CPU {r.server_s * per:6.1f} µs/step" if r.server_s is not None else ""
    return (
        f"{name:>8}: {r.steps:,} steps, client CPU {r.client_s * per:6.1f} µs/step "
        f"(loop {r.loop_s * per:5.1f}){server}, "
        f"wall {r.wall_s * per:6.1f} µs/step ({r.steps / r.wall_s:,.0f} steps/s)"
    )


def _load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def _print_profile(profiler: cProfile.Profile, top: int) -> None:
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.strip_dirs().sort_stats(order).print_stats(top)
        print(f"--- cProfile by {order} (times inflated by the profiler) ---")
        print("\n".join(ln for ln in out.getvalue().splitlines() if ln.strip())[:20000])


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.step_profile")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pending", type=int, default=20_000, help="background open alerts")
    parser.add_argument("--due", type=int, default=5000, help="alerts due per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=500, help="the engine's batch size")
    parser.add_argument("--pattern", choices=["burst", "catchup"], default="burst")
    parser.add_argument("--cprofile", action="store_true", help="profile the last round")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args: Any = parse(sys.argv[1:] if argv is None else argv)
    return asyncio.run(profile(args))


if __name__ == "__main__":
    sys.exit(main())
