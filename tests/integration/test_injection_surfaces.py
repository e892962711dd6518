"""Hostile alert text through every surface Tocsin renders it on — the warning, thread lines,
page DMs, approval requests, modals, ``/tocsin list``, reports and exports: shown as plain
text, never a live mention or a link that hides its target, cut to Block Kit's limits (the
fake Slack refuses anything over them, so every post arriving proves it)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.slack import ids
from tests.support.databases import database
from tests.support.harness import FakeClock, Harness, running_tocsin

POLICY = """
levels:
  1: {name: critical, emoji: ":red_circle:"}
  2: {name: major, emoji: ":large_orange_circle:"}
  3: {name: minor}
integrations:
  - {name: generic, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}"}
default_route: {team: ops, channel: "#alerts", policy: default}
teams:
  ops: {members: [U0ALICE, U0BOB]}
people:
  U0DAVE: {name: Dave, roles: [approver]}
policies:
  default:
    tiers:
      - {notify: [{user: U0ALICE}, {channel: "#pages"}], after: 0m}
      - {notify: [{user: U0BOB}], after: 1m, requires_approval: true}
    approvers: [U0DAVE]
"""

HOSTILE = "<!channel> <!here|here> <!everyone> <@U0MALLORY> <#C0SECRET> <!subteam^S0ALL>"
BARE = "@channel @here @everyone"
LINK = "<https://evil.example/steal|https://good.example/login>"
LAYOUT = "```\n*bold _italic ~strike >quote\n" * 3
ALERT = {
    "title": f"{HOSTILE} {BARE} {LINK}",
    "description": f"{HOSTILE} {LINK} {LAYOUT} " + "x" * 100_000,
    "impact": HOSTILE,
    "suggested_actions": [HOSTILE, LINK],
    "category": "<!channel>|cat",
    "source": "src <@U0MALLORY>",
    "labels": {"<!here>": "<@U0MALLORY>", "team": "<#C0SECRET>"},
    "links": [
        {"title": "https://good.example/login", "url": "https://evil.example/steal"},
        {"title": "<!channel>", "url": "https://evil.example/x"},
    ],
    "level": 1,
}
LIVE = ("<!channel", "<!here", "<!everyone", "<@U0MALLORY", "<#C0SECRET", "<!subteam")
LINKS = re.compile(r"<(https?://[^|>]+)\|([^>]*)>")


def assert_safe(rendered: str, where: str) -> None:
    for live in LIVE:
        assert live not in rendered, f"{where}: live {live!r}"
    for bare in ("@channel", "@here", "@everyone"):
        assert bare not in rendered, f"{where}: bare {bare!r} would notify"
    for url, label in LINKS.findall(rendered):
        host = re.sub(r"^https?://", "", url).split("/")[0].split(":")[0]  # the name, not a port
        assert host in label, f"{where}: link to {url} labelled {label!r}"


def text_of(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


@pytest.fixture
async def tocsin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Harness]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    async with (
        database("sqlite", tmp_path) as url,
        running_tocsin(database_url=url, config_path=policy, clock=FakeClock()) as harness,
    ):
        monkeypatch.setenv("TOCSIN_DATABASE_URL", url)
        monkeypatch.setenv("TOCSIN_CONFIG", str(policy))
        yield harness


async def test_hostile_alert_text_is_inert_on_every_surface(tocsin: Harness) -> None:
    assert (await tocsin.webhook("generic", ALERT)).status_code == 202
    [warning] = await tocsin.wait_for_messages(1)
    clock = tocsin.service.clock
    assert isinstance(clock, FakeClock)
    assert await tocsin.service.engine.drain() == 0  # tier 1 (DM, thread line, #pages) done
    await tocsin.world.wait_for(lambda: bool(tocsin.dms("U0ALICE")))
    await tocsin.world.wait_for(lambda: bool(tocsin.channel_messages("#pages")))
    clock.advance(minutes=2)
    assert await tocsin.service.engine.drain() == 1  # tier 2 asks Dave first
    await tocsin.world.wait_for(lambda: bool(tocsin.dms("U0DAVE")))

    # modals: resolve, and deny (the reason modal escalate uses too)
    for action_id, user, source in (
        (ids.RESOLVE, "U0ALICE", warning),
        (ids.DENY, "U0DAVE", tocsin.dms("U0DAVE")[0]),
    ):
        await tocsin.driver.press_button(
            channel=source.channel, ts=source.ts, action_id=action_id, user=user
        )

        def view_open(u: str = user) -> bool:
            return bool(tocsin.world.open_views(u))

        await tocsin.world.wait_for(view_open)
    await tocsin.driver.slash_command(text="list", user="U0ALICE")
    await tocsin.world.wait_for(lambda: bool(tocsin.world.ephemerals_for("U0ALICE")))
    # the thread line goes last (pages and warnings first): wait for it too
    await tocsin.world.wait_for(lambda: bool(tocsin.thread(warning)))

    surfaces: dict[str, str] = {}
    for (channel, ts), message in tocsin.world.messages.items():
        surfaces[f"message {channel}/{ts}"] = message.text + text_of(message.blocks)
    for ephemeral in tocsin.world.ephemerals:
        surfaces[f"ephemeral to {ephemeral.user}"] = ephemeral.text + text_of(ephemeral.blocks)
    for user in ("U0ALICE", "U0BOB", "U0DAVE"):
        for view in tocsin.world.open_views(user):
            surfaces[f"modal {view.callback_id}"] = text_of(view.definition)

    kinds = {name.split(" ")[0] for name in surfaces}
    assert kinds == {"message", "ephemeral", "modal"}
    assert len([n for n in surfaces if n.startswith("modal")]) == 2
    assert len(tocsin.world.messages) >= 5  # warning, thread line, DM, #pages, approval
    for where, rendered in surfaces.items():
        assert_safe(rendered, where)
    warning_text = surfaces[f"message {warning.channel}/{warning.ts}"]
    assert "evil.example" in warning_text  # the real target is shown
    assert len(text_of(warning.blocks)) < 30_000  # 100 KB of description was cut

    # reports and exports print alert text too: on one line, never a table cell boundary
    outputs = {}
    for args in (["report", "--format", "markdown"], ["report"], ["export", "--format", "csv"]):
        result = await asyncio.to_thread(CliRunner().invoke, cli, args)
        assert result.exit_code == 0, result.output
        outputs[" ".join(args)] = result.stdout
    markdown = outputs["report --format markdown"]
    assert "\\|cat" in markdown  # the category's "|" is escaped …
    assert re.search(r"[^\\]\|cat", markdown) is None  # … everywhere it appears
    assert "evil.example" in outputs["export --format csv"]  # exports keep the data as sent
