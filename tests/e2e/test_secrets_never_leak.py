"""Secrets never appear in what Tocsin shows or writes. The service runs as a process with
known secret values — the Slack bot token and signing secret, the webhook token, an outbound
webhook's token, HMAC secret and a key in its URL, the database password — and is driven
through many paths, failing ones included; then every output is searched for them: the log
stream, every HTTP answer (webhooks, Slack endpoint, health, metrics, the OpenAPI document and
every GET path it lists, pages that do not exist), the messages the fake Slack received, and
the CLI (report, export, check-config, a failed start)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bot.sandbox import SandboxDriver, SlackWorld, build_sandbox_app
from bot.slack import ids
from config.environment import child_environment
from tests.support.databases import database, postgres_url
from tests.support.process import serve_process
from tests.support.secrets import SECRETS, leaks
from tests.support.servers import free_port, serving

pytestmark = pytest.mark.e2e

POLICY = """
levels:
  1: {name: critical}
  2: {name: major}
  3: {name: minor}
integrations:
  - {name: generic, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}"}
  - {name: alertmanager, format: alertmanager, token: "${TOCSIN_WEBHOOK_TOKEN}"}
default_route: {team: ops, channel: "#alerts", policy: default}
teams:
  ops: {members: [U0ALICE, U0BOB]}
policies:
  default:
    tiers:
      - {notify: [{user: U0ALICE}, {webhook: pager}], after: 0m}
rotations:
  ops-primary: {members: [U0ALICE, U0BOB], start: 2026-01-05}
webhooks:
  pager:
    url: "http://127.0.0.1:1/hook?key=${OUTBOUND_URL_KEY}"
    token: "${OUTBOUND_TOKEN}"
    hmac_secret: "${OUTBOUND_HMAC}"
    timeout: 1s
"""


class Outputs:
    """Everything the service said, by where it was seen."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def add(self, where: str, text: str) -> None:
        self.seen[where] = self.seen.get(where, "") + text

    def response(self, where: str, response: httpx.Response) -> httpx.Response:
        self.add(where, f"{response.status_code} {dict(response.headers)} {response.text}")
        return response


def env_for(tmp_path: Path, database_url: str) -> dict[str, str]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    return {
        "SLACK_BOT_TOKEN": SECRETS["SLACK_BOT_TOKEN"],
        "SLACK_SIGNING_SECRET": SECRETS["SLACK_SIGNING_SECRET"],
        "TOCSIN_WEBHOOK_TOKEN": SECRETS["TOCSIN_WEBHOOK_TOKEN"],
        "TOCSIN_REVIEW_TOKEN": SECRETS["TOCSIN_REVIEW_TOKEN"],
        "OUTBOUND_TOKEN": SECRETS["OUTBOUND_TOKEN"],
        "OUTBOUND_HMAC": SECRETS["OUTBOUND_HMAC"],
        "OUTBOUND_URL_KEY": SECRETS["OUTBOUND_URL_KEY"],
        "TOCSIN_CONFIG": str(policy),
        "TOCSIN_DATABASE_URL": database_url,
        "TOCSIN_LOG_LEVEL": "DEBUG",
        "TOCSIN_ACCESS_LOG": "true",  # request targets are logged, query values redacted
    }


def with_password(url: str) -> str:
    """A PostgreSQL URL with the known password in it (trust auth accepts any); SQLite has
    none to leak."""
    if not url.startswith("postgres"):
        return url
    scheme, _, rest = url.partition("://")
    userinfo, _, host = rest.rpartition("@")
    user = userinfo.split(":")[0] or "postgres"
    return f"{scheme}://{user}:{SECRETS['DB_PASSWORD']}@{host or rest}"


def cli(args: list[str], env: dict[str, str], cwd: Path) -> str:
    clean = child_environment({}, clean=True)
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"


