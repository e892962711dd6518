"""The calendar feeds over the real HTTP server, on SQLite and PostgreSQL: the URL
`tocsin calendar url` prints opens the feed, read back with ``icalendar``; a wrong, missing or
old (rotated) token, and a feed that does not exist, all get the answer of an unknown page."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from icalendar import Calendar

from tests.support.databases import database
from tests.support.harness import Harness, running_tocsin


@dataclass
class Feeds:
    tocsin: Harness
    database_url: str

    async def run_cli(self, *args: str, config: Path | None = None) -> tuple[int, str, str]:
        """`tocsin calendar …` as a process against the service's database (and the shipped
        policy file, or ``config``): exit code, standard output, standard error."""
        env = {k: v for k, v in os.environ.items() if k != "TOCSIN_CONFIG"}
        env["TOCSIN_DATABASE_URL"] = self.database_url
        if config is not None:
            env["TOCSIN_CONFIG"] = str(config)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "calendar",
            *args,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        assert process.returncode is not None
        return process.returncode, out.decode(), err.decode()

    async def cli(self, *args: str) -> str:
        code, out, err = await self.run_cli(*args)
        assert code == 0, err
        return out.strip()

    async def url(self, feed: str) -> str:
        """The subscribe URL's path and query, on the running service."""
        parts = urlsplit(await self.cli("url", feed))
        return f"{self.tocsin.base_url}{parts.path}?{parts.query}"


@pytest.fixture(params=["sqlite", "postgres"])
async def feeds(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Feeds]:
    async with (
        database(request.param, tmp_path) as url,
        running_tocsin(database_url=url) as harness,
    ):
        yield Feeds(harness, url)


async def unknown_page(tocsin: Harness) -> tuple[int, bytes]:
    response = await tocsin.http.get(f"{tocsin.base_url}/no/such/page.ics")
    return response.status_code, response.content


async def test_the_printed_url_opens_the_rotations_feed(feeds: Feeds) -> None:
    url = await feeds.url("ops-primary")
    assert "?token=" in url
    response = await feeds.tocsin.http.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["cache-control"] == "private, max-age=300"
    assert response.headers["referrer-policy"] == "no-referrer"
    calendar = Calendar.from_ical(response.content)
    assert calendar["X-WR-CALNAME"] == "On call: ops-primary"
    events = list(calendar.walk("VEVENT"))
    assert len(events) >= 14  # weekly shifts, two weeks back to three months ahead
    now = datetime.now(UTC)
    current = [e for e in events if e.decoded("DTSTART") <= now < e.decoded("DTEND")]
    assert len(current) == 1
    assert str(current[0]["SUMMARY"]) in (
        "On call: ops-primary (Alice)",
        "On call: ops-primary (Bob)",
    )
    assert "Team: Operations" in str(current[0]["DESCRIPTION"])
    head = await feeds.tocsin.http.head(url)
    assert head.status_code == 200


async def test_a_persons_feed_holds_only_their_shifts(feeds: Feeds) -> None:
    response = await feeds.tocsin.http.get(await feeds.url("U0CAROL"))
    assert response.status_code == 200, response.text
    calendar = Calendar.from_ical(response.content)
    assert calendar["X-WR-CALNAME"] == "On call: Carol"
    summaries = {str(e["SUMMARY"]) for e in calendar.walk("VEVENT")}
    assert summaries == {"On call: ops-secondary (Carol)"}


async def test_a_wrong_or_missing_token_is_answered_as_an_unknown_page(feeds: Feeds) -> None:
    tocsin = feeds.tocsin
    good = await feeds.url("ops-primary")
    path, _, query = good.partition("?")
    token = query.removeprefix("token=")
    other = await feeds.url("ops-secondary")
    refused = [
        path,  # no token
        f"{path}?token=",
        f"{path}?token={token[:-1]}",
        f"{path}?token={token}x",
        f"{path}?token={other.partition('?token=')[2]}",  # another feed's token
        f"{tocsin.base_url}/calendar/people/U0ALICE.ics?token={token}",
        f"{tocsin.base_url}/calendar/rotations/nope.ics?token={token}",
        f"{tocsin.base_url}/calendar/people/U0NOBODY.ics",
    ]
    expected = await unknown_page(tocsin)
    assert expected[0] == 404
    for url in refused:
        response = await tocsin.http.get(url)
        assert (response.status_code, response.content) == expected, url
        assert "text/calendar" not in response.headers["content-type"]
    assert (await tocsin.http.get(good)).status_code == 200


async def test_rotating_a_token_turns_the_old_url_off_and_only_that_feed(feeds: Feeds) -> None:
    tocsin = feeds.tocsin
    old = await feeds.url("ops-primary")
    carol = await feeds.url("U0CAROL")
    assert old == await feeds.url("ops-primary")  # the same URL until rotated
    printed = await feeds.cli("token", "rotate", "ops-primary")
    new = f"{tocsin.base_url}{urlsplit(printed).path}?{urlsplit(printed).query}"
    assert new != old
    assert new == await feeds.url("ops-primary")
    assert (await tocsin.http.get(old)).status_code == 404
    assert (await tocsin.http.get(new)).status_code == 200
    assert (await tocsin.http.get(carol)).status_code == 200
    again = await feeds.cli("token", "rotate", "ops-primary")
    assert (await tocsin.http.get(new)).status_code == 404
    assert urlsplit(again).query not in (urlsplit(old).query, urlsplit(new).query)


async def test_the_cli_names_what_it_does_not_know(feeds: Feeds) -> None:
    code, out, err = await feeds.run_cli("url", "nope")
    assert code == 2
    assert out == ""
    assert "no rotation or person 'nope'" in err
    assert "ops-primary" in err


async def test_a_rotation_named_with_a_slash_and_spaces_has_its_feed(tmp_path: Path) -> None:
    example = Path(__file__).parents[2] / "config" / "example.yaml"
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        example.read_text(encoding="utf-8")
        .replace("ops-secondary:", '"ops/secondary nights":')
        .replace("oncall: ops-secondary}", 'oncall: "ops/secondary nights"}')
    )
    async with (
        database("sqlite", tmp_path) as url,
        running_tocsin(database_url=url, config_path=policy) as harness,
    ):
        feeds = Feeds(harness, url)
        code, printed, err = await feeds.run_cli("url", "ops/secondary nights", config=policy)
        assert code == 0, err
        parts = urlsplit(printed.strip())
        assert parts.path == "/calendar/rotations/ops%2Fsecondary%20nights.ics"
        response = await harness.http.get(f"{harness.base_url}{parts.path}?{parts.query}")
        assert response.status_code == 200, response.text
        calendar = Calendar.from_ical(response.content)
        assert calendar["X-WR-CALNAME"] == "On call: ops/secondary nights"
        summaries = {str(e["SUMMARY"]) for e in calendar.walk("VEVENT")}
        assert summaries == {"On call: ops/secondary nights (Carol)"}
