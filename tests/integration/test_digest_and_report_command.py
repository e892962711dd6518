"""The weekly digest on a fake clock (two replicas, one post, with the chart uploaded through
the fake Slack's external upload), ``/tocsin report`` privately and in a channel, and the
fake upload's checks driven by the real slack_sdk client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from structlog.testing import capture_logs

from bot.policy.access import NOT_LISTED, NOT_PUBLISHER
from bot.sandbox.signing import form_body, slash_command_form
from bot.workers import digest
from bot.workers.digest import WeeklyDigest
from config.settings import EXAMPLE_POLICY
from escalation.review import figures, rows
from storage.review import digests
from tests.support.databases import database
from tests.support.harness import BOT_TOKEN, FakeClock, Harness, running_tocsin
from tests.support.imports import hide_package

# Monday 2026-11-09 09:00:20 in Berlin (08:00:20 UTC): just after the ops team's slot.
MONDAY = datetime(2026, 11, 9, 8, 0, 20, tzinfo=UTC)


@pytest.fixture
def policy_path(tmp_path: Path) -> Path:
    data: dict[str, Any] = yaml.safe_load(EXAMPLE_POLICY.read_text())
    data["teams"]["ops"]["digest"] = {"day": "monday", "time": "09:00", "channel": "#ops-review"}
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
async def tocsin(tmp_path: Path, policy_path: Path) -> AsyncIterator[tuple[Harness, FakeClock]]:
    clock = FakeClock(MONDAY - timedelta(days=2))
    async with (
        database("sqlite", tmp_path) as url,
        running_tocsin(database_url=url, config_path=policy_path, clock=clock) as harness,
    ):
        yield harness, clock


def replica(harness: Harness, clock: FakeClock, name: str) -> WeeklyDigest:
    service = harness.service
    return WeeklyDigest(
        db=service.db, policy=service.policy, client=service.slack, clock=clock, instance=name
    )


async def test_weekly_digest_is_posted_once_with_its_chart_whatever_the_replicas(
    tocsin: tuple[Harness, FakeClock],
) -> None:
    harness, clock = tocsin
    await harness.webhook("generic", {"title": "Disk full", "level": 1})
    await harness.wait_for_messages(1)
    first, second = replica(harness, clock, "a"), replica(harness, clock, "b")
    # Saturday: the latest slot (last Monday) is more than the grace period ago
    assert await first.post_due("ops") is False

    clock.advance(seconds=(MONDAY - clock()).total_seconds())
    assert [await first.post_due("ops"), await second.post_due("ops")] == [True, False]
    assert await first.post_due("ops") is False  # the cron job and the catch-up both fire

    posts = harness.channel_messages("#ops-review")
    assert len(posts) == 2  # the report, then the chart shared in the channel
    report, chart = posts
    assert "Weekly review · Operations · week to Mon 09 Nov 2026" in report.text
    assert any("*1* alert (" in str(b) for b in report.blocks)
    assert len(chart.files) == 1
    shared = chart.files[0]
    assert shared["mimetype"] == "image/png"
    assert shared["name"] == "tocsin-review-ops-2026-11-09.png"
    stored = harness.world.files.files[shared["id"]]
    assert stored.content is not None
    assert stored.content.startswith(b"\x89PNG")
    rows = await digests.digests(harness.service.db)
    assert [(r.key, r.claimed_by, r.sent_at is not None) for r in rows] == [
        ("ops:2026-11-09", "a", True)
    ]

    clock.advance(days=7)
    assert await second.post_due("ops") is True  # next week: a new key
    assert len(harness.channel_messages("#ops-review")) == 4


@pytest.fixture
def without_matplotlib(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A runtime install without the `charts` extra: every matplotlib import fails (the lazy
    import in bot.review.charts.png goes through sys.modules), and the once-per-process hint
    starts unsaid."""
    hide_package(monkeypatch, "matplotlib")
    digest._say_chart_is_off.cache_clear()
    yield
    digest._say_chart_is_off.cache_clear()


@pytest.mark.usefixtures("without_matplotlib")
async def test_without_matplotlib_the_digest_posts_its_report_alone_and_says_once_how_to_add_it(
    tocsin: tuple[Harness, FakeClock],
) -> None:
    harness, clock = tocsin
    clock.advance(seconds=(MONDAY - clock()).total_seconds())
    first = replica(harness, clock, "a")
    with capture_logs() as logs:
        assert await first.post_due("ops") is True
        clock.advance(days=7)
        assert await first.post_due("ops") is True
    posts = harness.channel_messages("#ops-review")
    assert len(posts) == 2  # two weekly reports, no chart after either
    assert all(not post.files for post in posts)
    assert all("Weekly review" in post.text for post in posts)
    said = [entry for entry in logs if entry["event"] == "digest_chart_off"]
    assert len(said) == 1  # once per process, not once per digest
    assert "pip install 'tocsin[charts]'" in said[0]["hint"]
    assert said[0]["log_level"] == "info"
    assert [e["event"] for e in logs].count("digest_posted") == 2


