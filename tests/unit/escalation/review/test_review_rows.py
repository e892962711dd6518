"""Rows into a review (the fast path) give the review that facts one by one give."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from escalation.review.figures import AlertFacts, Review, Where
from escalation.review.rows import (
    APPROVAL_ASKED,
    APPROVED,
    DENIED,
    ESCALATION,
    NIGHT,
    PAGED,
    TIMED_OUT,
    WEEKEND,
    AlertRows,
    add_activity_counts,
    add_page_counts,
)

SINCE = datetime(2026, 10, 19, tzinfo=UTC)
UNTIL = SINCE + timedelta(days=14)
GROUP = ("ops", 2, None, "#ops", "prometheus")


def _rows(rng: random.Random, count: int) -> list[tuple[Any, ...]]:
    rows = []
    midnight = datetime(2026, 10, 25, 22, tzinfo=UTC).timestamp()  # 00:00 in Berlin (summer)
    for _ in range(count):
        fired = rng.choice(
            (rng.uniform(SINCE.timestamp(), UNTIL.timestamp()), midnight - 4e-7, midnight)
        )
        status = rng.choice(("firing", "acknowledged", "resolved"))
        acked = rng.random() < 0.7
        rows.append(
            (
                rng.choice(("ops", "db")), rng.choice((1, 2, 3)), rng.choice(("data", None)),
                rng.choice(("#ops", "#db")), "prometheus", rng.choice((1, 3)), status,
                rng.random() < 0.5, rng.choice(("U0ALICE", None)) if acked else None,
                rng.choice(("capacity", None)), fired,
                rng.choice((299.9996, 300.0004, 12.3456789)) if acked else None,
                rng.uniform(1, 5000) if status == "resolved" else None,
                rng.choice((300.0, None)),
                rng.choice(("U0ALICE", "U0BOB", None)),
                rng.choice(("U0BOB", "U0CAROL", None)) if status == "resolved" else None,
            )
        )  # fmt: skip
    return rows


def _as_facts(row: tuple[Any, ...]) -> AlertFacts:
    """What storage.review.facts.alert_facts makes of the same row."""
    return AlertFacts(
        where=Where(team=row[0], level=int(row[1]), category=row[2], route=row[3], source=row[4]),
        fired_at=datetime.fromtimestamp(row[10], UTC),
        count=row[5],
        tta_s=None if row[11] is None else round(row[11], 3),
        ttr_s=None if row[12] is None else round(row[12], 3),
        resolved=row[6] == "resolved",
        resolved_by_source=bool(row[7]),
        acknowledged_by=row[8],
        root_cause=row[9],
        ack_within_s=row[13],
        involved=tuple(p for p in (row[14], row[15]) if p),
    )


@pytest.mark.parametrize("zone", [UTC, ZoneInfo("Europe/Berlin")], ids=["utc", "berlin"])
def test_alert_rows_make_the_review_that_facts_one_by_one_make(zone: Any) -> None:
    rows = _rows(random.Random(9), 3000)
    one_by_one = Review(since=SINCE, until=UNTIL, zone=zone)
    for row in rows:
        one_by_one.add(_as_facts(row))
    in_bulk = Review(since=SINCE, until=UNTIL, zone=zone)
    adder = AlertRows(in_bulk)
    for start in range(0, len(rows), 700):  # in batches, as the database hands them over
        adder.add(rows[start : start + 700])
    assert json.dumps(in_bulk.as_dict()) == json.dumps(one_by_one.as_dict())
    assert in_bulk.overall.alerts == 3000


def test_figures_read_between_batches_are_recomputed_after_the_next() -> None:
    review = Review(since=SINCE, until=UNTIL)
    adder = AlertRows(review)
    rows = _rows(random.Random(1), 5)
    adder.add(rows)
    assert review.overall.alerts == 5
    adder.add(rows)  # the same groups and people: no new leaf to mark the review changed
    assert review.overall.alerts == 10


def test_classified_page_counts_land_in_night_weekend_and_off_hours() -> None:
    review = Review(since=SINCE, until=UNTIL)
    add_page_counts(
        review,
        [
            (*GROUP, "U0ALICE", NIGHT | WEEKEND, 3),
            (*GROUP, "U0ALICE", NIGHT, 2),
            (*GROUP, "U0ALICE", WEEKEND, 5),
            (*GROUP, None, 0, 7),
        ],
    )
    alice = review.groups["person"]["U0ALICE"].summary()
    assert (alice["pages"], alice["night_pages"], alice["weekend_pages"]) == (10, 5, 8)
    assert alice["off_hours_pages"] == 10
    overall = review.overall.summary()
    assert (overall["pages"], overall["off_hours_pages"]) == (17, 10)


def test_timeline_classes_count_each_kind_and_a_first_tier_page_lists_its_group() -> None:
    review = Review(since=SINCE, until=UNTIL)
    add_activity_counts(
        review,
        [
            (*GROUP, None, PAGED | ESCALATION, 4),
            (*GROUP, None, APPROVAL_ASKED, 2),
            (*GROUP, "U0DAVE", APPROVED | PAGED | ESCALATION, 1),
            (*GROUP, "U0DAVE", DENIED, 1),
            (*GROUP, None, TIMED_OUT, 3),
            ("db", 1, "data", "#db", "grafana", None, PAGED, 6),
        ],
    )
    o = review.overall.summary()
    assert (o["escalations"], o["approvals_asked"]) == (5, 2)
    assert (o["approvals_approved"], o["approvals_denied"], o["approvals_timed_out"]) == (1, 1, 3)
    dave = review.groups["person"]["U0DAVE"].summary()
    assert (dave["approvals_approved"], dave["approvals_denied"]) == (1, 1)
    assert review.groups["team"]["db"].summary()["escalations"] == 0
