"""Time-to-page benchmark: webhook answered → the on-call person's page DM, and → the warning
in the channel, measured from the outside.

Tocsin runs as real OS processes (``python -m bot serve``; one on SQLite, three on one
PostgreSQL database with the webhooks spread over them in turn, as behind a load balancer)
against the sandbox's fake Slack Web API, which this process serves with Slack's pace (one
write a second per conversation, bursts of 3, DMs included). The fake notes the moment every
message lands (``time.monotonic()``); nothing inside Tocsin is instrumented, so the figures
hold whatever the delivery and inbox internals become.

An alert's **page** is the first *new* message in the paged person's DM naming it (an edit
of an earlier DM notifies no one, so it does not count); its **warning** is the first message
or edit in its channel naming it (its own warning, or its line in a storm summary or group
listing). Each alert's title carries a marker (``pb-quiet-00007``) so it can be found.

Scenarios, each on a fresh database with fresh processes:

* ``quiet``: 20 level-1 alerts, one every 2 s, one webhook each → page and warning.
* ``trickle``: 2 level-1 alerts a second for 10 s into one channel → page p99 ≤ 1 s.
* ``group``: one Alertmanager notification of 1,000 alerts sharing a groupKey, then 5 s
  later an unrelated critical alert in the same channel → its page (≤ 3 s) and warning
  (≤ 5 s); the group's own page and warning are reported beside.
* ``storm``: 100 Alertmanager webhooks a second for 60 s (one alert each, its own groupKey)
  into ``#alerts``, and critical alerts at 20 s (``#alerts``) and 40 s (``#db-alerts``) →
  their pages (≤ 3 s) and warnings (≤ 5 s, a line in the storm summary counts).
* ``deadline``: 30 level-1 alerts over 10 s into one channel, tier 1 at once, tier 2 (another
  person) 20 s later, nobody acknowledging → tier-2 DM - its due time (the alert's
  ``fired_at`` + 20 s), p99 ≤ 1 s.

    .venv/bin/python -m bench.page_bench                        # all, SQLite and PostgreSQL x3
    .venv/bin/python -m bench.page_bench --quick                # smoke run, ~4-5 min
    .venv/bin/python -m bench.page_bench --db sqlite --scenario group --group-size 100

Every wait is bounded (``--timeout`` after the last webhook of a scenario): a page that never
came within it is printed as "not within N s" and counts as missed. Last a JSON line with
every figure. Exit status: 2 if Tocsin refused a webhook or died, 1 if a target was missed
(full runs only), else 0. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.fake_slack import free_port, serving
from bench.ingest_bench import fresh_database
from bench.page_timing import (
    Figure,
    FirstSeen,
    Landing,
    Spread,
    delay,
    figures_json,
    first_of,
    last_of,
    marker,
    markers_in,
)
from bench.workdir import policy_file
from bot.sandbox import SlackWorld
from bot.sandbox.workspace.models import JSON, Message
from bot.sandbox.workspace.ratelimit import ChannelRateLimiter
from config.environment import child_environment

BOT_TOKEN = "xoxb-page-bench"  # noqa: S105 - the fake Slack's throwaway token
SIGNING_SECRET = "page-bench-signing-secret"  # noqa: S105
WEBHOOK_TOKEN = "page-bench-webhook-token"  # noqa: S105
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
ONCALL, SECOND = "U0ALICE", "U0BOB"
ALERTS, DB_ALERTS = SlackWorld.channel_id_for("alerts"), SlackWorld.channel_id_for("db-alerts")
SCENARIOS = ("quiet", "trickle", "group", "storm", "deadline")
# targets of issue 14 (seconds)
PAGE_ALONE, PAGE_BUSY, WARNING_BUSY, TIER_LATE = 1.0, 3.0, 5.0, 1.0

POLICY = """
levels:
  1: {name: critical, emoji: ":red_circle:"}
  2: {name: major, emoji: ":large_orange_circle:"}
  3: {name: minor, emoji: ":large_blue_circle:"}
