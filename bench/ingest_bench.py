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
that was sent (its fingerprint), and nothing else may be there. These are the figures of the
**intake alone (component)**.

Then the **whole service** (``--mode worker``; both by default): ``tocsin serve`` itself
(one process on SQLite, ``--instances`` on PostgreSQL with the load spread over them) with its
inbox worker, outbox sender and engine, against the sandbox's fake Slack served here at
Slack's pace. Each phase on a fresh database: Alertmanager batches of ``--batch``, new
single-alert webhooks, and repeat firings of ``--open-alerts`` alerts already open — as
single-alert webhooks and as Alertmanager sends them, a group at a time. For each:
accepted/s (202s), processed/s (inbox bodies done, in alerts), and the backlog (inbox bodies
not yet processed) sampled every second from the load's start until every accepted body is
processed or ``--drain`` seconds after the load.

Figures are printed, never asserted by tests. Exit status: 2 if a 202 was not durable, 1 if
a target was missed (full runs only), else 0.

    .venv/bin/python -m bench.ingest_bench                 # both databases, both modes (~10 min)
    .venv/bin/python -m bench.ingest_bench --db sqlite --quick
    .venv/bin/python -m bench.ingest_bench --mode worker   # the whole service only
    .venv/bin/python -m bench.ingest_bench --mode worker --db sqlite --phase single
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

from bench.fake_slack import serving
from bench.load_client import TOKEN, LoadResult, Phase, load_in_processes, load_spread
from bench.workdir import policy_file
from bot.sandbox import SlackWorld
from config.environment import child_environment
from config.settings import EXAMPLE_POLICY
from storage import inbox_file
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
    return policy_file(folder, yaml.safe_dump(policy))


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
    log = (folder / "tocsin.log").open("ab")  # a line per webhook at INFO: kept off the terminal
    process = subprocess.Popen(args, env=env, stdout=log, stderr=log)
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
        log.close()
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


# --- the whole service: intake, inbox worker, outbox sender, engine ------------------------

SLACK_TOKEN = "xoxb-bench"  # noqa: S105 - the fake Slack's throwaway token
SLACK_SECRET = "bench-signing-secret"  # noqa: S105
WORKER_TARGETS = {
    "batch_accepted_alerts_per_s": 20000.0,  # SQLite (issue 14)
    "single_processed_per_s": 2000.0,
    "repeat_processed_per_s": 10000.0,
    "cpu_ms_per_new_alert": 0.5,
}
FINISHED = ("done", "failed")
"""Inbox statuses of a processed body; any other is the backlog."""


@contextlib.asynccontextmanager
async def whole_services(
    database_url: str, *, count: int, slack_url: str
) -> AsyncIterator[list[tuple[str, int]]]:
    """``count`` ``tocsin serve`` processes (the first alone: it migrates); (url, pid) each."""
    folder = Path(tempfile.mkdtemp(prefix="tocsin-ingest-whole-"))
    env = child_environment(
        {
            "TOCSIN_CONFIG": str(bench_policy(folder)),
            "SLACK_BOT_TOKEN": SLACK_TOKEN,
            "SLACK_SIGNING_SECRET": SLACK_SECRET,
            "TOCSIN_SLACK_API_URL": f"{slack_url}/api/",
            "TOCSIN_DATABASE_URL": database_url,
            "TOCSIN_WEBHOOK_TOKEN": TOKEN,
            "TOCSIN_LOG_FORMAT": "json",
        },
        clean=True,
    )
    processes: list[subprocess.Popen[bytes]] = []
    started: list[tuple[str, int]] = []
    try:
        async with httpx.AsyncClient(timeout=2) as http:
            for n in range(count):
                port = free_port()
                with (folder / f"tocsin-{n}.log").open("ab") as log:
                    process = subprocess.Popen(  # noqa: ASYNC220 - returns at once
                        [sys.executable, "-m", "bot", "serve"],
                        env={**env, "TOCSIN_PORT": str(port)},
                        stdout=log,
                        stderr=log,
                    )
                processes.append(process)
                url = f"http://127.0.0.1:{port}"
                deadline = time.monotonic() + 90
                while True:
                    if process.poll() is not None:
                        raise RuntimeError(f"the service exited with {process.returncode}")
                    with contextlib.suppress(httpx.HTTPError):
                        if (await http.get(f"{url}/readyz")).status_code == 200:
                            break
                    if time.monotonic() > deadline:
                        raise RuntimeError("the service did not become ready in 90 s")
                    await asyncio.sleep(0.1)
                started.append((url, process.pid))
        yield started
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                await asyncio.to_thread(process.wait, 20)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait, 10)
        shutil.rmtree(folder, ignore_errors=True)