async def test_no_secret_appears_in_any_output(tmp_path: Path) -> None:
    out = Outputs()
    slack_port = free_port()
    slack_url = f"http://127.0.0.1:{slack_port}"
    world = SlackWorld(public_url=slack_url)
    kind = "postgres" if postgres_url() else "sqlite"
    async with database(kind, tmp_path) as url:
        await run_and_collect(tmp_path, out, world, slack_port, with_password(url))
    found = {where: leaks(text) for where, text in out.seen.items()}
    assert {where: names for where, names in found.items() if names} == {}


async def run_and_collect(
    tmp_path: Path, out: Outputs, world: SlackWorld, slack_port: int, database_url: str
) -> None:
    slack_url = f"http://127.0.0.1:{slack_port}"
    env = env_for(tmp_path, database_url)
    env["TOCSIN_SLACK_API_URL"] = f"{slack_url}/api/"
    token = SECRETS["TOCSIN_WEBHOOK_TOKEN"]
    auth = {"Authorization": f"Bearer {token}"}

    async with serving(
        build_sandbox_app(
            world,
            bot_token=SECRETS["SLACK_BOT_TOKEN"],
            signing_secret=SECRETS["SLACK_SIGNING_SECRET"],
            events_url="http://unused",
            public_url=slack_url,
        ),
        slack_port,
    ):
        server = serve_process(tmp_path, **env)
        base, log = await asyncio.to_thread(server.__enter__)
        try:
            driver = SandboxDriver(
                world,
                signing_secret=SECRETS["SLACK_SIGNING_SECRET"],
                events_url=f"{base}/slack/events",
            )
            async with httpx.AsyncClient(base_url=base, timeout=10) as http:
                await drive(http, driver, world, out, auth=auth, token=token)
                feed_token = await read_calendar_feed(http, out, env, tmp_path)
                await wait_for_log(log, "outbound")
        finally:
            await asyncio.to_thread(server.__exit__, None, None, None)
        out.add("service log", await asyncio.to_thread(log.read_text))
        assert "/calendar/rotations/ops-primary.ics?token=[redacted]" in out.seen["service log"]
        assert feed_token not in out.seen["service log"]
        for (channel, ts), message in world.messages.items():
            out.add(f"slack message {channel}/{ts}", message.text + json.dumps(message.blocks))
        for ephemeral in world.ephemerals:
            out.add("slack ephemeral", ephemeral.text + json.dumps(ephemeral.blocks))

    for args in (
        ["report"],
        ["report", "--format", "json"],
        ["export"],
        ["export", "--format", "csv"],
        ["check-config"],
    ):
        out.add(f"cli {' '.join(args)}", await asyncio.to_thread(cli, args, env, tmp_path))
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        POLICY.replace('hmac_secret: "${OUTBOUND_HMAC}"', 'hmac_secret: ["${OUTBOUND_HMAC}"]')
        .replace('token: "${OUTBOUND_TOKEN}"', 'token: {value: "${OUTBOUND_TOKEN}"}')
        .replace('url: "http://127.0.0.1:1/hook', 'url: "ftp://127.0.0.1:1/hook')
    )
    out.add(
        "cli check-config broken",
        await asyncio.to_thread(cli, ["check-config", str(broken)], env, tmp_path),
    )
    unreachable = {
        **env,
        "TOCSIN_DATABASE_URL": f"postgresql://tocsin:{SECRETS['DB_PASSWORD']}@127.0.0.1:1/tocsin",
        "TOCSIN_PORT": str(free_port()),
    }
    failed = await asyncio.to_thread(cli, ["serve"], unreachable, tmp_path)
    assert not failed.startswith("exit 0")
    out.add("failed start", failed)

    assert "outbound" in out.seen["service log"]  # the outbound page failed, and was logged
    assert len(out.seen) >= 20