integrations:
  - {name: generic, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}"}
  - {name: alertmanager, format: alertmanager, token: "${TOCSIN_WEBHOOK_TOKEN}"}
grading:
  - {match: {severity: [critical]}, level: 1}
  - {match: {severity: [major]}, level: 2}
  - {match: {severity: [warning]}, level: 3}
routes:
  - {match: {team: db}, team: db, channel: "#db-alerts", policy: oncall}
default_route: {team: ops, channel: "#alerts", policy: oncall}
people:
  U0ALICE: {name: Alice}
  U0BOB: {name: Bob}
grouping: {window: 5m}   # alerts sharing the source's group key (Alertmanager's groupKey)
policies:
  oncall:
    tiers:
      - {notify: [{user: U0ALICE}], after: 0m}
%(tier2)s"""
TIER2 = "      - {notify: [{user: U0BOB}], after: %ds}\n"


@dataclass(frozen=True)
class Sizes:
    quiet_alerts: int = 20
    quiet_every: float = 2.0
    trickle_alerts: int = 20
    trickle_every: float = 0.5
    group_size: int = 1000
    group_gap: float = 5.0
    storm_rate: float = 100.0
    storm_seconds: float = 60.0
    deadline_alerts: int = 30
    deadline_over: float = 10.0
    tier2_after: int = 20
    timeout: float = 120.0
    """Seconds to wait for deliveries after a scenario's last webhook (or its last due time)."""


QUICK = Sizes(
    quiet_alerts=4,
    quiet_every=2.0,
    trickle_alerts=10,
    trickle_every=0.5,
    group_size=200,
    group_gap=5.0,
    storm_rate=30.0,
    storm_seconds=12.0,
    deadline_alerts=15,
    deadline_over=5.0,
    tier2_after=8,
    timeout=6.0,
)

_started = time.monotonic()


def say(db: str, scenario: str, text: str) -> None:
    print(f"[{time.monotonic() - _started:6.1f}s] {db:8} {scenario:9} {text}", flush=True)


# --- the fake Slack, noting when each message lands ---------------------------------------


class CountingLimiter(ChannelRateLimiter):
    """Slack's pace (1 write/s per conversation, bursts of 3), counting what it refuses."""

    def __init__(self) -> None:
        super().__init__(rate=1.0, burst=3, clock=time.monotonic)
        self.refused = 0

    def try_acquire(self, channel: str) -> int | None:
        wait = super().try_acquire(channel)
        self.refused += wait is not None
        return wait


class RecordingWorld(SlackWorld):
    """The sandbox's workspace, noting every bot message and edit as it lands."""

    def __init__(self, *, public_url: str) -> None:
        super().__init__(public_url=public_url)
        self.limiter = self.counting = CountingLimiter()
        self.seen = FirstSeen()

    def _note(self, message: Message, *, new: bool) -> None:
        if message.bot_id is None:
            return
        channel = self.channels.get(message.channel)
        dm_user = channel.user if channel is not None and channel.is_im else None
        names = markers_in(message.text, message.blocks, message.attachments)
        if names:
            self.seen.add(
                Landing(time.monotonic(), time.time(), message.channel, dm_user, new, names)
            )

    def post_message(self, channel_id: str, **kwargs: Any) -> Message:
        message = super().post_message(channel_id, **kwargs)
        self._note(message, new=True)
        return message

    def update_message(self, channel_id: str, ts: str, **kwargs: Any) -> Message:
        message = super().update_message(channel_id, ts, **kwargs)
        self._note(message, new=False)
        return message


@contextlib.asynccontextmanager
async def fake_slack() -> AsyncIterator[tuple[RecordingWorld, str]]:
    world = RecordingWorld(public_url="http://127.0.0.1:9")
    async with serving(world, bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET) as url:
        yield world, url


# --- Tocsin processes ------------------------------------------------------------------------


class Died(RuntimeError):
    """A Tocsin process ended during a scenario, or refused a webhook."""


