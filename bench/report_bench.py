"""Review benchmark: a 30-day report over 1,000,000 stored alerts (time and peak RSS), and the
review page's first paint in headless Chromium — on SQLite and PostgreSQL.

    .venv/bin/python -m bench.report_bench [--db sqlite|postgres|both] [--alerts 1000000]
                                           [--days 365] [--no-browser] [--compare]

Alerts are spread evenly over ``--days`` days ending now (ids in firing order), in 40 teams,
levels 1-3, with acknowledgements, resolutions (by people and by the source), root causes, a
first-tier page for each alert and a second-tier page (an escalation) for one in five. Rows are
built from one ``new_row`` template and inserted with core ``INSERT … executemany`` in batches.

The report runs in a fresh process (spawn) on the real code path (
``bot.review.reports.make_review``:
the fast path of ``storage.review.scan`` and ``escalation.review.rows``), so its peak RSS
(``VmHWM``) is the report's own; wall and CPU time (all threads: the SQLite driver's work runs
in its own) are printed with the load average when it started. ``--compare`` also runs the
straightforward path (``storage.review.facts.build_review``) and compares a hash of the figures.
The page is served by ``tocsin serve`` as a process; Chromium
signs in and loads ``/review`` (the last 7 days) and ``/review?period=30d``; first paint is
the browser's ``first-contentful-paint``, and the full page its ``loadEventEnd``. Figures are
printed, never asserted; timing on a shared machine is indicative.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import multiprocessing as mp
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.instance import peak_rss_mb
from bench.seed import settle, temporary_database
from config.environment import child_environment
from config.settings import async_url
from escalation.model import AlertEvent, SourceStatus
from escalation.policy import NO_POLICY
from escalation.state import open_alert
from storage.alerts import new_row
from storage.db import Database
from storage.tables import AlertEventRow, AlertRow, OutboxRow, table_of

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
TEAMS = 40
BATCH = 10_000
TOKEN = "bench-review-token-0123456789"  # noqa: S105 - a throw-away instance
CAUSES = ("capacity", "software change", "third party", "hardware", None)
_T0 = time.monotonic()


def say(text: str) -> None:
    print(f"[{time.monotonic() - _T0:7.1f}s] {text}", flush=True)


def _template() -> dict[str, Any]:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    event = AlertEvent(
        fingerprint="t",
        status=SourceStatus.FIRING,
        title="t",
        source="prometheus",
        description="The 5xx ratio of the checkout service has been above 2% for 5 minutes.",
        impact="Customers may fail to pay for their orders.",
        suggested_actions="Check the latest deploy; roll back if it correlates.",
        labels={"alertname": "HighErrorRate", "env": "prod"},
    )
    tr = open_alert(fired_at=now, policy=NO_POLICY, now=now)
    row = new_row(event, tr.state, integration="prometheus", level=2, grade_reason="bench",
                  team="team-0", channel="#alerts-0", policy=NO_POLICY)  # fmt: skip
    columns = [c.key for c in table_of(AlertRow).columns]
    return {name: getattr(row, name) for name in columns if name != "id"}


def _rows(
    first_id: int, count: int, *, total: int, start: datetime, span: float, rng: random.Random
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    base = _template()
    alerts, events, outbox = [], [], []
    for alert_id in range(first_id, first_id + count):
        # ids follow firing time, as they do when alerts arrive one after another
        fired = start + timedelta(seconds=span * (alert_id - 1 + rng.random()) / total)
        team = alert_id % TEAMS
        level = rng.choice((1, 2, 2, 3, 3, 3))
        service = alert_id % 500
        acked = fired + timedelta(seconds=rng.expovariate(1 / 400)) if rng.random() < 0.8 else None
        resolved = (
            fired + timedelta(seconds=rng.expovariate(1 / 5400)) if rng.random() < 0.97 else None
        )
        by_source = resolved is not None and rng.random() < 0.4
        user = f"U{team:03d}{alert_id % 5:05d}X"
        row = dict(base)
        row.update(
            id=alert_id,
            # one open alert per fingerprint (the database's rule); resolved ones recur
            fingerprint=f"svc-{service}-{level}" if resolved else f"open-{alert_id}",
            title=f"High error rate on checkout-{service}",
            level=level,
            team=f"team-{team}",
            channel=f"#alerts-{team}",
            category=("availability", "latency", "data", None)[alert_id % 4],
            fired_at=fired,
            last_seen_at=fired,
            count=1 + (alert_id % 7 == 0) * 3,
            status="resolved" if resolved else ("acknowledged" if acked else "firing"),
            acknowledged_by=user if acked else None,
            acknowledged_at=acked,
            first_acknowledged_at=acked,
            resolved_at=resolved,
            resolved_by=None if by_source or resolved is None else user,
            resolved_by_source=by_source,
            root_cause=None if by_source or resolved is None else rng.choice(CAUSES),
            policy_snapshot={"ack_within": (300, 1800, 14400)[level - 1]},
            next_action_at=None,
        )
        alerts.append(row)
        events.append({"alert_id": alert_id, "at": fired, "kind": "fired", "rule": "FIRE-1",
                       "actor": None, "summary": "fired"})  # fmt: skip
        events.append({"alert_id": alert_id, "at": fired, "kind": "step", "rule": "STEP-1",
                       "actor": None, "summary": f"paged tier 1: user {user}"})  # fmt: skip
        outbox.append({"idempotency_key": f"p1:{alert_id}", "alert_id": alert_id,
                       "kind": "page_dm", "payload": {"user": user, "tier": 0},
                       "status": "done", "created_at": fired, "next_attempt_at": fired,
                       "attempts": 1, "done_at": fired})  # fmt: skip
        if alert_id % 5 == 0:
            later = fired + timedelta(minutes=15)
            events.append({"alert_id": alert_id, "at": later, "kind": "step", "rule": "STEP-1",
                           "actor": None, "summary": "paged tier 2: user U0BOSS"})  # fmt: skip
            outbox.append({"idempotency_key": f"p2:{alert_id}", "alert_id": alert_id,
                           "kind": "page_dm", "payload": {"user": "U0BOSS", "tier": 1},
                           "status": "done", "created_at": later, "next_attempt_at": later,
                           "attempts": 1, "done_at": later})  # fmt: skip
    return alerts, events, outbox


async def seed(url: str, *, alerts: int, days: int, now: datetime) -> None:
    db = Database(url)
    await db.upgrade()
    rng = random.Random(7)
    start, span = now - timedelta(days=days), days * 86400.0
    try:
        for first in range(1, alerts + 1, BATCH):
            count = min(BATCH, alerts - first + 1)
            a, e, o = _rows(first, count, total=alerts, start=start, span=span, rng=rng)
            async with db.write() as session:
                conn = await session.connection()
                await conn.execute(table_of(AlertRow).insert(), a)
                await conn.execute(table_of(AlertEventRow).insert(), e)
                await conn.execute(table_of(OutboxRow).insert(), o)
            if (first // BATCH) % 20 == 0:
                say(f"seeded {first + count - 1:,} alerts")
        if not db.is_sqlite:
            async with db.write() as session:
                conn = await session.connection()
                await conn.exec_driver_sql(f"SELECT setval('alert_id_seq', {alerts})")
        await settle(db)
    finally:
        await db.dispose()


def _measure(
    url: str, now: datetime, days: int, team: str | None, path: str, out: mp.Queue[dict[str, Any]]
) -> None:
    """In a fresh process: one report over the last ``days`` days; time and peak RSS.

    ``path`` is "fast" (``bot.review.reports.make_review``, what the product runs) or "plain" (the
    straightforward ``storage.review.facts.build_review``, kept as the reference)."""
    from bot.review.reports import empty_review, make_review
    from config.policy import load_policy
    from config.settings import EXAMPLE_POLICY
    from storage.review import facts as plain
    from storage.review.facts import ReviewFilter

    policy = load_policy(EXAMPLE_POLICY, env={"TOCSIN_WEBHOOK_TOKEN": "x" * 10})
    before = peak_rss_mb()

    async def run() -> dict[str, Any]:
        db = Database(url)
        spec = ReviewFilter(since=now - timedelta(days=days), until=now, team=team)
        load = os.getloadavg()[0]
        started, cpu = time.perf_counter(), time.process_time()
        if path == "fast":
            review = await make_review(db, policy, spec)
        else:
            review = await plain.build_review(db, spec, empty_review(policy, spec))
        data = review.as_dict()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        await db.dispose()
        # the figures without the clock-dependent period, to compare the two paths
        figures = {k: v for k, v in data.items() if k not in ("since", "until", "days")}
        digest = hashlib.sha256(json.dumps(figures).encode()).hexdigest()[:16]
        return {"path": path, "seconds": round(elapsed, 3), "cpu_seconds": round(cpu, 3),
                "load_1m": load, "alerts": data["overall"]["alerts"],  # type: ignore[index]
                "pages": data["overall"]["pages"], "figures_sha256": digest}  # type: ignore[index]  # fmt: skip

    result = asyncio.run(run())
    result.update(rss_before_mb=before, peak_rss_mb=peak_rss_mb())
    out.put(result)


def measure(
    url: str, now: datetime, days: int, team: str | None = None, path: str = "fast"
) -> dict[str, Any]:
    """One report over the ``days`` up to ``now`` (the same period for every run)."""
    ctx = mp.get_context("spawn")
    queue: mp.Queue[dict[str, Any]] = ctx.Queue()
    process = ctx.Process(target=_measure, args=(url, now, days, team, path, queue))
    process.start()
    result = queue.get(timeout=900)
    process.join()
    return result


def page_paint(url: str, workdir: Path) -> dict[str, Any]:
    """``tocsin serve`` on the database; Chromium signs in and loads the review page."""
    from playwright.sync_api import sync_playwright

    from tests.support.browser import CHROMIUM_ARGS, find_chromium
    from tests.support.servers import free_port

    chromium = find_chromium()
    if chromium is None:
        return {"skipped": "no chromium"}
    port = free_port()
    plain = url.replace("sqlite+aiosqlite", "sqlite").replace("postgresql+asyncpg", "postgresql")
    env = child_environment(
        dict(
            TOCSIN_PORT=str(port),
            TOCSIN_DATABASE_URL=plain,
            TOCSIN_REVIEW_TOKEN=TOKEN,
            TOCSIN_LOG_FORMAT="json",
            TOCSIN_LOG_LEVEL="WARNING",
        ),
        clean=True,
    )
    log = (workdir / "serve.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=env, stdout=log,
                              stderr=log)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    figures: dict[str, Any] = {}
    try:
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.set_default_timeout(120_000)
            page.goto(f"{base}/review/login")
            page.get_by_label("Review token").fill(TOKEN)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{base}/review")
            for name, path in (("7d", "/review"), ("30d", "/review?period=30d")):
                page.goto(f"{base}{path}", wait_until="load")
                timing = page.evaluate(
                    """() => {
                    const nav = performance.getEntriesByType('navigation')[0];
                    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
                    return {fcp: fcp ? fcp.startTime : null, load: nav.loadEventEnd,
                            response_start: nav.responseStart};
                    }"""
                )
                figures[name] = {k: v / 1000 if v is not None else None for k, v in timing.items()}
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
    return figures


@contextlib.asynccontextmanager
async def _database(kind: str, args: argparse.Namespace) -> AsyncIterator[tuple[str, datetime]]:
    """The database to measure and the end of its history: ``--url`` seeded once and kept
    (seeding is skipped when it already holds alerts), or a throw-away one seeded now."""
    if args.url is not None:
        url = async_url(args.url)
        db = Database(url)
        await db.upgrade()
        async with db.engine.connect() as conn:
            last = (await conn.execute(select(func.max(AlertRow.fired_at)))).scalar_one()
        await db.dispose()
        if last is None:
            now = datetime.now(UTC)
            await _seed_timed(kind, url, args, now)
        else:
            now = last if last.tzinfo else last.replace(tzinfo=UTC)
            say(f"{kind}: measuring the alerts already in {args.url} (up to {now:%Y-%m-%d %H:%M})")
        yield url, now
        return
    async with temporary_database(kind, args.postgres_url) as url:
        now = datetime.now(UTC)
        await _seed_timed(kind, url, args, now)
        yield url, now


async def _seed_timed(kind: str, url: str, args: argparse.Namespace, now: datetime) -> None:
    say(f"{kind}: seeding {args.alerts:,} alerts over {args.days} days")
    started = time.perf_counter()
    await seed(url, alerts=args.alerts, days=args.days, now=now)
    say(f"{kind}: seeded in {time.perf_counter() - started:.0f} s")


async def _main(args: argparse.Namespace) -> dict[str, Any]:
    kinds = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    if args.url is not None:
        kinds = ("sqlite" if args.url.startswith("sqlite") else "postgres",)
    results: dict[str, Any] = {}
    for kind in kinds:
        async with _database(kind, args) as (url, now):
            figures: dict[str, Any] = {}
            figures["report_30d"] = measure(url, now, 30)
            say(f"{kind}: 30-day report {figures['report_30d']}")
            figures["report_30d_again"] = measure(url, now, 30)
            say(f"{kind}: 30-day report again {figures['report_30d_again']}")
            figures["report_7d_one_team"] = measure(url, now, 7, "team-3")
            say(f"{kind}: 7-day report of one team {figures['report_7d_one_team']}")
            if args.compare:
                figures["report_30d_plain"] = measure(url, now, 30, path="plain")
                say(f"{kind}: 30-day report, straightforward path {figures['report_30d_plain']}")
                same = (figures["report_30d_plain"]["figures_sha256"]
                        == figures["report_30d_again"]["figures_sha256"])  # fmt: skip
                figures["same_figures_both_paths"] = same
                say(f"{kind}: same figures on both paths: {same}")
            if not args.no_browser:
                with tempfile.TemporaryDirectory() as tmp:
                    figures["page"] = await asyncio.to_thread(page_paint, url, Path(tmp))
                say(f"{kind}: review page {figures['page']}")
            results[kind] = figures
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--alerts", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument(
        "--url",
        help="a database to keep: seeded when empty, else measured as it is (seed once, "
        "measure often); sqlite:///path or postgresql://…",
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="also run the straightforward path and say whether its figures are the same",
    )
    args = parser.parse_args()
    load_before = os.getloadavg()
    results = asyncio.run(_main(args))
    print(json.dumps({"alerts": args.alerts, "days": args.days, "results": results,
                      "cpus": os.cpu_count(), "load_before": load_before,
                      "load_after": os.getloadavg()}, default=str))  # fmt: skip


if __name__ == "__main__":
    main()