class Inbox:
    """Counts read from the database once a second: the backlog (bodies not yet processed),
    bodies processed since a phase began, alerts."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self._pg: asyncpg.Connection | None = None

    async def __aenter__(self) -> Inbox:
        if not self.url.startswith("sqlite"):
            self._pg = await asyncpg.connect(self.url)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._pg is not None:
            await self._pg.close()

    async def _rows(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        if self._pg is not None:
            pg_query = query.replace("?", "$1")
            return [tuple(r) for r in await self._pg.fetch(pg_query, *args)]
        path = self.url.removeprefix("sqlite:///")

        def read() -> list[tuple[Any, ...]]:
            with contextlib.closing(inbox_file.open_sqlite(path)) as conn:
                return [tuple(r) for r in conn.execute(query, args).fetchall()]

        return await asyncio.to_thread(read)

    async def last_id(self) -> int:
        return int((await self._rows("SELECT coalesce(max(id), 0) FROM inbox"))[0][0])

    async def counts(self, since_id: int) -> tuple[int, int, int]:
        """(backlog, bodies processed with an id above ``since_id``, alerts)."""
        done = ", ".join(f"'{s}'" for s in FINISHED)
        backlog = await self._rows(f"SELECT count(*) FROM inbox WHERE status NOT IN ({done})")  # noqa: S608
        processed = await self._rows(
            f"SELECT count(*) FROM inbox WHERE id > ? AND status IN ({done})",  # noqa: S608
            since_id,
        )
        alerts = await self._rows("SELECT count(*) FROM alert")
        return int(backlog[0][0]), int(processed[0][0]), int(alerts[0][0])

    async def open_fingerprints(self) -> list[str]:
        rows = await self._rows("SELECT fingerprint FROM alert WHERE status != 'resolved'")
        return [str(r[0]) for r in rows]


async def worker_phase(
    phase: Phase, services: list[tuple[str, int]], inbox: Inbox, drain: float
) -> dict[str, Any]:
    """Load the whole service for ``phase.seconds`` and sample the inbox every second until
    every accepted body is processed or ``drain`` seconds after the load."""
    urls, pids = [u for u, _ in services], [p for _, p in services]
    since = await inbox.last_id()
    _, _, alerts_before = await inbox.counts(since)
    cpu_before = sum(cpu_seconds(p) for p in pids)
    samples: list[dict[str, float]] = []

    async def sample() -> tuple[int, int]:
        backlog, bodies, alerts = await inbox.counts(since)
        processed = bodies * phase.alerts_per_body
        samples.append(
            {
                "at": time.monotonic(),
                "backlog": backlog,
                "processed": processed,
                "alerts_opened": alerts - alerts_before,
            }
        )
        return backlog, bodies

    load = asyncio.create_task(asyncio.to_thread(load_spread, urls, phase))
    while not load.done():
        await asyncio.wait({load}, timeout=1.0)
        await sample()
    result = load.result()
    load_end = time.monotonic()
    # the load processes' own clock: spawning them (and handing them the bodies) takes seconds
    start = load_end - result.elapsed
    cpu_load_end = sum(cpu_seconds(p) for p in pids)
    accepted = result.statuses.get(202, 0)
    backlog_at_load_end, bodies_at_load_end = await sample()
    bodies = bodies_at_load_end
    drained_at: float | None = None
    last_sample = time.monotonic()
    while True:
        if bodies >= accepted:
            drained_at = time.monotonic()
            break
        if time.monotonic() - load_end >= drain:
            break
        # polled every 0.1 s, so the moment the backlog is gone is known to 0.1 s (a 10 s
        # phase's processed/s to 1 %); the series keeps a sample a second
        await asyncio.sleep(0.1)
        if time.monotonic() - last_sample >= 1.0:
            _, bodies = await sample()
            last_sample = time.monotonic()
        else:
            bodies = (await inbox.counts(since))[1]
    end = drained_at or time.monotonic()
    for s in samples:
        s["t"] = round(s.pop("at") - start, 1)
    samples = [s for s in samples if s["t"] > -1.0]
    cpu_end = sum(cpu_seconds(p) for p in pids)
    processed = bodies * phase.alerts_per_body
    after_load = (bodies - bodies_at_load_end) * phase.alerts_per_body
    figures = summarise(phase, result)
    figures.update(
        {
            "accepted_alerts": accepted * phase.alerts_per_body,
            "processed_alerts": processed,
            "processed_per_s": round(processed / (end - start), 1) if end > start else 0.0,
            "processed_during_load_per_s": round(
                bodies_at_load_end * phase.alerts_per_body / (load_end - start), 1
            ),
            # the worker with the machine to itself: a component figure, not the headline
            "processed_after_load_per_s": round(after_load / (end - load_end), 1)
            if drained_at and after_load and end > load_end
            else None,
            "backlog_at_load_end": backlog_at_load_end,
            "backlog_left": accepted - bodies,
            "drained_after_s": round(drained_at - load_end, 1) if drained_at else None,
            "waited_after_load_s": round(end - load_end, 1),
            "alerts_opened": samples[-1]["alerts_opened"],
            "server_cpu_ms_per_processed_alert_after_load": round(
                (cpu_end - cpu_load_end) * 1000 / after_load, 3
            )
            if after_load
            else None,
            "server_cpu_ms_per_alert_whole": round((cpu_end - cpu_before) * 1000 / processed, 3)
            if drained_at and processed
            else None,
            "alerts_per_body": phase.alerts_per_body,
            "samples": samples,
            "instances": len(services),
        }
    )
    return figures


def _bodies_for(fingerprints: list[str], count: int) -> list[bytes]:
    """Repeat firings: the bodies of alerts already open, in turn."""
    return [
        json.dumps(
            {
                "title": f"Checkout error rate high ({fp})",
                "fingerprint": fp,
                "severity": "warning",
                "labels": {"service": "checkout", "env": "prod"},
            }
        ).encode()
        for fp in (fingerprints[i % len(fingerprints)] for i in range(count))
    ]


WORKER_PHASES = ("batch", "single", "repeat", "repeat_batch")


def bench_whole(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    """The worker phases, each on a fresh database with fresh processes (a backlog left by
    one phase would be processed first by the next: the inbox is worked oldest first)."""
    run = uuid.uuid4().hex[:8]
    seconds = args.seconds
    count = 1 if kind == "sqlite" else args.instances
    figures: dict[str, Any] = {"db": kind, "instances": count}

    async def one(name: str, make: Callable[[Inbox, list[tuple[str, int]]], Any]) -> None:
        world = SlackWorld()
        async with (
            serving(world, bot_token=SLACK_TOKEN, signing_secret=SLACK_SECRET) as slack_url,
            fresh_database(kind, args.postgres_url) as url,
            whole_services(url, count=count, slack_url=slack_url) as services,
            Inbox(url) as inbox,
        ):
            figures[name] = await make(inbox, services)
            figures[name]["slack_writes"] = len(world.write_log.writes())

    async def batch(inbox: Inbox, services: list[tuple[str, int]]) -> dict[str, Any]:
        bodies = batch_bodies(run, int(250 * seconds), args.batch)
        phase = Phase("batch", "alertmanager", bodies, args.batch, seconds, args.batch_connections)
        return await worker_phase(phase, services, inbox, args.drain)

    async def single(inbox: Inbox, services: list[tuple[str, int]]) -> dict[str, Any]:
        bodies = single_bodies(run, "whole", int(5000 * seconds))
        phase = Phase("single", "generic", bodies, 1, seconds, args.connections)
        return await worker_phase(phase, services, inbox, args.drain)

    async def repeat(inbox: Inbox, services: list[tuple[str, int]]) -> dict[str, Any]:
        seed = Phase("seed", "generic", single_bodies(run, "seed", args.open_alerts), 1, 60.0, 16)
        seeded = await worker_phase(seed, services, inbox, max(args.drain, 60.0))
        fingerprints = await inbox.open_fingerprints()
        say = f"  {kind}: {len(fingerprints):,} open alerts to repeat"
        print(say + f" (seeded in {seeded['seconds'] + seeded['waited_after_load_s']:.0f} s)")
        if not fingerprints:
            raise RuntimeError("no alert was opened: nothing to repeat")
        bodies = _bodies_for(fingerprints, int(5000 * seconds))
        phase = Phase("repeat", "generic", bodies, 1, seconds, args.connections)
        return await worker_phase(phase, services, inbox, args.drain)

    async def repeat_batch(inbox: Inbox, services: list[tuple[str, int]]) -> dict[str, Any]:
        """Repeat firings the way Alertmanager sends them: it notifies each group again
        every ``repeat_interval`` with all its firing alerts, so repeats come a batch at a
        time — this measures the worker's repeat path, which single-alert webhooks (~0.3 ms
        of intake CPU each) cannot feed fast enough in one process."""
        groups = max(1, args.open_alerts // args.batch)
        seed_bodies = batch_bodies(run + "-r", groups, args.batch)
        seed = Phase("seed", "alertmanager", seed_bodies, args.batch, 60.0, 4)
        seeded = await worker_phase(seed, services, inbox, max(args.drain, 60.0))
        opened = len(await inbox.open_fingerprints())
        say = f"  {kind}: {opened:,} open alerts in {groups} groups to repeat"
        print(say + f" (seeded in {seeded['seconds'] + seeded['waited_after_load_s']:.0f} s)")
        if opened < groups * args.batch:
            raise RuntimeError(f"only {opened} of {groups * args.batch} alerts were opened")
        bodies = [seed_bodies[i % groups] for i in range(int(250 * seconds))]
        phase = Phase(
            "repeat_batch", "alertmanager", bodies, args.batch, seconds, args.batch_connections
        )
        return await worker_phase(phase, services, inbox, args.drain)

    async def all_phases() -> None:
        makers = {"batch": batch, "single": single, "repeat": repeat, "repeat_batch": repeat_batch}
        for name in WORKER_PHASES:
            if name not in args.phases:
                continue
            print(f"  {kind}: {name} with the inbox worker for {seconds:g} s …", flush=True)
            await one(f"w_{name}", makers[name])

    asyncio.run(all_phases())
    return figures


def print_whole(results: list[dict[str, Any]]) -> None:
    print()
    print("With the inbox worker running (the whole service: tocsin serve, fake Slack at 1/s)")
    heads = [f"{r['db']} x{r['instances']}" if r["instances"] > 1 else r["db"] for r in results]
    print(f"{'figure':52} " + " ".join(f"{h:>22}" for h in heads) + "  target")

    def cell(r: dict[str, Any], phase: str, key: str, fmt: str = "{:,.0f}") -> str:
        value = r[phase].get(key)
        return "—" if value is None else fmt.format(value)

    def cpu(r: dict[str, Any]) -> str:
        whole = r["w_single"]["server_cpu_ms_per_alert_whole"]
        return "—" if whole is None else f"{whole:.2f} ms"

    rows: list[tuple[str, Callable[[dict[str, Any]], str], str]] = [
        (
            "batches of 100: accepted alerts/s",
            lambda r: cell(r, "w_batch", "alerts_per_s"),
            "≥ 20,000 (SQLite)",
        ),
        ("  processed alerts/s", lambda r: cell(r, "w_batch", "processed_per_s"), ""),
        (
            "  POST latency p50 / p99",
            lambda r: "{p50:.0f} / {p99:.0f} ms".format(**r["w_batch"]["latency_ms"]),
            "",
        ),
        (
            "  backlog (alerts) at the end of the load / left",
            lambda r: (
                f"{r['w_batch']['backlog_at_load_end'] * r['w_batch']['alerts_per_body']:,.0f} / "
                f"{r['w_batch']['backlog_left'] * r['w_batch']['alerts_per_body']:,}"
            ),
            "",
        ),
        ("single-alert webhooks: accepted/s", lambda r: cell(r, "w_single", "alerts_per_s"), ""),
        ("  new alerts processed/s", lambda r: cell(r, "w_single", "processed_per_s"), "≥ 2,000"),
        ("  CPU per new alert, whole service (all processes)", cpu, "≤ 0.5 ms"),
        (
            "  backlog (bodies) at the end of the load / left",
            lambda r: (
                f"{r['w_single']['backlog_at_load_end']:,.0f} / {r['w_single']['backlog_left']:,}"
            ),
            "",
        ),
        (
            "repeat firings of open alerts: accepted/s",
            lambda r: cell(r, "w_repeat", "alerts_per_s"),
            "",
        ),
        ("  processed/s", lambda r: cell(r, "w_repeat", "processed_per_s"), "(intake-bound)"),
        (
            "  backlog (bodies) at the end of the load / left",
            lambda r: (
                f"{r['w_repeat']['backlog_at_load_end']:,.0f} / {r['w_repeat']['backlog_left']:,}"
            ),
            "",
        ),
        (
            "repeat firings, batches of 100: accepted alerts/s",
            lambda r: cell(r, "w_repeat_batch", "alerts_per_s"),
            "",
        ),
        (
            "  processed alerts/s",
            lambda r: cell(r, "w_repeat_batch", "processed_per_s"),
            "≥ 10,000",
        ),
        (
            "  during the load / after it (the worker alone)",
            lambda r: (
                f"{cell(r, 'w_repeat_batch', 'processed_during_load_per_s')} / "
                f"{cell(r, 'w_repeat_batch', 'processed_after_load_per_s')}"
            ),
            "",
        ),
        (
            "  backlog (alerts) at the end of the load / left",
            lambda r: (
                f"{r['w_repeat_batch']['backlog_at_load_end'] * 100:,.0f} / "
                f"{r['w_repeat_batch']['backlog_left'] * 100:,}"
            ),
            "",
        ),
    ]
    for label, value, target in rows:
        try:
            cells = " ".join(f"{value(r):>22}" for r in results)
        except KeyError:  # a phase left out (--phase)
            continue
        print(f"{label:52} " + cells + f"  {target}")
    for r in results:
        for phase in (f"w_{name}" for name in WORKER_PHASES):
            if phase not in r:
                continue
            series = " ".join(f"{s['backlog']:,}" for s in r[phase]["samples"])
            print(f"  {r['db']} {phase[2:]}: backlog (bodies) each second: {series}")


def whole_verdicts(r: dict[str, Any]) -> dict[str, bool]:
    """The targets of the phases that ran (``--phase`` may leave some out)."""
    verdicts: dict[str, bool] = {}
    if "w_single" in r:
        verdicts["single_processed_per_s"] = (
            r["w_single"]["processed_per_s"] >= WORKER_TARGETS["single_processed_per_s"]
        )
        whole = r["w_single"]["server_cpu_ms_per_alert_whole"]
        verdicts["cpu_ms_per_new_alert"] = (
            whole is not None and whole <= WORKER_TARGETS["cpu_ms_per_new_alert"]
        )
    if "w_repeat_batch" in r:
        verdicts["repeat_processed_per_s"] = (
            r["w_repeat_batch"]["processed_per_s"] >= WORKER_TARGETS["repeat_processed_per_s"]
        )
    if r["db"] == "sqlite" and "w_batch" in r:
        verdicts["batch_accepted_alerts_per_s"] = (
            r["w_batch"]["alerts_per_s"] >= WORKER_TARGETS["batch_accepted_alerts_per_s"]
        )
    return verdicts


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
    parser.add_argument(
        "--mode",
        choices=["intake", "worker", "both"],
        default="both",
        help="intake alone (the component), the whole service with its inbox worker, or both",
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--batch-connections", type=int, default=8)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--load-processes", type=int, default=1)
    parser.add_argument(
        "--with-workers", action="store_true", help="intake phases with the workers running"
    )
    parser.add_argument("--instances", type=int, default=3, help="PostgreSQL, worker mode")
    parser.add_argument(
        "--drain", type=float, default=None, help="s to sample after a worker phase's load (60)"
    )
    parser.add_argument(
        "--open-alerts", type=int, default=None, help="alerts repeated in the repeat phases (1000)"
    )
    parser.add_argument(
        "--phase",
        dest="phases",
        action="append",
        choices=list(WORKER_PHASES),
        help="worker mode: run only this phase (repeatable; default all four)",
    )
    parser.add_argument("--quick", action="store_true", help="3 s per phase")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    args.phases = args.phases or list(WORKER_PHASES)
    if args.quick:
        args.seconds = 3.0
    if args.drain is None:
        args.drain = 10.0 if args.quick else 60.0
    if args.open_alerts is None:
        args.open_alerts = 200 if args.quick else 1000
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    load_before = os.getloadavg()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}", flush=True)
    results: list[dict[str, Any]] = []
    whole: list[dict[str, Any]] = []
    for kind in kinds:
        started = time.perf_counter()
        if args.mode in ("intake", "both"):
            print(f"  {kind}: intake alone (component: no inbox worker)", flush=True)
            results.append(bench_database(kind, args))
        if args.mode in ("worker", "both"):
            print(f"  {kind}: the whole service, inbox worker running", flush=True)
            whole.append(bench_whole(kind, args))
        print(f"  {kind}: done in {time.perf_counter() - started:.0f} s", flush=True)
    load_after = os.getloadavg()
    if results:
        print()
        print(
            "Intake alone (component): webhook -> inbox row committed -> 202, "
            + ("workers running" if args.with_workers else "no inbox worker")
        )
        print_table(results)
    if whole:
        print_whole(whole)
    machine = {
        "cpus": os.cpu_count(),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
        "python": sys.version.split()[0],
    }
    print(
        f"\nmachine: {machine['cpus']} CPUs, load average {machine['load_before']} before, "
        f"{machine['load_after']} after"
    )
    for r in results:
        r["targets_met"] = verdicts(r)
    for r in whole:
        r["targets_met"] = whole_verdicts(r)
    print(json.dumps({"results": results, "whole": whole, "machine": machine, "args": vars(args)}))
    if any(r["durability"]["accepted_but_missing_or_different"] for r in results):
        sys.exit(2)
    if not args.quick and not all(all(r["targets_met"].values()) for r in results + whole):
        sys.exit(1)


if __name__ == "__main__":
    main()