@dataclass
class Instance:
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""


@contextlib.asynccontextmanager
async def tocsin(
    count: int, *, database_url: str, slack_url: str, workdir: Path, policy: str
) -> AsyncIterator[list[Instance]]:
    """``count`` ``tocsin serve`` processes on one database; the first migrates it alone."""
    policy_path = policy_file(workdir, policy)
    instances = [Instance(free_port(), workdir / f"tocsin-{n}.log") for n in range(count)]
    env = child_environment(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "TOCSIN_SLACK_API_URL": f"{slack_url}/api/",
            "TOCSIN_DATABASE_URL": database_url,
            "TOCSIN_CONFIG": str(policy_path),
            "TOCSIN_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
            "TOCSIN_LOG_FORMAT": "json",
        },
        clean=True,
    )

    async def start(instance: Instance) -> None:
        with instance.log.open("ab") as out:
            instance.process = subprocess.Popen(  # noqa: ASYNC220 - returns at once
                [sys.executable, "-m", "bot", "serve"],
                env={**env, "TOCSIN_PORT": str(instance.port)},
                stdout=out,
                stderr=out,
            )
        async with httpx.AsyncClient(timeout=2) as http:
            deadline = time.monotonic() + 90
            while True:
                if instance.process.poll() is not None:
                    raise Died(f"tocsin exited during start-up:\n{instance.tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{instance.url}/readyz")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise Died(f"tocsin not ready in 90 s:\n{instance.tail()}")
                await asyncio.sleep(0.05)

    try:
        await start(instances[0])
        await asyncio.gather(*(start(i) for i in instances[1:]))
        yield instances
    finally:
        for instance in instances:
            if instance.process is not None and instance.process.poll() is None:
                instance.process.send_signal(signal.SIGTERM)
        for instance in instances:
            if instance.process is None:
                continue
            try:
                await asyncio.to_thread(instance.process.wait, 20)
            except subprocess.TimeoutExpired:
                instance.process.kill()
                await asyncio.to_thread(instance.process.wait, 10)


# --- one scenario's run -------------------------------------------------------------------------


@dataclass
class Run:
    db: str
    scenario: str
    sizes: Sizes
    world: RecordingWorld
    instances: list[Instance]
    http: httpx.AsyncClient
    database_url: str
    refused: int = 0
    turn: itertools.cycle[Instance] = field(init=False)

    def __post_init__(self) -> None:
        self.turn = itertools.cycle(self.instances)

    @property
    def seen(self) -> FirstSeen:
        return self.world.seen

    def say(self, text: str) -> None:
        say(self.db, self.scenario, text)

    def check_alive(self) -> None:
        for instance in self.instances:
            if instance.process is not None and instance.process.poll() is not None:
                raise Died(f"tocsin exited with {instance.process.returncode}:\n{instance.tail()}")

    async def post(self, integration: str, body: JSON) -> float:
        """POST a webhook to the next instance; the moment its 2xx arrived (monotonic)."""
        instance = next(self.turn)
        response = await self.http.post(
            f"{instance.url}/webhooks/{integration}",
            content=json.dumps(body).encode(),
            headers={
                "Authorization": f"Bearer {WEBHOOK_TOKEN}",
                "Content-Type": "application/json",
            },
        )
        at = time.monotonic()
        if not response.is_success:
            self.refused += 1
            raise Died(f"webhook answered {response.status_code}: {response.text[:200]}")
        return at

    async def wait(self, done: Callable[[], bool], *, until: float, what: str) -> float:
        """Wait until ``done()`` or the monotonic time ``until``; when the wait ended."""
        start = time.monotonic()
        last_print = start
        while not done() and time.monotonic() < until:
            self.check_alive()
            await asyncio.sleep(0.1)
            if time.monotonic() - last_print >= 10:
                last_print = time.monotonic()
                self.say(f"… still waiting for {what} ({until - last_print:.0f} s left)")
        waited = time.monotonic() - start
        self.say(f"{what}: {'all in' if done() else 'NOT all in'} after {waited:.1f} s")
        return time.monotonic()