async def test_a_failed_digest_is_retried_by_another_replica_once_its_claim_is_stale(
    tocsin: tuple[Harness, FakeClock],
) -> None:
    harness, clock = tocsin
    clock.advance(seconds=(MONDAY - clock()).total_seconds())
    first, second = replica(harness, clock, "a"), replica(harness, clock, "b")
    harness.world.fail_next("chat.postMessage", status=500)
    with pytest.raises(SlackApiError):
        await first.post_due("ops")
    assert await second.post_due("ops") is False  # the claim is fresh: a post may be on its way
    clock.advance(minutes=11)
    assert await second.post_due("ops") is True
    rows = await digests.digests(harness.service.db)
    assert [(r.claimed_by, r.attempts, r.sent_at is not None) for r in rows] == [("b", 2, True)]
    assert len(harness.channel_messages("#ops-review")) == 2


def test_digest_cron_job_fires_at_the_teams_local_time(policy_path: Path) -> None:
    from bot.app import build_service
    from tests.support.harness import settings_for

    settings = settings_for(
        database_url="sqlite:////tmp/unused.db",
        slack_url="http://127.0.0.1:9",
        port=9,
        TOCSIN_CONFIG=policy_path,
    )
    service = build_service(settings)
    assert service.digest is not None
    scheduler = AsyncIOScheduler(timezone="UTC")
    service.digest.register(scheduler)
    job = next(j for j in scheduler.get_jobs() if j.id == "tocsin-digest-ops")
    after = datetime(2026, 11, 4, tzinfo=UTC)
    fires = job.trigger.get_next_fire_time(None, after)
    assert fires.astimezone(UTC) == datetime(2026, 11, 9, 8, 0, tzinfo=UTC)  # 09:00 CET
    summer = job.trigger.get_next_fire_time(None, datetime(2026, 7, 1, tzinfo=UTC))
    assert summer.astimezone(UTC) == datetime(2026, 7, 6, 7, 0, tzinfo=UTC)  # 09:00 CEST


async def test_report_command_answers_privately_or_posts_in_a_channel(
    tocsin: tuple[Harness, FakeClock],
) -> None:
    harness, _ = tocsin
    await harness.webhook("generic", {"title": "Queue slow <!channel>", "level": 2})
    await harness.wait_for_messages(1)
    await harness.driver.slash_command(text="report 7d ops", user="U0BOB")
    await harness.world.wait_for(lambda: bool(harness.world.ephemerals_for("U0BOB")), timeout=10)
    private = harness.world.ephemerals_for("U0BOB")[-1]
    assert "Tocsin review · ops · 7d" in private.text
    blocks = str(private.blocks)
    assert "*1* alert (" in blocks
    assert "&lt;!channel&gt;" in blocks
    assert "<!channel>" not in blocks

    await harness.driver.slash_command(text="report 30d in #ops-review", user="U0DAVE")
    await harness.wait_for_messages(1, channel="#ops-review")
    posted = harness.channel_messages("#ops-review")[0]
    assert "Tocsin review · all teams · 30d" in posted.text

    await harness.driver.slash_command(text="report fortnight", user="U0BOB")
    await harness.world.wait_for(
        lambda: "is not a period or a team" in harness.world.ephemerals_for("U0BOB")[-1].text,
        timeout=10,
    )


async def last_private_answer(harness: Harness, user: str, after: int) -> str:
    """The text of the first private answer to ``user`` after the ``after`` they had."""
    world = harness.world
    await world.wait_for(lambda: len(world.ephemerals_for(user)) > after, timeout=10)
    return world.ephemerals_for(user)[after].text


@pytest.mark.parametrize(
    "period",
    [
        "999999999w",  # overflowed: an uncaught error, Slack showed a 404
        "2026-01-01..9999-12-31",  # overflowed the same way
        "2000-01-01..2030-12-31",  # 31 years: walked hour by hour on the event loop
        "0001-01-02..9999-12-30",  # 10,000 years: three minutes on the event loop
    ],
)
async def test_a_report_over_an_abusive_period_is_refused_privately_at_once(
    tocsin: tuple[Harness, FakeClock], period: str
) -> None:
    harness, _ = tocsin
    await harness.driver.slash_command(text=f"report {period} in #ops-review", user="U0DAVE")
    answer = await last_private_answer(harness, "U0DAVE", 0)
    assert answer.startswith(f'Period "{period}": ')
    assert "at most 400 days" in answer or "between 1970-01-01 and 9998-12-31" in answer
    assert harness.channel_messages("#ops-review") == []


