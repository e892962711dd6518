"""Storm summary, thread lines and storm page: escaped, within Slack's limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.slack.blocks.render_storm import (
    THREAD_TEXT_MAX,
    storm_page,
    summary_blocks,
    summary_text,
    thread_message,
)
from escalation.model import LevelSpec
from storage.noise.storm_display import Item, Summary

LEVELS = {
    1: LevelSpec(1, "critical", ":red_circle:"),
    2: LevelSpec(2, "major", ":large_orange_circle:"),
    3: LevelSpec(3, "minor", ":large_blue_circle:"),
}
T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def items(n: int, *, title: str = "Disk full on host") -> list[Item]:
    return [Item(i + 1, 3 if i % 10 else 1, "DiskFull", f"{title} {i}", "firing") for i in range(n)]


def summary(**overrides: object) -> Summary:
    values: dict[str, object] = {
        "alerts": 812,
        "by_level": {1: 3, 2: 9, 3: 800},
        "by_status": {"firing": 800, "resolved": 12},
        "top_names": [("DiskFull", 500), ("<!channel> evil", 312)],
        "top_items": [Item(5, 1, "DiskFull", "Primary DB down @here", "firing")],
        "listed": 600,
    }
    values.update(overrides)
    return Summary(**values)  # type: ignore[arg-type]


def test_the_summary_shows_totals_by_level_top_names_and_the_most_severe_alerts() -> None:
    text = json.dumps(
        summary_blocks("#alerts", summary(), levels=LEVELS, started_at=T0, ended_at=None)
    )
    assert "812" in text
    assert "*critical* 3" in text
    assert "DiskFull x500" in text
    assert "`#5`" in text
    assert "600 of 812 listed in the thread" in text
    assert "<!channel>" not in text
    assert "@here" not in text  # broadcasts are defused
    assert summary_text("#alerts", summary(), levels=LEVELS, ended=False).startswith(
        "Alert storm in #alerts (in progress): 812 alerts, 3 at level 1"
    )


def test_an_ended_summary_says_so_with_its_totals_and_duration() -> None:
    blocks = summary_blocks(
        "#alerts", summary(), levels=LEVELS, started_at=T0, ended_at=T0 + timedelta(minutes=7)
    )
    text = json.dumps(blocks)
    assert "ended" in text
    assert "812 in all" in text
    assert "about 7 min" in text


def test_a_thread_message_lists_every_item_it_can_within_block_kit_limits() -> None:
    text, blocks, used = thread_message(items(300), LEVELS, first=1)
    assert used == 300
    assert text == "Storm alerts 1 to 300"
    assert len(blocks) <= 50
    for block in blocks[1:]:
        assert len(block["text"]["text"]) <= 3000
    listed = json.dumps(blocks)
    assert all(f"`#{i}`" in listed for i in range(1, 301))


def test_a_thread_message_stops_before_slacks_size_limit_and_says_where_it_stopped() -> None:
    long = items(1000, title="x" * 200)
    text, blocks, used = thread_message(long, LEVELS, first=601)
    assert 0 < used < 1000
    assert sum(len(b["text"]["text"]) for b in blocks[1:]) <= THREAD_TEXT_MAX
    assert text == f"Storm alerts 601 to {600 + used}"
    assert len(blocks) <= 50


def test_the_storm_page_says_it_stands_for_many_pages_and_shows_level_one_alerts() -> None:
    text, blocks = storm_page(
        "#alerts", summary(), pages=57, tier=0, rule="STEP-1", levels=LEVELS, ended=False
    )
    assert text.startswith(":rotating_light: Storm in #alerts (in progress): 812 alerts, 3 at")
    rendered = json.dumps(blocks)
    assert "57 pages of its alerts came to you (tier 1" in rendered
    assert "Primary DB down" in rendered


def test_a_storm_page_names_the_alerts_that_paged_the_person_the_newest_in_its_text() -> None:
    paged = [
        Item(70, 1, "Payments", "Payments down", "firing"),
        Item(71, 3, "DiskFull", "Disk <!here> full", "firing"),
    ]
    text, blocks = storm_page(
        "#alerts",
        summary(),
        pages=2,
        tier=1,
        rule="STEP-2",
        levels=LEVELS,
        ended=False,
        paged_for=paged,
    )
    assert text.endswith("· paged for Disk &lt;!here&gt; full and 1 more")
    rendered = json.dumps(blocks)
    assert "Paged for" in rendered
    assert rendered.index("Disk &lt;!here&gt; full") < rendered.index("Payments down")
    assert "Primary DB down" not in rendered  # the alerts that paged them, not the top ones
