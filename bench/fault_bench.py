"""Fault benchmark: SIGKILLs under a stream of webhooks, and a long Slack outage.

    .venv/bin/python -m bench.fault_bench                 # 50 kills, a 5-minute outage (~9 min)
    .venv/bin/python -m bench.fault_bench --quick         # 10 kills, a 20-second outage (~1.5 min)
    .venv/bin/python -m bench.fault_bench --kills 100 --outage 600 --outage-kind timeout

`tocsin serve` runs as a real process on SQLite; the fake Slack Web API of the sandbox is
served by this process, so it — and what it received — outlives every kill. Figures are
printed (a table, then one JSON line); exit status 2 if anything was lost or doubled.

Kills: a client posts webhooks without pause (one alert each, paging one person at once)
while the service is SIGKILLed at random moments and restarted. Afterwards every alert that
got a 2xx must have exactly one warning and exactly one page.

Outage: alerts arrive every `--interval` seconds on 4 channels; Slack is taken down for
`--outage` seconds (503, timeouts, or 429 with Retry-After), then restored. The figure is how
long after Slack came back the last alert waiting for it was delivered, and each alert's
delay from its webhook to its warning.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bench.workdir import policy_file
from bot.sandbox import SlackWorld
from tests.support.harness import WEBHOOK_TOKEN
from tests.support.tocsin_process import FakeSlack, TocsinProcess, fake_slack

POLICY = """
levels:
  1: {name: critical}
  2: {name: major}
  3: {name: minor}
integrations:
  - {name: generic, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}"}
storm: {enabled: false}  # one warning per alert, so each can be counted exactly once
routes:
  - {match: {shard: "1"}, team: ops, channel: "#alerts-1", policy: page-alice}
  - {match: {shard: "2"}, team: ops, channel: "#alerts-2", policy: page-alice}
  - {match: {shard: "3"}, team: ops, channel: "#alerts-3", policy: page-alice}
default_route: {team: ops, channel: "#alerts-0", policy: page-alice}
policies:
  page-alice:
    tiers:
      - {notify: [{user: U0ALICE}], after: 0s}