@dataclass
class Sent:
    name: str
    at: float
    channel: str = ALERTS


@dataclass
class Outcome:
    figures: dict[str, Figure] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)


def generic_alert(name: str, n: int, *, level: int = 1, team: str = "ops") -> JSON:
    return {
        "title": f"{name} checkout down on web-{n}",
        "level": level,
        "fingerprint": name,
        "labels": {"team": team, "service": "checkout", "host": f"web-{n}"},
    }


def am_alert(name: str, *, severity: str, alertname: str, team: str = "ops") -> JSON:
    return {
        "status": "firing",
        "labels": {"alertname": alertname, "severity": severity, "team": team, "id": name},
        "annotations": {"summary": f"{name} {alertname} on {team}"},
        "startsAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.invalid/graph",
        "fingerprint": name,
    }


def am_notification(group_key: str, alerts: list[JSON]) -> JSON:
    return {
        "version": "4",
        "status": "firing",
        "receiver": "tocsin",
        "groupKey": group_key,
        "truncatedAlerts": 0,
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.invalid",
        "alerts": alerts,
    }


async def paced(
    run: Run, count: int, every: float, make: Callable[[int], tuple[str, JSON]]
) -> list[Sent]:
    """``count`` generic webhooks, one every ``every`` s on schedule (not after the answer)."""
    start = time.monotonic()

    async def one(n: int) -> Sent:
        await asyncio.sleep(max(0.0, start + n * every - time.monotonic()))
        name, body = make(n)
        return Sent(name, await run.post("generic", body))

    return list(await asyncio.gather(*(one(n) for n in range(count))))


def page_and_warning(run: Run, sent: Sequence[Sent], user: str = ONCALL) -> Callable[[], bool]:
    def done() -> bool:
        return all(
            run.seen.page(user, s.name) is not None
            and run.seen.warning(s.channel, s.name) is not None
            for s in sent
        )

    return done


def given(sent: Sequence[Sent], end: float, *, after: float = 0.0) -> float:
    """How long every one of ``sent`` was waited for (from its 2xx, plus ``after``): what
    "not within N s" says of a delivery that never came."""
    return end - max(s.at for s in sent) - after


def spread_pages(run: Run, sent: Sequence[Sent], end: float, user: str = ONCALL) -> Spread:
    return Spread.of(
        [delay(s.at, run.seen.page(user, s.name)) for s in sent], waited=given(sent, end)
    )


def spread_warnings(run: Run, sent: Sequence[Sent], end: float) -> Spread:
    return Spread.of(
        [delay(s.at, run.seen.warning(s.channel, s.name)) for s in sent], waited=given(sent, end)
    )


def paged_by_edit_only(run: Run, sent: Sequence[Sent], user: str = ONCALL) -> int:
    """Alerts that reached the person only as an edit of an earlier DM (a storm page)."""
    return sum(
        1 for s in sent if run.seen.page(user, s.name) is None and (user, s.name) in run.seen.dm_any
    )


async def scenario_alerts(run: Run, count: int, every: float, target: float | None) -> Outcome:
    """quiet and trickle: level-1 alerts on a schedule, one webhook each."""
    tag = run.scenario

    def make(n: int) -> tuple[str, JSON]:
        name = marker(tag, n)
        return name, generic_alert(name, n)

    run.say(f"posting {count} level-1 alerts, one every {every:g} s")
    sent = await paced(run, count, every, make)
    end = await run.wait(
        page_and_warning(run, sent),
        until=time.monotonic() + run.sizes.timeout,
        what="pages and warnings",
    )
    out = Outcome()
    out.figures["page"] = Figure("webhook → page DM", spread_pages(run, sent, end), target=target)
    out.figures["warning"] = Figure(
        "webhook → warning in the channel", spread_warnings(run, sent, end)
    )
    out.info["paged_by_edit_only"] = paged_by_edit_only(run, sent)
    return out