async def drive(
    http: httpx.AsyncClient,
    driver: SandboxDriver,
    world: SlackWorld,
    out: Outputs,
    *,
    auth: dict[str, str],
    token: str,
) -> None:
    r = out.response
    r("webhook ok", await http.post("/webhooks/generic", json={"title": "Disk full"}, headers=auth))
    r(
        "webhook query token",
        await http.post(f"/webhooks/generic?token={token}", json={"title": "q"}),
    )
    r(
        "webhook near-miss token",
        await http.post(
            "/webhooks/generic", json={"title": "x"}, headers={"Authorization": f"Bearer {token}x"}
        ),
    )
    r("webhook unknown", await http.post(f"/webhooks/nope?token={token}", json={}))
    r(
        "webhook bad body",
        await http.post("/webhooks/generic", content=b'{"a":1,"a":2}', headers=auth),
    )
    r(
        "webhook bad shape",
        await http.post("/webhooks/alertmanager", json={"alerts": 1}, headers=auth),
    )
    r(
        "webhook content type",
        await http.post(
            "/webhooks/generic", content=b"x", headers={**auth, "Content-Type": "text/xml"}
        ),
    )
    deadline = time.monotonic() + 20
    while not any(m.thread_ts is None for m in world.messages.values()):
        assert time.monotonic() < deadline, "no warning arrived in the fake Slack"
        await asyncio.sleep(0.05)
    warning = next(m for m in world.messages.values() if m.thread_ts is None and "Disk" in m.text)
    r(
        "slack press",
        await driver.press_button(
            channel=warning.channel, ts=warning.ts, action_id=ids.ACKNOWLEDGE, user="U0ALICE"
        ),
    )
    r(
        "slack outsider",
        await driver.press_button(
            channel=warning.channel, ts=warning.ts, action_id=ids.CLAIM, user="U0DAVE"
        ),
    )
    r("slack command", await driver.slash_command(text="list", user="U0ALICE"))
    r(
        "slack forged",
        await http.post(
            "/slack/events",
            content=b"payload=%7B%7D",
            headers={
                "X-Slack-Request-Timestamp": str(int(time.time())),
                "X-Slack-Signature": "v0=00",
            },
        ),
    )
    review = SECRETS["TOCSIN_REVIEW_TOKEN"]
    r("review wrong token", await http.post("/review/login", data={"token": review + "x"}))
    r("review api wrong", await http.get("/api/reports", headers={"Authorization": "Bearer no"}))
    r("review api", await http.get("/api/reports", headers={"Authorization": f"Bearer {review}"}))
    r("review login", await http.post("/review/login", data={"token": review}))
    for path in ("/review", "/review/export.csv", "/review?team=<script>&level=x"):
        r(f"GET {path} signed in", await http.get(path))
    document: dict[str, Any] = (await http.get("/openapi.json")).json()
    paths = [p for p, ops in document["paths"].items() if "get" in ops and "{" not in p]
    for path in [*paths, "/openapi.json", "/docs", "/review", "/sandbox/", f"/nope?token={token}"]:
        r(f"GET {path}", await http.get(path))


async def read_calendar_feed(
    http: httpx.AsyncClient, out: Outputs, env: dict[str, str], cwd: Path
) -> str:
    """Open a calendar feed with its token (printed by the CLI) and with a wrong one; the
    feed's token, to be looked for in the log."""
    printed = await asyncio.to_thread(cli, ["calendar", "url", "ops-primary"], env, cwd)
    url = next(line for line in printed.splitlines() if "?token=" in line)
    path = urlsplit(url).path  # the CLI knows its public URL, not the test's port
    feed_token = parse_qs(urlsplit(url).query)["token"][0]
    feed = out.response("calendar feed", await http.get(f"{path}?token={feed_token}"))
    assert feed.status_code == 200
    # one character changed (a token ending in "x" already was once taken for a wrong one)
    other = "y" if feed_token.endswith("x") else "x"
    wrong = await http.get(f"{path}?token={feed_token[:-1]}{other}")
    assert out.response("calendar feed wrong token", wrong).status_code == 404
    return feed_token


async def wait_for_log(log: Path, needle: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while needle not in await asyncio.to_thread(log.read_text):
        if time.monotonic() > deadline:
            return
        await asyncio.sleep(0.1)
