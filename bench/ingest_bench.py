"""Ingest benchmark: webhooks in, each one durable in the inbox before its 202.

Tocsin runs as its own OS process (``bench.ingest_server``: what ``tocsin serve`` runs, by
default without the inbox worker, outbox sender and engine, so the intake path is measured
alone); the load comes from other processes (multiprocessing spawn) over keep-alive
HTTP/1.1 connections of a minimal client (``bench.load_client``), so the client's CPU does
not take the server's share of the machine. Three phases per database, each against a fresh
database:

1. **single**: single-alert generic webhooks, closed loop, ``--connections`` in flight;
   alerts/s and latency.
2. **paced**: single-alert webhooks sent open loop at ``--rate`` per second; latency is
   measured from each request's *scheduled* send time (no coordinated omission).
3. **batch**: Alertmanager webhooks of ``--batch`` alerts each, closed loop; alerts/s.

Then the database is read back: every 202 must name an inbox row that exists, with the body
that was sent (its fingerprint), and nothing else may be there. Figures are printed, never
asserted by tests. Exit status: 2 if a 202 was not durable, 1 if a target was missed (full
runs only), else 0.

    .venv/bin/python -m bench.ingest_bench                 # both databases (~2 min)
    .venv/bin/python -m bench.ingest_bench --db sqlite --quick
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import yaml
from sqlalchemy import text

from bench.load_client import TOKEN, LoadResult, Phase, load_in_processes
from config.environment import child_environment
from config.settings import EXAMPLE_POLICY
from storage.db import Database

TARGETS = {"single_alerts_per_s": 3000.0, "paced_p99_ms": 20.0, "batch_alerts_per_s": 20000.0}


# --- bodies ----------------------------------------------------------------------------------


def single_bodies(run: str, phase: str, count: int) -> list[bytes]:
    return [
        json.dumps(
            {
                "title": f"Checkout error rate high on node {i % 97}",
                "fingerprint": f"{run}-{phase}-{i}",
                "severity": "warning",
                "description": "5xx above 8% for 10 minutes",
                "labels": {"service": "checkout", "env": "prod", "node": str(i % 97)},
            }
        ).encode()
        for i in range(count)
    ]


def batch_bodies(run: str, count: int, size: int) -> list[bytes]:
    def alert(i: int, j: int) -> dict[str, Any]:
        return {
            "status": "firing",
            "labels": {"alertname": "DiskFull", "instance": f"db-{j}", "severity": "warning"},
            "annotations": {"summary": f"Disk almost full on db-{j}"},
            "startsAt": "2026-11-21T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph",
            "fingerprint": f"{run}-batch-{i}-{j}",
        }

    return [
        json.dumps(
            {
                "version": "4",
                "status": "firing",
                "receiver": "tocsin",
                "groupKey": f'{{}}:{{alertname="DiskFull",batch="{i}"}}',
                "truncatedAlerts": 0,
                "alerts": [alert(i, j) for j in range(size)],
            }
        ).encode()
        for i in range(count)
    ]


# --- the service ---------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_policy(folder: Path) -> Path:
    """The example policy with the webhook rate limit lifted: this measures capacity, and
    the default limit (1,000 requests/s per integration) is a safety valve below it."""
    policy = yaml.safe_load(EXAMPLE_POLICY.read_text(encoding="utf-8"))
    policy["rate_limit"] = {"per_minute": 1_000_000, "burst": 100_000}
    path = folder / "policy.yaml"
    path.write_text(yaml.safe_dump(policy), encoding="utf-8")
    return path


@contextlib.contextmanager
def service(database_url: str, *, workers: bool) -> Iterator[tuple[str, int]]:
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="tocsin-ingest-policy-"))
    env = child_environment(
        {
            "TOCSIN_CONFIG": str(bench_policy(folder)),
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": "bench-signing-secret",
            "TOCSIN_SLACK_API_URL": "http://127.0.0.1:9/api/",
            "TOCSIN_DATABASE_URL": database_url,
            "TOCSIN_PORT": str(port),
            "TOCSIN_WEBHOOK_TOKEN": TOKEN,
            "TOCSIN_LOG_FORMAT": "json",
        }
    )
    args = [sys.executable, "-m", "bench.ingest_server"] + ([] if workers else ["--no-workers"])
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the service exited with {process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the service did not become ready in 60 s")
            time.sleep(0.2)
        yield url, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.asynccontextmanager
async def fresh_database(kind: str, postgres_url: str) -> AsyncIterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="tocsin-ingest-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'tocsin.db'}"
        return
    name = f"tocsin_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(postgres_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    prefix, _, _ = postgres_url.rpartition("/")
    try:
        yield f"{prefix}/{name}"
    finally:
        admin = await asyncpg.connect(postgres_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def stored(database_url: str) -> dict[int, tuple[str, bytes]]:
    """Every inbox row: id → (integration, body)."""
    from config.settings import async_url

    db = Database(async_url(database_url))
    try:
        async with db.engine.connect() as conn:
            rows = (await conn.execute(text("SELECT id, integration, body FROM inbox"))).all()
    finally:
        await db.dispose()
    return {int(r[0]): (str(r[1]), bytes(r[2])) for r in rows}


# --- a run -----------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_database(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    run = uuid.uuid4().hex[:8]
    seconds = args.seconds
    most = int(max(args.rate, 20000) * seconds * 2)
    phases = [
        Phase(
            "single",
            "generic",
            single_bodies(run, "single", most),
            1,
            seconds,
            args.connections,
        ),
        Phase(
            "paced",
            "generic",
            single_bodies(run, "paced", int(args.rate * seconds) + 10),
            1,
            seconds,
            args.connections,
            rate=args.rate,
        ),
        Phase(
            "batch",
            "alertmanager",
            batch_bodies(run, int(400 * seconds * 2), args.batch),
            args.batch,
            seconds,
            args.batch_connections,
        ),
    ]
    figures: dict[str, Any] = {"db": kind}

    async def with_db() -> None:
        async with fresh_database(kind, args.postgres_url) as url:
            sent: dict[int, tuple[str, bytes]] = {}
            with service(url, workers=args.with_workers) as (base, pid):
                for phase in phases:
                    print(f"  {kind}: {phase.name} for {phase.seconds:g} s …", flush=True)
                    cpu_before = cpu_seconds(pid)
                    result = await asyncio.to_thread(
                        load_in_processes, base, phase, args.load_processes
                    )
                    cpu = cpu_seconds(pid) - cpu_before
                    figures[phase.name] = summarise(phase, result)
                    ok = max(result.statuses.get(202, 0), 1)
                    figures[phase.name]["server_cpu_ms_per_request"] = round(cpu * 1000 / ok, 3)
                    figures[phase.name]["server_cpu_share"] = round(cpu / result.elapsed, 2)
                    for inbox_id, index in result.accepted:
                        sent[inbox_id] = (phase.integration, phase.bodies[index])
            rows = await stored(url)
            lost = [i for i in sent if i not in rows or rows[i] != sent[i]]
            figures["durability"] = {
                "accepted": len(sent),
                "rows": len(rows),
                "accepted_but_missing_or_different": len(lost),
                "rows_never_acknowledged": len(set(rows) - set(sent)),
            }

    asyncio.run(with_db())
    return figures


def summarise(phase: Phase, result: LoadResult) -> dict[str, Any]:
    ok = result.statuses.get(202, 0)
    lat = result.latencies_ms
    return {
        "requests": sum(result.statuses.values()),
        "statuses": {str(k): v for k, v in sorted(result.statuses.items())},
        "seconds": round(result.elapsed, 2),
        "requests_per_s": round(ok / result.elapsed, 1) if result.elapsed else 0.0,
        "alerts_per_s": round(ok * phase.alerts_per_body / result.elapsed, 1)
        if result.elapsed
        else 0.0,
        "latency_ms": {
            "p50": round(percentile(lat, 0.50), 2),
            "p99": round(percentile(lat, 0.99), 2),
            "max": round(max(lat), 2) if lat else None,
            "mean": round(statistics.fmean(lat), 2) if lat else None,
        },
        "rate": phase.rate,
        "connections": phase.connections,
    }


def verdicts(figures: dict[str, Any]) -> dict[str, bool]:
    return {
        "single_alerts_per_s": figures["single"]["alerts_per_s"] >= TARGETS["single_alerts_per_s"],
        "paced_p99_ms": figures["paced"]["latency_ms"]["p99"] <= TARGETS["paced_p99_ms"],
        "batch_alerts_per_s": figures["batch"]["alerts_per_s"] >= TARGETS["batch_alerts_per_s"],
    }


def print_table(results: list[dict[str, Any]]) -> None:
    print()
    print(f"{'figure':44} " + " ".join(f"{r['db']:>22}" for r in results) + "  target")
    rows: list[tuple[str, Callable[[dict[str, Any]], str], str]] = [
        (
            "single-alert webhooks: alerts/s",
            lambda r: f"{r['single']['alerts_per_s']:,.0f}",
            "≥ 3,000",
        ),
        (
            "  latency p50 / p99 (closed loop)",
            lambda r: "{p50:.1f} / {p99:.1f} ms".format(**r["single"]["latency_ms"]),
            "",
        ),
        (
            "paced: latency p50 / p99 / max",
            lambda r: "{p50:.1f} / {p99:.1f} / {max:.0f} ms".format(**r["paced"]["latency_ms"]),
            "p99 ≤ 20 ms",
        ),
        ("  paced: requests/s achieved", lambda r: f"{r['paced']['requests_per_s']:,.0f}", ""),
        (
            "server CPU per request: single / batch",
            lambda r: (
                f"{r['single']['server_cpu_ms_per_request']:.2f} / "
                f"{r['batch']['server_cpu_ms_per_request']:.2f} ms"
            ),
            "",
        ),
        (
            "server CPU used: single / paced / batch",
            lambda r: (
                f"{r['single']['server_cpu_share']:.2f} / {r['paced']['server_cpu_share']:.2f}"
                f" / {r['batch']['server_cpu_share']:.2f} core"
            ),
            "",
        ),
        ("batches of 100: alerts/s", lambda r: f"{r['batch']['alerts_per_s']:,.0f}", "≥ 20,000"),
        (
            "  batch latency p50 / p99",
            lambda r: (
                f"{r['batch']['latency_ms']['p50']:.1f} / {r['batch']['latency_ms']['p99']:.1f} ms"
            ),
            "",
        ),
        (
            "202s / rows / missing / unacknowledged",
            lambda r: (
                "{accepted} / {rows} / {accepted_but_missing_or_different} / "
                "{rows_never_acknowledged}".format(**r["durability"])
            ),
            "missing 0",
        ),
        (
            "non-202 answers",
            lambda r: str(
                sum(
                    v
                    for p in ("single", "paced", "batch")
                    for k, v in r[p]["statuses"].items()
                    if k != "202"
                )
            ),
            "0",
        ),
    ]
    for label, value, target in rows:
        print(f"{label:44} " + " ".join(f"{value(r):>22}" for r in results) + f"  {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--batch-connections", type=int, default=8)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--load-processes", type=int, default=1)
    parser.add_argument("--with-workers", action="store_true", help="run the inbox worker too")
    parser.add_argument("--quick", action="store_true", help="3 s per phase")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    if args.quick:
        args.seconds = 3.0
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    load_before = os.getloadavg()
    results = []
    for kind in kinds:
        started = time.perf_counter()
        results.append(bench_database(kind, args))
        print(f"  {kind}: done in {time.perf_counter() - started:.0f} s", flush=True)
    load_after = os.getloadavg()
    print_table(results)
    machine = {
        "cpus": os.cpu_count(),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
        "python": sys.version.split()[0],
    }
    for r in results:
        r["targets_met"] = verdicts(r)
    print(json.dumps({"results": results, "machine": machine, "args": vars(args)}))
    if any(r["durability"]["accepted_but_missing_or_different"] for r in results):
        sys.exit(2)
    if not args.quick and not all(all(r["targets_met"].values()) for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