async def scenario_group(run: Run) -> Outcome:
    size, gap = run.sizes.group_size, run.sizes.group_gap
    members = [marker("group", n) for n in range(size)]
    body = am_notification(
        '{}:{alertname="NodeDown",pool="bench"}',
        [am_alert(m, severity="warning", alertname="NodeDown") for m in members],
    )
    run.say(f"posting one Alertmanager notification of {size:,} alerts (one groupKey)")
    group_at = await run.post("alertmanager", body)
    run.say(f"answered; the critical alert follows {gap:g} s later")
    await asyncio.sleep(max(0.0, group_at + gap - time.monotonic()))
    crit = Sent(marker("crit", 0), 0.0)
    crit.at = await run.post(
        "alertmanager",
        am_notification(
            '{}:{alertname="PaymentsDown"}',
            [am_alert(crit.name, severity="critical", alertname="PaymentsDown")],
        ),
    )

    def group_page() -> Landing | None:
        return first_of(run.seen.page(ONCALL, m) for m in members)

    def group_warning() -> Landing | None:
        return first_of(run.seen.warning(ALERTS, m) for m in members)

    def done() -> bool:
        return (
            page_and_warning(run, [crit])()
            and group_page() is not None
            and group_warning() is not None
        )

    end = await run.wait(
        done, until=crit.at + run.sizes.timeout, what="the critical and the group's page/warning"
    )
    group_wait = end - group_at
    out = Outcome()
    out.figures["crit_page"] = Figure(
        "critical after the group: webhook → page DM",
        spread_pages(run, [crit], end),
        target=PAGE_BUSY,
    )
    out.figures["crit_warning"] = Figure(
        "critical after the group: webhook → warning",
        spread_warnings(run, [crit], end),
        target=WARNING_BUSY,
    )
    out.figures["group_page"] = Figure(
        f"group of {size:,}: webhook → its page DM",
        Spread.of([delay(group_at, group_page())], waited=group_wait),
    )
    out.figures["group_warning"] = Figure(
        f"group of {size:,}: webhook → its warning",
        Spread.of([delay(group_at, group_warning())], waited=group_wait),
    )
    listed = [run.seen.warning(ALERTS, m) for m in members]
    out.figures["group_all_listed"] = Figure(
        f"group of {size:,}: webhook → every member named",
        Spread.of([delay(group_at, last_of(listed))], waited=group_wait),
    )
    out.info["group_members_named"] = sum(1 for x in listed if x is not None)
    out.info["group_size"] = size
    out.info["crit_paged_by_edit_only"] = paged_by_edit_only(run, [crit])
    return out