async def test_only_approvers_and_admins_post_a_report_in_a_channel(
    tocsin: tuple[Harness, FakeClock],
) -> None:
    harness, _ = tocsin
    await harness.driver.slash_command(text="report 7d in #ops-review", user="U0BOB")
    assert await last_private_answer(harness, "U0BOB", 0) == NOT_PUBLISHER
    harness.world.add_user("U0EVE", "eve", "Eve Outsider")  # not in the policy file
    await harness.driver.slash_command(text="report 7d", user="U0EVE")
    assert await last_private_answer(harness, "U0EVE", 0) == NOT_LISTED
    await harness.driver.slash_command(text="report 7d", user="U0BOB")  # privately: a responder
    assert "Tocsin review · all teams · 7d" in await last_private_answer(harness, "U0BOB", 1)
    assert harness.channel_messages("#ops-review") == []


async def test_a_replayed_report_request_is_posted_once(tocsin: tuple[Harness, FakeClock]) -> None:
    harness, _ = tocsin
    driver, world = harness.driver, harness.world
    channel = world.ensure_channel("#alerts")
    form = slash_command_form(
        actor=driver.actor("U0DAVE"),
        channel_id=channel.id,
        channel_name=channel.name,
        command="/tocsin",
        text="report 7d in #ops-review",
        response_url=world.response_urls.issue(channel=channel.id, user="U0DAVE", message_ts=None),
        trigger_id=world.issue_trigger("U0DAVE"),
    )
    assert (await driver.send(form_body(form))).status_code == 200
    assert await last_private_answer(harness, "U0DAVE", 0) == "Posted the report to #ops-review."
    assert (await driver.send(form_body(form))).status_code == 200  # the same signed request
    assert await last_private_answer(harness, "U0DAVE", 1) == "This command was already handled."
    assert len(harness.channel_messages("#ops-review")) == 1


async def test_the_reports_figures_are_summed_off_the_event_loop(
    tocsin: tuple[Harness, FakeClock], monkeypatch: pytest.MonkeyPatch
) -> None:
    harness, _ = tocsin
    await harness.webhook("generic", {"title": "Disk full", "level": 1})
    await harness.wait_for_messages(1)
    on_loop: dict[str, list[bool]] = {"add": [], "as_dict": []}

    def running_loop() -> bool:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        return True

    add, as_dict = rows.AlertRows.add, figures.Review.as_dict

    def watched_add(self: rows.AlertRows, batch: Iterable[Sequence[Any]]) -> None:
        on_loop["add"].append(running_loop())
        add(self, batch)

    def watched_as_dict(review: figures.Review) -> dict[str, object]:
        on_loop["as_dict"].append(running_loop())
        return as_dict(review)

    monkeypatch.setattr(rows.AlertRows, "add", watched_add)
    monkeypatch.setattr(figures.Review, "as_dict", watched_as_dict)
    await harness.driver.slash_command(text="report 7d", user="U0DAVE")
    assert "Tocsin review" in await last_private_answer(harness, "U0DAVE", 0)
    assert on_loop == {"add": [False], "as_dict": [False]}


async def test_fake_upload_checks_the_length_and_completes_uploaded_files_only(
    tocsin: tuple[Harness, FakeClock],
) -> None:
    harness, _ = tocsin
    client = AsyncWebClient(token=BOT_TOKEN, base_url=f"{harness.slack_url}/api/")
    reserved = await client.files_getUploadURLExternal(filename="a.png", length=4)
    with pytest.raises(SlackApiError, match="file_upload_not_complete"):
        await client.files_completeUploadExternal(files=[{"id": reserved["file_id"]}])
    async with httpx.AsyncClient() as http:
        short = await http.post(str(reserved["upload_url"]), content=b"abc")
        assert short.status_code == 400
        again = await http.post(str(reserved["upload_url"]), content=b"abcd")
        assert again.status_code == 404  # the upload URL is single-use
    with pytest.raises(SlackApiError, match="file_not_found"):
        await client.files_completeUploadExternal(files=[{"id": "FNOPE"}])
    done = await client.files_upload_v2(content="hello", filename="notes.txt", title="Notes")
    assert done["file"]["title"] == "Notes"
    assert harness.world.files.files[done["file"]["id"]].content == b"hello"
