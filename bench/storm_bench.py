"""Storm compression benchmark: a flood of alerts into one channel, end to end.

Tocsin runs as its own process (``tocsin serve``, SQLite) against the fake Slack Web API of
the sandbox, served by this process (it answers 429 past one message per second per
channel, burst 3, as Slack does). This process posts ``--alerts`` alerts to ``#alerts``
through the real webhook endpoint, evenly over ``--seconds`` (concurrent requests, as a
busy Alertmanager would), and one alert to ``#db-alerts`` every 5 s meanwhile. It then
waits for the storm to end and every alert to be listed, and prints the figures:

* compression ratio: alerts in ÷ Slack writes (``chat.postMessage`` + ``chat.update``)
  accepted for ``#alerts``; also ÷ all Slack writes (with DMs and the other channel);
* lost alerts: alerts of ``#alerts`` with neither their own warning nor a line in the storm
  summary's thread (the target is 0);
* 429s answered by the fake Slack, the most writes to ``#alerts`` in any second after the
  first burst, the other channel's delay (webhook → its warning in Slack), how long after
  the last alert every alert was listed, the number of storm pages.

    .venv/bin/python -m bench.storm_bench                      # 10,000 alerts in 60 s
    .venv/bin/python -m bench.storm_bench --alerts 2000 --seconds 15   # quick

Exit status 2 if an alert was lost, 1 if the ratio is under the target (150:1), else 0.
Figures depend on the machine: on a shared one they are indicative only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from bench.workdir import policy_file
from bot.sandbox import SlackWorld, build_sandbox_app
from bot.sandbox.workspace.ratelimit import ChannelRateLimiter
from config.environment import child_environment
from storage import inbox_file

BOT_TOKEN = "xoxb-bench-token"  # noqa: S105 - the fake's token
SIGNING_SECRET = "bench-signing-secret"  # noqa: S105
WEBHOOK_TOKEN = "bench-webhook-token"  # noqa: S105
TARGET_RATIO = 150.0
ALERT_ID = re.compile(r"`#(\d+)`")
NAMES = ("DiskFull", "HighLatency", "ErrorRate", "QueueBacklog", "PodCrashLooping")
POLICY = """
levels:
  1: {name: critical, emoji: ":red_circle:"}
  2: {name: major, emoji: ":large_orange_circle:"}
  3: {name: minor, emoji: ":large_blue_circle:"}
integrations:
  - {name: generic, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}"}
routes:
  - {match: {team: db}, team: db, channel: "#db-alerts", policy: default}
default_route: {team: ops, channel: "#alerts", policy: default}
people:
  U0ALICE: {name: Alice}
policies:
  default:
    tiers:
      - {notify: [{user: U0ALICE}], after: 0m}
storm:
  calm_for: %(calm)ds
