"""The review's arithmetic against hand-computed figures, and report periods."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from escalation.review.figures import (
    ActivityFacts,
    AlertFacts,
    FollowUpFacts,
    NoisyAlert,
    PageFacts,
    Review,
    Where,
    percentile,
)
from escalation.review.offhours import OffHours
from escalation.review.period import parse_period

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
OPS = Where(team="ops", level=2, category=None, route="#alerts", source="generic")


def where(team: str = "ops", level: int = 2, route: str = "#alerts") -> Where:
    return Where(
        team=team,
        level=level,
        category="db" if team == "db" else None,
        route=route,
        source="generic",
    )


def facts(
    *,
    tta: float | None,
    ttr: float | None,
    resolved: bool,
    by_source: bool = False,
    at: Where = OPS,
    who: str | None = None,
    cause: str | None = None,
    count: int = 1,
    fired: datetime = T0,
    ack_within: float | None = 120,
) -> AlertFacts:
    return AlertFacts(
        where=at,
        fired_at=fired,
        count=count,
        tta_s=tta,
        ttr_s=ttr,
        resolved=resolved,
        resolved_by_source=by_source,
        acknowledged_by=who,
        root_cause=cause,
        ack_within_s=ack_within,
    )


ALERTS = [
    # acknowledged in time (60 ≤ 120), resolved by a person
    facts(tta=60, ttr=600, resolved=True, who="U0ALICE", cause="capacity"),
    # acknowledged late, then resolved by the source
    facts(tta=300, ttr=900, resolved=True, by_source=True, who="U0BOB", at=where("db")),
    # never acknowledged, resolved by the source, fired 7 times
    facts(tta=None, ttr=100, resolved=True, by_source=True, at=where(level=3), count=7),
    # still open, never acknowledged, level 1
    facts(tta=None, ttr=None, resolved=False, at=where(level=1)),
    # still open but acknowledged (in time): counts for MTTA, not MTTR; no deadline in policy
    facts(tta=30, ttr=None, resolved=False, who="U0ALICE", ack_within=None),
]


def review_of(items: list[AlertFacts], **kwargs: object) -> Review:
    result = Review(since=T0 - timedelta(days=7), until=T0 + timedelta(hours=1), **kwargs)  # type: ignore[arg-type]
    for item in items:
        result.add(item)
    return result


def test_overall_figures_match_the_hand_computed_ones() -> None:
    figures = review_of(ALERTS).overall.summary()
    assert figures["alerts"] == 5
    assert figures["firings"] == 11
    assert figures["acknowledged"] == 3
    assert figures["resolved"] == 3
    assert figures["resolved_by_source"] == 2
    assert figures["open"] == 2
    assert figures["mtta_median_s"] == 60  # of 30, 60, 300
    assert figures["mtta_p90_s"] == 300  # nearest rank: ceil(0.9 * 3) = 3rd
    assert figures["mttr_median_s"] == 600  # of 100, 600, 900 (open alerts have none)
    assert figures["mttr_p90_s"] == 900
    # four alerts had a deadline; only the first was acknowledged within it
    assert figures["acked_within_deadline_share"] == 0.25


def test_breakdowns_by_team_level_category_route_and_person() -> None:
    result = review_of(ALERTS)
    assert result.groups["team"]["db"].summary()["alerts"] == 1
    assert result.groups["team"]["ops"].summary()["alerts"] == 4
    assert result.groups["level"]["1"].summary()["open"] == 1
    assert set(result.groups["category"]) == {"none", "db"}
    assert result.groups["route"]["#alerts"].alerts == 5
    assert set(result.groups["person"]) == {"U0ALICE", "U0BOB"}
    alice = result.groups["person"]["U0ALICE"].summary()
    assert alice["alerts"] == 2
    assert alice["mtta_median_s"] == 45  # of 30 and 60
    assert result.groups["person"]["U0BOB"].summary()["mtta_median_s"] == 300


def test_root_causes_count_source_resolutions_apart() -> None:
    assert review_of(ALERTS).root_causes == {"capacity": 1, "by the source": 2}


def test_empty_period_has_no_durations_and_no_share() -> None:
    figures = review_of([]).overall.summary()
    assert figures["alerts"] == 0
    assert figures["mtta_median_s"] is None
    assert figures["mttr_p90_s"] is None
    assert figures["acked_within_deadline_share"] is None


def test_pages_at_night_and_at_the_weekend_are_counted_in_the_teams_time_zone() -> None:
    result = review_of([], team_zones={"ops": BERLIN, "db": NEW_YORK})
    # Monday 2026-11-02 22:30 UTC = 23:30 in Berlin (night), 17:30 in New York (day)
    late_monday = datetime(2026, 11, 2, 22, 30, tzinfo=UTC)
    result.add_pages(PageFacts(where=OPS, person="U0ALICE", at=late_monday, count=2))
    result.add_pages(PageFacts(where=where("db"), person="U0BOB", at=late_monday))
    # Saturday 2026-11-07 04:00 UTC = 05:00 Berlin (night and weekend), 23:00 Friday in NY
    saturday = datetime(2026, 11, 7, 4, 0, tzinfo=UTC)
    result.add_pages(PageFacts(where=OPS, person="U0ALICE", at=saturday))
    result.add_pages(PageFacts(where=where("db"), person="U0BOB", at=saturday))
    # Saturday noon in Berlin: weekend only; a channel page has no person
    result.add_pages(PageFacts(where=OPS, person=None, at=datetime(2026, 11, 7, 11, tzinfo=UTC)))

    alice = result.groups["person"]["U0ALICE"].summary()
    assert (alice["pages"], alice["night_pages"], alice["weekend_pages"]) == (3, 3, 1)
    assert alice["off_hours_pages"] == 3
    bob = result.groups["person"]["U0BOB"].summary()
    # NY: Monday 17:30 (neither), Friday 23:00 (night, not weekend)
    assert (bob["pages"], bob["night_pages"], bob["weekend_pages"]) == (2, 1, 0)
    overall = result.overall.summary()
    assert (overall["pages"], overall["night_pages"], overall["weekend_pages"]) == (6, 4, 2)
    assert overall["off_hours_pages"] == 5


def test_night_window_may_be_configured_without_wrapping_midnight() -> None:
    early = OffHours(night_start=time(0, 0), night_end=time(6, 0), weekend=frozenset({4}))
    assert early.classify(datetime(2026, 11, 6, 5, 59, tzinfo=UTC), ZoneInfo("UTC")) == (True, True)
    assert early.classify(datetime(2026, 11, 6, 6, 0, tzinfo=UTC), ZoneInfo("UTC")) == (
        False,
        True,
    )
    assert early.classify(datetime(2026, 11, 5, 23, 0, tzinfo=UTC), ZoneInfo("UTC")) == (
        False,
        False,
    )


def test_night_follows_daylight_saving_time() -> None:
    # 21:30 UTC is 23:30 in Berlin in summer (night), 22:30 in winter (night); 20:30 UTC is
    # 22:30 in summer (night) but 21:30 in winter (not night)
    hours = OffHours()
    assert hours.classify(datetime(2026, 7, 1, 20, 30, tzinfo=UTC), BERLIN)[0] is True
    assert hours.classify(datetime(2026, 12, 1, 20, 30, tzinfo=UTC), BERLIN)[0] is False


def test_escalations_and_approvals_add_up_by_group_and_by_deciding_person() -> None:
    result = review_of([])
    result.add_activity(ActivityFacts(where=OPS, escalations=3, approvals_asked=2, timed_out=1))
    result.add_activity(ActivityFacts(where=OPS, actor="U0DAVE", approved=1))
    result.add_activity(ActivityFacts(where=where("db"), actor="U0DAVE", denied=1))
    overall = result.overall.summary()
    assert overall["escalations"] == 3
    assert overall["approvals_asked"] == 2
    assert (overall["approvals_approved"], overall["approvals_denied"]) == (1, 1)
    assert overall["approvals_timed_out"] == 1
    dave = result.groups["person"]["U0DAVE"].summary()
    assert (dave["approvals_approved"], dave["approvals_denied"]) == (1, 1)
    assert result.groups["team"]["db"].summary()["approvals_denied"] == 1


def test_follow_ups_count_under_their_alerts_groups_and_by_owner_with_the_open_ones() -> None:
    result = review_of([])
    result.add_follow_ups(FollowUpFacts(where=OPS, owner="U0ALICE", count=3, open=2))
    result.add_follow_ups(FollowUpFacts(where=where("db"), owner="U0ALICE", count=1, open=0))
    result.add_follow_ups(FollowUpFacts(where=where("db"), owner="U0BOB", count=2, open=1))
    overall = result.overall.summary()
    assert (overall["follow_ups"], overall["follow_ups_open"]) == (6, 3)
    alice = result.groups["person"]["U0ALICE"].summary()
    assert (alice["follow_ups"], alice["follow_ups_open"]) == (4, 2)
    db = result.groups["team"]["db"].summary()
    assert (db["follow_ups"], db["follow_ups_open"]) == (3, 1)


def test_noisiest_rank_by_firings_and_flapping_by_cycles() -> None:
    result = review_of([], flapping_cycles=3)
    result.set_noisy(
        [
            NoisyAlert("a", "Disk full", firings=40, cycles=1),
            NoisyAlert("b", "Link flaps", firings=6, cycles=6),
            NoisyAlert("c", "Queue slow", firings=9, cycles=3),
            NoisyAlert("d", "Cert expiry", firings=2, cycles=2),
        ],
        top=2,
    )
    assert [n.title for n in result.noisiest] == ["Disk full", "Queue slow"]
    assert [n.title for n in result.flapping] == ["Link flaps", "Queue slow"]


def test_day_series_uses_the_reports_time_zone_and_lists_empty_days() -> None:
    since = datetime(2026, 11, 1, 23, 0, tzinfo=UTC)  # 2026-11-02 00:00 in Berlin
    until = datetime(2026, 11, 4, 23, 0, tzinfo=UTC)  # 2026-11-05 00:00 in Berlin
    result = Review(since=since, until=until, zone=BERLIN)
    # 23:30 UTC on the 2nd is the 3rd in Berlin
    result.add(
        facts(tta=10, ttr=20, resolved=True, fired=datetime(2026, 11, 2, 23, 30, tzinfo=UTC))
    )
    result.add(
        facts(
            tta=30,
            ttr=None,
            resolved=False,
            fired=datetime(2026, 11, 3, 8, tzinfo=UTC),
            at=where(level=1),
        )
    )
    days = result.series()
    assert [d["date"] for d in days] == ["2026-11-02", "2026-11-03", "2026-11-04"]
    assert days[0]["alerts"] == {"1": 0, "2": 0, "3": 0}
    assert days[1]["alerts"] == {"1": 1, "2": 1, "3": 0}
    assert days[1]["mtta_median_s"] == 20
    assert days[1]["mttr_median_s"] == 20
    assert days[2]["mtta_median_s"] is None


def test_as_dict_orders_levels_numerically_and_names_its_definitions() -> None:
    data = review_of(ALERTS).as_dict()
    assert list(data["by_level"]) == ["1", "2", "3"]  # type: ignore[call-overload]
    assert data["definitions"] == {
        "time_zone": "UTC",
        "night": "22:00-07:00",
        "weekend": [5, 6],
        "flapping_cycles": 3,
    }


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


def test_date_ranges_are_whole_days_in_the_given_time_zone() -> None:
    since, until = parse_period("2026-11-01..2026-11-01", now=T0, zone=BERLIN)
    assert since == datetime(2026, 10, 31, 23, tzinfo=UTC)
    assert until == datetime(2026, 11, 1, 23, tzinfo=UTC)


@pytest.mark.parametrize(
    "bad", ["", "0d", "week", "2026-11-07..2026-11-01", "2026-13-01..2026-13-02"]
)
def test_bad_periods_say_what_is_wrong(bad: str) -> None:
    with pytest.raises(ValueError, match=r"period|before|YYYY|zero"):
        parse_period(bad, now=T0)


def test_by_person_counts_who_owned_and_resolved_an_alert_once_overall() -> None:
    review = Review(since=T0, until=T0 + timedelta(days=7))
    acked_by_alice = facts(tta=60, ttr=600, resolved=True, who="U0ALICE")
    review.add(replace(acked_by_alice, involved=("U0BOB", "U0BOB")))  # Bob owned and resolved
    review.add(replace(facts(tta=None, ttr=300, resolved=True), involved=("U0CAROL",)))
    people = review.as_dict()["by_person"]
    assert isinstance(people, dict)
    assert people["U0ALICE"]["alerts"] == 1
    assert (people["U0BOB"]["alerts"], people["U0BOB"]["resolved"]) == (1, 1)
    assert people["U0BOB"]["mttr_median_s"] == 600
    assert people["U0CAROL"]["alerts"] == 1
    assert review.overall.alerts == 2  # each alert once, however many people it involved
    assert review.groups["team"]["ops"].alerts == 2