"""
CHANNELS = [f"#alerts-{n}" for n in range(4)]


def service(
    workdir: Path, slack: FakeSlack, *, pages: bool = True, fast_slack: bool = False
) -> TocsinProcess:
    policy = POLICY if pages else POLICY.replace("page-alice}", "quiet}") + "  quiet: {tiers: []}\n"
    policy_path = policy_file(workdir, policy)
    return TocsinProcess(
        name="tocsin",
        workdir=workdir,
        env={
            **slack.env(),
            "TOCSIN_DATABASE_URL": f"sqlite:///{workdir / 'tocsin.db'}",
            "TOCSIN_CONFIG": str(policy_path),
            # kills: the fake Slack allows far more than Slack's 1/s per channel; pace to it
            "TOCSIN_SLACK_CHANNEL_RATE": "50" if fast_slack else "1",
            "TOCSIN_SLACK_CHANNEL_BURST": "50" if fast_slack else "3",
            "TOCSIN_ESCALATION_TICK_SECONDS": "1",
            "TOCSIN_LOG_LEVEL": "WARNING",
        },
    )


def title_of(text: str) -> str:
    return text.rsplit(" ", 1)[-1]


def warnings(slack: FakeSlack) -> Counter[str]:
    return Counter(title_of(m.text) for c in CHANNELS for m in slack.top_level(c))


def pending_outbox(db: Path) -> int:
    with sqlite3.connect(db, timeout=30) as conn:
        return int(conn.execute("SELECT count(*) FROM outbox WHERE status='pending'").fetchone()[0])


async def settle(db: Path, *, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while pending_outbox(db) and time.monotonic() < deadline:  # noqa: ASYNC110 - another process's database
        await asyncio.sleep(0.5)


async def kills(kills: int, workdir: Path) -> dict[str, Any]:
    rng = random.Random(kills)
    async with fake_slack(SlackWorld(rate_per_second=50, burst=50)) as slack:
        tocsin = service(workdir, slack, fast_slack=True)
        await tocsin.start()
        accepted: list[str] = []
        sent = 0
        running = True

        async def stream() -> None:
            nonlocal sent
            async with httpx.AsyncClient(timeout=2) as http:
                while running:
                    title = f"k{sent:06d}"
                    sent += 1
                    try:
                        response = await http.post(
                            f"{tocsin.base_url}/webhooks/generic",
                            json={"title": title, "labels": {"shard": str(sent % 4)}},
                            headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
                        )
                    except httpx.TransportError:
                        await asyncio.sleep(0.02)
                        continue
                    if response.status_code == 202:
                        accepted.append(title)

        started = time.monotonic()
        poster = asyncio.create_task(stream())
        try:
            for n in range(kills):
                await asyncio.sleep(rng.uniform(0.05, 1.5))
                tocsin.kill()
                await tocsin.start()
                print(f"  kill {n + 1}/{kills}: {len(accepted)} accepted so far", flush=True)
        finally:
            running = False
            await poster
        await settle(workdir / "tocsin.db", seconds=300)
        tocsin.stop()
        posted = warnings(slack)
        pages = Counter(title_of(m.text) for m in slack.dms("U0ALICE"))
        return {
            "kills": kills,
            "seconds": round(time.monotonic() - started, 1),
            "webhooks_sent": sent,
            "webhooks_accepted": len(accepted),
            "accepted_lost": sum(1 for t in accepted if posted[t] == 0),
            "warnings_doubled": sum(1 for c in posted.values() if c > 1),
            "pages_missing": sum(1 for t in accepted if pages[t] == 0),
            "pages_doubled": sum(1 for c in pages.values() if c > 1),
            "outbox_left_pending": pending_outbox(workdir / "tocsin.db"),
        }


def _p50_max(values: list[float]) -> list[float]:
    """[median, max] of ``values`` in seconds (``[0, 0]`` when empty)."""
    if not values:
        return [0.0, 0.0]
    return [round(statistics.median(values), 3), round(max(values), 3)]


async def outage(
    seconds: float, kind: str, interval: float, workdir: Path, *, pages: bool
) -> dict[str, Any]:
    world = SlackWorld()  # Slack's own limit: about one message a second per channel
    async with fake_slack(world) as slack:
        tocsin = service(workdir, slack, pages=pages)
        await tocsin.start()
        fired: dict[str, float] = {}
        async with httpx.AsyncClient(timeout=5) as http:

            async def fire(n: int) -> None:
                title = f"o{n:05d}"
                response = await http.post(
                    f"{tocsin.base_url}/webhooks/generic",
                    json={"title": title, "labels": {"shard": str(n % 4)}},
                    headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
                )
                assert response.status_code == 202, response.text
                fired[title] = world.clock()

            n = 0
            lead = 10.0
            end_at = time.monotonic() + lead
            while time.monotonic() < end_at:
                await fire(n)
                n += 1
                await asyncio.sleep(interval)
            if kind == "timeout":
                world.start_outage(hang=20, apply=True)
            elif kind == "429":
                world.start_outage(status=429, retry_after=60)
            else:
                world.start_outage(status=503)
            down_at = world.clock()
            print(f"  Slack down ({kind}) for {seconds:g} s", flush=True)
            end_at = time.monotonic() + seconds
            while time.monotonic() < end_at:
                await fire(n)
                n += 1
                await asyncio.sleep(interval)
            world.end_outage()
            up_at = world.clock()
            print("  Slack back", flush=True)
            end_at = time.monotonic() + lead
            while time.monotonic() < end_at:
                await fire(n)
                n += 1
                await asyncio.sleep(interval)
        await settle(workdir / "tocsin.db", seconds=600)
        tocsin.stop()
        posted_at: dict[str, float] = {}
        by_ts = {
            (w.channel, w.ts): w.at
            for w in world.write_log.writes()
            if w.method == "chat.postMessage"
        }
        for channel in CHANNELS:
            for message in slack.top_level(channel):
                at = by_ts.get((message.channel, message.ts))
                if at is not None:
                    posted_at.setdefault(title_of(message.text), at)
        waited = [t for t, at in fired.items() if down_at <= at < up_at]
        after_up = [posted_at[t] - up_at for t in waited if t in posted_at]
        delays = [posted_at[t] - fired[t] for t in fired if t in posted_at]
        posted = warnings(slack)
        return {
            "outage_seconds": seconds,
            "outage_kind": kind,
            "each_alert_pages": pages,
            "alerts": len(fired),
            "alerts_during_outage": len(waited),
            "lost": sum(1 for t in fired if posted[t] == 0),
            "warnings_doubled": sum(1 for c in posted.values() if c > 1),
            "longest_delay_after_recovery_s": round(max(after_up, default=0.0), 2),
            "delay_before_outage_p50_max_s": _p50_max(
                [posted_at[t] - fired[t] for t in fired if t in posted_at and fired[t] < down_at]
            ),
            "delay_after_recovery_arrivals_p50_max_s": _p50_max(
                [posted_at[t] - fired[t] for t in fired if t in posted_at and fired[t] >= up_at]
            ),
            "delay_p50_s_outside_outage": round(
                statistics.median(
                    [posted_at[t] - fired[t] for t in fired if t in posted_at and t not in waited]
                    or [0.0]
                ),
                3,
            ),
            "longest_delay_overall_s": round(max(delays, default=0.0), 2),
            "max_writes_per_second_per_channel": max(
                world.max_writes_per_second(c) for c in CHANNELS
            ),
        }


def table(results: dict[str, dict[str, Any]]) -> str:
    lines = []
    for part, figures in results.items():
        lines.append(f"{part}:")
        lines.extend(f"  {key:<38} {value}" for key, value in figures.items())
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> int:
    results: dict[str, dict[str, Any]] = {}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="tocsin-faults-") as tmp:
        print(f"kills: {args.kills} SIGKILLs under a stream of webhooks", flush=True)
        (Path(tmp) / "kills").mkdir()
        results["kills"] = await kills(args.kills, Path(tmp) / "kills")
        print(f"outage: {args.outage:g} s of Slack {args.outage_kind}", flush=True)
        (Path(tmp) / "outage").mkdir()
        results["outage"] = await outage(
            args.outage,
            args.outage_kind,
            args.interval,
            Path(tmp) / "outage",
            pages=not args.outage_without_pages,
        )
    print(table(results))
    machine = {"cpus": os.cpu_count(), "load_before": load_before, "load_after": os.getloadavg()}
    print(json.dumps({"results": results, "machine": machine}))
    broken = (
        results["kills"]["accepted_lost"]
        + results["kills"]["warnings_doubled"]
        + results["kills"]["pages_missing"]
        + results["kills"]["pages_doubled"]
        + results["outage"]["lost"]
        + results["outage"]["warnings_doubled"]
    )
    return 2 if broken else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fault_bench")
    parser.add_argument("--kills", type=int, default=50, help="SIGKILLs (50)")
    parser.add_argument("--outage", type=float, default=300.0, help="outage seconds (300)")
    parser.add_argument(
        "--outage-kind", choices=["503", "timeout", "429"], default="503", help="(503)"
    )
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between alerts (1)")
    parser.add_argument(
        "--outage-without-pages",
        action="store_true",
        help="outage part: alerts post warnings only (no page DMs to one person)",
    )
    parser.add_argument("--quick", action="store_true", help="10 kills, a 20 s outage")
    args = parser.parse_args(argv)
    if args.quick:
        args.kills, args.outage = 10, 20.0
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
