"""The processing side alone (component): how fast ``tocsin serve`` works off an inbox that
is already full, and at what CPU per alert — no webhook arrives while it does.

For each round, on a fresh SQLite database: the intake alone (``bench.ingest_server
--no-workers``) takes ``--alerts`` webhooks (single-alert generic bodies, or Alertmanager
bodies of 100 with ``--batch``) and stops; then ``tocsin serve`` starts on that database,
with its inbox worker, escalation engine and outbox sender, against the sandbox's fake Slack
at Slack's pace, and is timed until the inbox is empty. Its CPU is read from ``/proc`` then,
and again ``--after`` seconds later (the outbox folding pages into a storm and the storm's
writing go on for a moment after the last body).

    .venv/bin/python -m bench.worker_drain                 # 10,000 new alerts, 3 rounds
    .venv/bin/python -m bench.worker_drain --batch --rounds 1

This splits the whole service's figure (``bench.ingest_bench --mode worker``) into what the
intake costs and what the processing costs; the whole path is measured there and by
``bench.page_bench``, not here. Exit status 2 if a body was left unprocessed, else 0.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid

from bench.fake_slack import serving
from bench.ingest_bench import (
    SLACK_SECRET,
    SLACK_TOKEN,
    Inbox,
    batch_bodies,
    cpu_seconds,
    fresh_database,
    service,
    single_bodies,
    whole_services,
)
from bench.load_client import Phase, load_spread
from bot.sandbox import SlackWorld


async def one_round(alerts: int, *, batch: bool, after: float, drain: float) -> dict[str, float]:
    run = uuid.uuid4().hex[:8]
    world = SlackWorld()
    async with fresh_database("sqlite", "") as url:
        with service(url, workers=False) as (intake_url, _):
            if batch:
                bodies = batch_bodies(run, max(1, alerts // 100), 100)
                phase = Phase("fill", "alertmanager", bodies, 100, 600.0, 8)
            else:
                phase = Phase("fill", "generic", single_bodies(run, "drain", alerts), 1, 600.0, 64)
            await asyncio.to_thread(load_spread, [intake_url], phase)
        async with (
            serving(world, bot_token=SLACK_TOKEN, signing_secret=SLACK_SECRET) as slack_url,
            whole_services(url, count=1, slack_url=slack_url) as services,
            Inbox(url) as inbox,
        ):
            pid = services[0][1]
            start, cpu_start = time.monotonic(), cpu_seconds(pid)
            while True:  # the database is read every 0.1 s: the moment is known to 0.1 s
                backlog = (await inbox.counts(0))[0]
                if not backlog or time.monotonic() - start >= drain:
                    break
                await asyncio.sleep(0.1)
            end, cpu_end = time.monotonic(), cpu_seconds(pid)
            processed = (await inbox.counts(0))[1] * phase.alerts_per_body
            await asyncio.sleep(after)
            cpu_after = cpu_seconds(pid)
    return {
        "alerts": processed,
        "left": backlog * phase.alerts_per_body,
        "seconds": round(end - start, 2),
        "alerts_per_s": round(processed / (end - start), 1),
        "cpu_ms_per_alert": round((cpu_end - cpu_start) * 1000 / processed, 3),
        "cpu_ms_per_alert_after": round((cpu_after - cpu_end) * 1000 / processed, 3),
        "slack_writes": len(world.write_log.writes()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", action="store_true", help="Alertmanager bodies of 100")
    parser.add_argument("--after", type=float, default=3.0, help="s of CPU read after (3)")
    parser.add_argument("--drain", type=float, default=300.0, help="s to wait at most (300)")
    args = parser.parse_args()
    kind = "Alertmanager bodies of 100" if args.batch else "single-alert bodies"
    print(f"tocsin serve working off {args.alerts:,} new alerts ({kind}), SQLite")
    print(f"{'round':>5} {'alerts/s':>9} {'CPU ms/alert':>13} {'+ after':>8} {'writes':>7}")
    left = 0
    for n in range(1, args.rounds + 1):
        r = asyncio.run(
            one_round(args.alerts, batch=args.batch, after=args.after, drain=args.drain)
        )
        left += int(r["left"])
        print(
            f"{n:>5} {r['alerts_per_s']:>9,.0f} {r['cpu_ms_per_alert']:>13.3f}"
            f" {r['cpu_ms_per_alert_after']:>8.3f} {r['slack_writes']:>7.0f}",
            flush=True,
        )
    if left:
        print(f"{left:,} alerts were still in the inbox after {args.drain:g} s")
        sys.exit(2)


if __name__ == "__main__":
    main()