"""


class CountingLimiter(ChannelRateLimiter):
    def __init__(self) -> None:
        super().__init__(rate=1.0, burst=3, clock=time.monotonic)
        self.refused: dict[str, int] = {}

    def try_acquire(self, channel: str) -> int | None:
        wait = super().try_acquire(channel)
        if wait is not None:
            self.refused[channel] = self.refused.get(channel, 0) + 1
        return wait


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def _serve(app: Any, port: int) -> AsyncIterator[None]:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the fake Slack stopped before it started")
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await task


def alert(n: int, team: str = "ops") -> dict[str, Any]:
    level = 1 if n % 2500 == 11 else 2 if n % 40 == 3 else 3
    name = NAMES[n % len(NAMES)]
    return {
        "title": f"{name} on host-{n}",
        "level": level,
        "fingerprint": f"bench-{team}-{n}",
        "labels": {"team": team, "alertname": name, "host": f"host-{n}"},
    }


async def _wait_ready(http: httpx.AsyncClient, url: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if proc.poll() is not None:
            raise RuntimeError("tocsin exited during start-up")
        with contextlib.suppress(httpx.HTTPError):
            if (await http.get(f"{url}/readyz")).status_code == 200:
                return
        await asyncio.sleep(0.1)
    raise RuntimeError("tocsin did not become ready")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="tocsin-storm-bench-"))
    db_path = workdir / "tocsin.db"
    policy_path = policy_file(workdir, POLICY % {"calm": args.calm})
    slack_port, tocsin_port = _free_port(), _free_port()
    slack_url, tocsin_url = f"http://127.0.0.1:{slack_port}", f"http://127.0.0.1:{tocsin_port}"
    world = SlackWorld(public_url=slack_url)
    limiter = CountingLimiter()
    world.limiter = limiter
    fake = build_sandbox_app(
        world,
        bot_token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        events_url=f"{tocsin_url}/slack/events",
        public_url=slack_url,
    )
    env = child_environment(
        dict(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            TOCSIN_SLACK_API_URL=f"{slack_url}/api/",
            TOCSIN_DATABASE_URL=f"sqlite:///{db_path}",
            TOCSIN_CONFIG=str(policy_path),
            TOCSIN_PORT=str(tocsin_port),
            TOCSIN_WEBHOOK_TOKEN=WEBHOOK_TOKEN,
            TOCSIN_LOG_LEVEL="WARNING",
            TOCSIN_LOG_FORMAT="json",
        )
    )
    headers = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
    async with _serve(fake, slack_port), httpx.AsyncClient(timeout=120) as http:
        proc = subprocess.Popen(  # noqa: ASYNC220 - started once, waited on below
            [sys.executable, "-m", "bot", "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(workdir / "tocsin.log", "wb"),  # noqa: SIM115, ASYNC230
        )
        try:
            await _wait_ready(http, tocsin_url, proc)
            print(f"tocsin up; posting {args.alerts} alerts over {args.seconds}s", flush=True)
            other_delays: list[float] = []

            async def post(body: dict[str, Any]) -> None:
                response = await http.post(
                    f"{tocsin_url}/webhooks/generic", json=body, headers=headers
                )
                response.raise_for_status()

            async def other_channel(n: int) -> None:
                started = time.monotonic()
                await post(alert(n, team="db"))
                await world.wait_for(lambda: len(_top_level(world, "#db-alerts")) > n, timeout=120)
                other_delays.append(time.monotonic() - started)

            per_body = args.per_body
            bodies = args.alerts // per_body
            start = time.monotonic()
            tasks: list[asyncio.Task[None]] = []
            others: list[asyncio.Task[None]] = []
            for b in range(bodies):
                await asyncio.sleep(max(0.0, start + b * args.seconds / bodies - time.monotonic()))
                batch = [alert(b * per_body + i) for i in range(per_body)]
                tasks.append(asyncio.create_task(post({"alerts": batch})))
                if b * args.seconds // bodies >= 5 * (len(others) + 1):
                    others.append(asyncio.create_task(other_channel(len(others))))
            await asyncio.gather(*tasks)
            flood_s = time.monotonic() - start
            print(f"flood posted in {flood_s:.1f}s; waiting for the storm to end", flush=True)
            await asyncio.gather(*others)
            last_alert = time.monotonic()
            done = await _wait_finished(db_path, timeout=args.timeout)
            drained_s = time.monotonic() - last_alert
        finally:
            proc.terminate()
            proc.wait(30)
    return _figures(args, world, limiter, db_path, flood_s, drained_s, done, other_delays)


def _top_level(world: SlackWorld, channel: str) -> list[Any]:
    found = world.find_channel(channel)
    return [] if found is None else world.channel_messages(found.id)


async def _wait_finished(db_path: Path, *, timeout: float) -> bool:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.closing(inbox_file.open_sqlite(db_path)) as conn:
            row = conn.execute("SELECT count(*), sum(finished) FROM storm").fetchone()
            pending = conn.execute(
                "SELECT count(*) FROM outbox WHERE status = 'pending'"
            ).fetchone()
            inbox = conn.execute("SELECT count(*) FROM inbox WHERE status != 'done'").fetchone()
        if row[0] and row[0] == row[1] and pending[0] == 0 and inbox[0] == 0:
            return True
        await asyncio.sleep(0.5)
    return False


def _figures(
    args: argparse.Namespace,
    world: SlackWorld,
    limiter: CountingLimiter,
    db_path: Path,
    flood_s: float,
    drained_s: float,
    done: bool,
    other_delays: list[float],
) -> dict[str, Any]:
    with contextlib.closing(inbox_file.open_sqlite(db_path)) as conn:
        flood_ids = {r[0] for r in conn.execute("SELECT id FROM alert WHERE channel = '#alerts'")}
        own = {r[0] for r in conn.execute("SELECT alert_id FROM slack_message")}
        storms = conn.execute("SELECT id, summary_channel_id, summary_ts FROM storm").fetchall()
        # the other channel's warnings: stored (inbox) -> opened (outbox row) -> in Slack
        other = conn.execute(
            "SELECT (julianday(o.created_at) - julianday(i.received_at)) * 86400,"
            " (julianday(o.done_at) - julianday(o.created_at)) * 86400"
            " FROM outbox o JOIN alert a ON a.id = o.alert_id"
            " JOIN inbox i ON i.id = (SELECT min(id) FROM inbox WHERE CAST(body AS TEXT) LIKE"
            " '%' || a.fingerprint || '\"%')"
            " WHERE a.channel = '#db-alerts' AND o.kind = 'post_warning'"
        ).fetchall()
    listed: list[int] = []
    for _, channel_id, ts in storms:
        if channel_id and ts:
            for message in world.thread(channel_id, ts)[1:]:
                listed += [int(i) for i in ALERT_ID.findall(json.dumps(message.blocks))]
    seen = (own & flood_ids) | set(listed)
    channel = world.find_channel("#alerts")
    channel_id = channel.id if channel else ""
    writes = world.write_log.writes(channel_id)
    all_writes = world.write_log.writes()
    after_burst = writes[3:]
    per_second = 0
    if after_burst:
        times = [w.at for w in after_burst]
        j = 0
        for i, t in enumerate(times):
            while t - times[j] >= 1.0:
                j += 1
            per_second = max(per_second, i - j + 1)
    alice = [
        m
        for c in world.channels.values()
        if c.is_im and c.user == "U0ALICE"
        for m in world.channel_messages(c.id)
    ]
    return {
        "alerts": args.alerts,
        "seconds": args.seconds,
        "flood_posted_s": round(flood_s, 1),
        "alerts_stored": len(flood_ids),
        "lost": len(flood_ids - seen),
        "listed_twice": len(listed) - len(set(listed)),
        "storms": len(storms),
        "own_warnings": len(own & flood_ids),
        "writes_alerts_channel": len(writes),
        "writes_all": len(all_writes),
        "ratio_channel": round(args.alerts / max(len(writes), 1), 1),
        "ratio_all": round(args.alerts / max(len(all_writes), 1), 1),
        "max_writes_per_second_after_burst": per_second,
        "http_429": sum(limiter.refused.values()),
        "http_429_alerts_channel": limiter.refused.get(channel_id, 0),
        "storm_pages_to_oncall": sum(1 for m in alice if "Storm in" in m.text),
        "dms_to_oncall": len(alice),
        "other_channel_delay_s": {
            "n": len(other_delays),
            "median": round(statistics.median(other_delays), 2) if other_delays else None,
            "max": round(max(other_delays), 2) if other_delays else None,
        },
        "other_channel_ingest_s": _spread([r[0] for r in other]),
        "other_channel_delivery_s": _spread([r[1] for r in other]),
        "all_listed_after_last_alert_s": round(drained_s, 1),
        "finished": done,
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
    }


def _spread(values: list[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "median": round(statistics.median(values), 2) if values else None,
        "max": round(max(values), 2) if values else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--per-body", type=int, default=50, help="alerts per webhook body")
    parser.add_argument("--calm", type=int, default=10, help="storm.calm_for in seconds")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    figures = asyncio.run(run(args))
    print(
        f"\n{figures['alerts']:,} alerts in {figures['seconds']:.0f}s to one channel "
        f"(posted in {figures['flood_posted_s']}s)\n"
        f"  lost                         {figures['lost']}\n"
        f"  Slack writes to #alerts      {figures['writes_alerts_channel']} "
        f"-> compression {figures['ratio_channel']}:1 (target >= {TARGET_RATIO:.0f}:1)\n"
        f"  Slack writes, all            {figures['writes_all']} -> {figures['ratio_all']}:1\n"
        f"  own warnings before storm    {figures['own_warnings']}\n"
        f"  max writes/s after burst     {figures['max_writes_per_second_after_burst']}\n"
        f"  429s answered (#alerts)      {figures['http_429']} "
        f"({figures['http_429_alerts_channel']})\n"
        f"  storm pages / DMs to on-call {figures['storm_pages_to_oncall']} / "
        f"{figures['dms_to_oncall']}\n"
        f"  other channel, webhook->Slack {figures['other_channel_delay_s']}\n"
        f"    of which inbox->opened     {figures['other_channel_ingest_s']}\n"
        f"    of which outbox->Slack     {figures['other_channel_delivery_s']}\n"
        f"  all listed after last alert  {figures['all_listed_after_last_alert_s']}s\n"
    )
    print(json.dumps(figures))
    if figures["lost"] or not figures["finished"]:
        sys.exit(2)
    if figures["ratio_channel"] < TARGET_RATIO:
        sys.exit(1)


if __name__ == "__main__":
    main()