async def scenario_storm(run: Run) -> Outcome:
    rate, seconds = run.sizes.storm_rate, run.sizes.storm_seconds
    total = int(rate * seconds)
    crits = [
        Sent(marker("crit", 0), 0.0, ALERTS),
        Sent(marker("crit", 1), 0.0, DB_ALERTS),
    ]
    crit_at = {round(total / 3): crits[0], round(2 * total / 3): crits[1]}
    answers: list[float] = []
    run.say(
        f"posting {total:,} Alertmanager webhooks ({rate:g}/s for {seconds:g} s, one alert "
        f"each), critical alerts at {seconds / 3:g} s (#alerts) and {2 * seconds / 3:g} s "
        "(#db-alerts)"
    )
    start = time.monotonic()

    async def filler(n: int) -> None:
        name = marker("storm", n)
        severity = "major" if n % 40 == 3 else "warning"
        alertname = ("DiskFull", "HighLatency", "ErrorRate", "QueueBacklog")[n % 4]
        body = am_notification(
            f'{{}}:{{alertname="{alertname}",instance="{name}"}}',
            [am_alert(name, severity=severity, alertname=alertname)],
        )
        sent_at = time.monotonic()
        try:
            answers.append(await run.post("alertmanager", body) - sent_at)
        except Died:
            pass  # a refusal, counted by post(); the exit status says so
        except httpx.HTTPError:
            run.refused += 1

    async def critical(sent: Sent) -> None:
        team = "db" if sent.channel == DB_ALERTS else "ops"
        body = am_notification(
            f'{{}}:{{alertname="ServiceDown",team="{team}"}}',
            [am_alert(sent.name, severity="critical", alertname="ServiceDown", team=team)],
        )
        sent.at = await run.post("alertmanager", body)
        run.say(f"critical alert {sent.name} posted (to {team})")

    tasks: list[asyncio.Task[None]] = []
    for n in range(total):
        await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
        tasks.append(asyncio.create_task(filler(n)))
        if n in crit_at:
            tasks.append(asyncio.create_task(critical(crit_at[n])))
        if n and n % int(rate * 10) == 0:
            run.check_alive()
            run.say(f"{n:,} webhooks posted")
    await asyncio.gather(*tasks)
    posted_in = time.monotonic() - start
    run.say(f"all {total:,} posted in {posted_in:.1f} s")
    end = await run.wait(
        page_and_warning(run, crits),
        until=time.monotonic() + run.sizes.timeout,
        what="the critical alerts' pages and warnings",
    )
    out = Outcome()
    out.figures["crit_page"] = Figure(
        "critical during the storm: webhook → page DM",
        spread_pages(run, crits, end),
        target=PAGE_BUSY,
    )
    out.figures["crit_warning"] = Figure(
        "critical during the storm: webhook → warning",
        spread_warnings(run, crits, end),
        target=WARNING_BUSY,
    )
    for c, label in zip(crits, ("alerts", "db_alerts"), strict=True):
        out.figures[f"crit_page_{label}"] = Figure(
            f"  … the one in #{label.replace('_', '-')}: page DM",
            spread_pages(run, [c], end),
        )
        out.figures[f"crit_warning_{label}"] = Figure(
            f"  … the one in #{label.replace('_', '-')}: warning",
            spread_warnings(run, [c], end),
        )
    out.figures["storm_webhook_answer"] = Figure(
        "storm webhooks: POST → 2xx", Spread.of(list(answers), waited=0.0)
    )
    named = sum(1 for n in range(total) if run.seen.warning(ALERTS, marker("storm", n)))
    out.info |= {
        "storm_webhooks": total,
        "posted_in_s": round(posted_in, 1),
        "storm_alerts_named_in_channel_at_end": named,
        "crit_paged_by_edit_only": paged_by_edit_only(run, crits),
    }
    return out


async def scenario_deadline(run: Run) -> Outcome:
    count, over, after = run.sizes.deadline_alerts, run.sizes.deadline_over, run.sizes.tier2_after
    every = over / count

    def make(n: int) -> tuple[str, JSON]:
        name = marker("deadline", n)
        return name, generic_alert(name, n)

    run.say(
        f"posting {count} level-1 alerts over {over:g} s; tier 2 ({SECOND}) {after} s after "
        "tier 1, nobody acknowledges"
    )
    sent = await paced(run, count, every, make)

    def done() -> bool:
        return all(run.seen.page(SECOND, s.name) is not None for s in sent)

    end = await run.wait(done, until=sent[-1].at + after + run.sizes.timeout, what="tier-2 DMs")
    fired = await fired_at(run.database_url, [s.name for s in sent])

    def lateness(s: Sent) -> float | None:
        page = run.seen.page(SECOND, s.name)
        if page is None or s.name not in fired:
            return None
        return page.wall - (fired[s.name] + after)

    out = Outcome()
    out.figures["tier2_late"] = Figure(
        "tier-2 DM - its due time (fired_at + delay)",
        Spread.of([lateness(s) for s in sent], waited=given(sent, end, after=after)),
        target=TIER_LATE,
    )
    out.figures["tier2_from_webhook"] = Figure(
        f"tier-2 DM - (webhook 2xx + {after} s)",
        Spread.of(
            [delay(s.at + after, run.seen.page(SECOND, s.name)) for s in sent],
            waited=given(sent, end, after=after),
        ),
    )
    out.figures["tier1_page"] = Figure("tier-1: webhook → page DM", spread_pages(run, sent, end))
    out.figures["warning"] = Figure(
        "webhook → warning in the channel", spread_warnings(run, sent, end)
    )
    out.info["fired_at_read"] = len(fired)
    out.info["tier1_paged_by_edit_only"] = paged_by_edit_only(run, sent)
    out.info["tier2_paged_by_edit_only"] = paged_by_edit_only(run, sent, SECOND)
    return out


