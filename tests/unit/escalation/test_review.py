"""The review's arithmetic against hand-computed figures, and report periods."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from escalation.period import parse_period
from escalation.review import AlertFacts, percentile, review

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def facts(
    fp: str,
    *,
    tta: float | None,
    ttr: float | None,
    resolved: bool,
    by_source: bool = False,
    team: str = "ops",
    level: int = 2,
    who: str | None = None,
    cause: str | None = None,
    count: int = 1,
) -> AlertFacts:
    return AlertFacts(
        fingerprint=fp,
        title=f"alert {fp}",
        level=level,
        team=team,
        category=None,
        source="generic",
        fired_at=T0,
        count=count,
        tta_s=tta,
        ttr_s=ttr,
        resolved=resolved,
        resolved_by_source=by_source,
        acknowledged_by=who,
        root_cause=cause,
        ack_within_s=120,
    )


ALERTS = [
    facts("a", tta=60, ttr=600, resolved=True, who="U0ALICE", cause="capacity"),
    facts("b", tta=300, ttr=900, resolved=True, by_source=True, who="U0BOB", team="db"),
    facts("c", tta=None, ttr=100, resolved=True, by_source=True, level=3, count=7),
    facts("d", tta=None, ttr=None, resolved=False, level=1),
]


def test_overall_figures_match_the_hand_computed_ones() -> None:
    figures = review(ALERTS).overall.summary()
    assert figures["alerts"] == 4
    assert figures["acknowledged"] == 2
    assert figures["resolved"] == 3
    assert figures["resolved_by_source"] == 2
    assert figures["open"] == 1
    assert figures["mtta_median_s"] == 180  # median of 60 and 300
    assert figures["mtta_p90_s"] == 300  # nearest rank: ceil(0.9 * 2) = 2nd
    assert figures["mttr_median_s"] == 600  # of 100, 600, 900
    assert figures["mttr_p90_s"] == 900
    assert figures["acked_within_deadline_share"] == 0.25  # only a, of four with a deadline
    assert figures["firings"] == 10


def test_breakdowns_by_team_level_and_person() -> None:
    result = review(ALERTS)
    assert result.by_team["db"].summary()["alerts"] == 1
    assert result.by_team["ops"].summary()["alerts"] == 3
    assert result.by_level[1].summary()["open"] == 1
    assert set(result.by_person) == {"U0ALICE", "U0BOB"}
    assert result.by_person["U0BOB"].summary()["mtta_median_s"] == 300


def test_root_causes_count_source_resolutions_apart_and_noisiest_comes_first() -> None:
    result = review(ALERTS)
    assert result.root_causes == {"capacity": 1, "by the source": 2}
    assert result.noisiest(1) == [("alert c", 7)]


def test_empty_period_has_no_durations() -> None:
    figures = review([]).overall.summary()
    assert figures["alerts"] == 0
    assert figures["mtta_median_s"] is None
    assert figures["acked_within_deadline_share"] is None


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([], 0.9, None),
        ([5.0], 0.9, 5.0),
        ([1.0, 2.0, 3.0, 4.0], 0.5, 2.0),
        ([3.0, 1.0, 2.0], 0.9, 3.0),
    ],
)
def test_percentile_is_nearest_rank(values: list[float], q: float, expected: float | None) -> None:
    assert percentile(values, q) == expected


def test_relative_periods_end_now() -> None:
    assert parse_period("7d", now=T0) == (T0 - timedelta(days=7), T0)
    assert parse_period("24h", now=T0) == (T0 - timedelta(hours=24), T0)


def test_date_ranges_include_the_last_day() -> None:
    since, until = parse_period("2026-11-01..2026-11-07", now=T0)
    assert since == datetime(2026, 11, 1, tzinfo=UTC)
    assert until == datetime(2026, 11, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    "bad", ["", "0d", "week", "2026-11-07..2026-11-01", "2026-13-01..2026-13-02"]
)
def test_bad_periods_say_what_is_wrong(bad: str) -> None:
    with pytest.raises(ValueError, match=r"period|before|YYYY|zero"):
        parse_period(bad, now=T0)
