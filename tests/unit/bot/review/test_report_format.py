"""The review as text: people by name, days by name, and counts in the singular when one."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.review.report_format import render
from bot.slack.blocks.report_blocks import report_message
from escalation.review.figures import AlertFacts, NoisyAlert, PageFacts, Review, Where

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
OPS = Where(team="ops", level=2, category=None, route="#alerts", source="generic")


def one_alert() -> dict[str, Any]:
    review = Review(since=T0, until=T0 + timedelta(days=7))
    review.add(
        AlertFacts(
            where=OPS,
            fired_at=T0,
            count=1,
            tta_s=60,
            ttr_s=600,
            resolved=True,
            resolved_by_source=False,
            acknowledged_by="U0ALICE",
            root_cause=None,
            ack_within_s=None,
        )
    )
    review.add_pages(PageFacts(where=OPS, person="U0ALICE", at=T0))
    review.set_noisy([NoisyAlert("f", "Disk full", firings=1, cycles=1)])
    return review.as_dict()


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_people_are_named_from_the_policy(fmt: str) -> None:
    text = render(one_alert(), fmt=fmt, names={"U0ALICE": "Alice"})
    assert "Alice" in text
    assert "U0ALICE" not in text


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_weekend_days_are_named(fmt: str) -> None:
    text = render(one_alert(), fmt=fmt)
    assert "weekend days Saturday and Sunday" in text
    assert "0 = Monday" not in text


def test_counts_of_one_are_singular() -> None:
    text = render(one_alert(), fmt="text")
    assert "1 alert (0 open), 1 page, 0 escalations" in text
    assert "Disk full — 1 firing" in text
    assert "1 firings" not in text


def test_the_slack_report_says_one_firing_and_one_alert() -> None:
    text, blocks = report_message(one_alert(), title="Review", names={"U0ALICE": "Alice"})
    shown = json.dumps([block.to_dict() for block in blocks], ensure_ascii=False)
    assert text.startswith("Review: 1 alert,")
    assert "*1* alert (0 open)" in shown
    assert "Disk full — 1 firing" in shown
    assert "1 firings" not in shown