async def fired_at(database_url: str, names: list[str]) -> dict[str, float]:
    """The ``fired_at`` of each alert (by its marker, the fingerprint sent), as epoch seconds.
    The only look inside Tocsin: when the escalation's clock started for the alert."""
    query = "SELECT fingerprint, fired_at FROM alert"
    rows: list[tuple[str, Any]]
    with contextlib.suppress(Exception):
        if database_url.startswith("sqlite:///"):
            path = database_url.removeprefix("sqlite:///")
            with contextlib.closing(sqlite3.connect(path)) as conn:
                rows = conn.execute(query).fetchall()
        else:
            conn2 = await asyncpg.connect(database_url)
            try:
                rows = [(r[0], r[1]) for r in await conn2.fetch(query)]
            finally:
                await conn2.close()
        wanted = set(names)
        return {str(fp): _epoch(at) for fp, at in rows if fp in wanted}
    return {}


def _epoch(value: Any) -> float:
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


# --- a database's run of the scenarios -------------------------------------------------


async def run_scenario(
    db: str, scenario: str, sizes: Sizes, instances: int, postgres_url: str
) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"tocsin-page-bench-{scenario}-"))
    tier2 = TIER2 % sizes.tier2_after if scenario == "deadline" else ""
    count = 1 if db == "sqlite" else instances
    load_before = os.getloadavg()
    say(db, scenario, f"fresh database, {count} tocsin process{'es' if count > 1 else ''}")
    async with (
        fresh_database(db, postgres_url) as url,
        fake_slack() as (world, slack_url),
        tocsin(
            count,
            database_url=url,
            slack_url=slack_url,
            workdir=workdir,
            policy=POLICY % {"tier2": tier2},
        ) as procs,
        httpx.AsyncClient(
            timeout=60, limits=httpx.Limits(max_connections=256, max_keepalive_connections=64)
        ) as http,
    ):
        run = Run(db, scenario, sizes, world, procs, http, url)
        say(db, scenario, "tocsin ready")
        runners: dict[str, Callable[[], Awaitable[Outcome]]] = {
            "quiet": lambda: scenario_alerts(
                run, sizes.quiet_alerts, sizes.quiet_every, PAGE_ALONE
            ),
            "trickle": lambda: scenario_alerts(
                run, sizes.trickle_alerts, sizes.trickle_every, PAGE_ALONE
            ),
            "group": lambda: scenario_group(run),
            "storm": lambda: scenario_storm(run),
            "deadline": lambda: scenario_deadline(run),
        }
        outcome = await runners[scenario]()
        writes = len(world.write_log.writes())
        say(db, scenario, "stopping tocsin")
    shutil.rmtree(workdir, ignore_errors=True)  # kept (with the logs) when a run fails
    load_after = os.getloadavg()
    return {
        "db": db,
        "instances": count,
        "scenario": scenario,
        "figures": outcome.figures,
        "info": outcome.info
        | {
            "slack_writes": writes,
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in load_after],
            "slack_429s": world.counting.refused,
            "webhooks_refused": run.refused,
        },
    }


async def run_all(
    kinds: list[str], scenarios: list[str], sizes: Sizes, instances: int, postgres_url: str
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for db in kinds:
        for scenario in scenarios:
            try:
                results.append(await run_scenario(db, scenario, sizes, instances, postgres_url))
            except (Died, httpx.HTTPError, OSError) as exc:
                say(db, scenario, f"FAILED: {exc!r}")
                results.append({"db": db, "scenario": scenario, "error": str(exc)})
    return results


# --- report ---------------------------------------------------------------------------------


def print_table(results: list[dict[str, Any]], *, quick: bool) -> bool:
    """The table; whether any target was missed."""
    missed = False
    print()
    print(
        "Time to page — webhook 2xx → page DM (a new message) / → warning in the channel"
        + (" (--quick: smoke sizes; the targets are for the full run)" if quick else "")
    )
    width = 50
    head = f"{'figure':<{width}} {'p50':>16} {'p99':>16} {'max':>16} {'never':>8}   target"
    for result in results:
        name = f"{result['db']}" + (
            f" x{result['instances']}" if result.get("instances", 1) > 1 else ""
        )
        print()
        print(f"== {result['scenario']} on {name}")
        if "error" in result:
            print(f"   failed: {result['error'].splitlines()[0]}")
            missed = True
            continue
        print(head)
        for figure in result["figures"].values():
            missed = missed or figure.met() is False
            spread = figure.spread
            cells = "".join(f" {spread.cell(v):>16}" for v in (spread.p50, spread.p99, spread.max))
            never = f"{spread.missing}/{spread.n}" if spread.missing else ""
            print(f"{figure.label:<{width}}{cells} {never:>8}   {figure.verdict()}")
        info = {k: v for k, v in result["info"].items() if k not in ("load_before", "load_after")}
        print("   " + ", ".join(f"{k}: {v}" for k, v in info.items()))
    return missed


def machine(load_before: tuple[float, float, float]) -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as info:
        names = (ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name"))
        model = next(names, "")
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": sys.version.split()[0],
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.page_bench", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--scenario", action="append", choices=SCENARIOS, help="repeatable; default: all"
    )
    parser.add_argument("--quick", action="store_true", help="smoke sizes (~4-5 min in all)")
    parser.add_argument("--instances", type=int, default=3, help="PostgreSQL processes (3)")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--timeout", type=float, help="s to wait after a scenario's last webhook")
    parser.add_argument("--quiet-alerts", type=int)
    parser.add_argument("--trickle-alerts", type=int)
    parser.add_argument("--group-size", type=int)
    parser.add_argument("--storm-rate", type=float, help="webhooks/s")
    parser.add_argument("--seconds", dest="storm_seconds", type=float, help="storm length")
    parser.add_argument("--deadline-alerts", type=int)
    parser.add_argument("--tier2-after", type=int, help="s between tier 1 and tier 2")
    return parser.parse_args(argv)


def sizes_of(args: argparse.Namespace) -> Sizes:
    sizes = QUICK if args.quick else Sizes()
    overrides = {
        key: getattr(args, key)
        for key in (
            "timeout",
            "quiet_alerts",
            "trickle_alerts",
            "group_size",
            "storm_rate",
            "storm_seconds",
            "deadline_alerts",
            "tier2_after",
        )
        if getattr(args, key) is not None
    }
    return replace(sizes, **overrides)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    sizes = sizes_of(args)
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    scenarios = args.scenario or list(SCENARIOS)
    load_before = os.getloadavg()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}", flush=True)
    results = asyncio.run(run_all(kinds, scenarios, sizes, args.instances, args.postgres_url))
    missed = print_table(results, quick=args.quick)
    about = machine(load_before)
    print()
    print(
        f"machine: {about['cpus']} CPUs ({about['cpu_model'] or 'unknown'}), load average "
        f"{about['load_before']} before, {about['load_after']} after"
    )
    broken = any("error" in r or r["info"].get("webhooks_refused") for r in results)
    for result in results:
        if "figures" in result:
            result["figures"] = figures_json(result["figures"])
    print(
        json.dumps(
            {
                "sizes": asdict(sizes),
                "quick": args.quick,
                "machine": about,
                "results": results,
                "targets_met": not missed,
            }
        )
    )
    return 2 if broken else 1 if missed and not args.quick else 0


if __name__ == "__main__":
    sys.exit(main())
