"""Routes with time windows (named zones, across DST) and with continue (mirrors)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from escalation.model import AlertEvent, RouteDecision, SourceStatus
from escalation.triage.routing import Route, Routing, route, route_all
from escalation.triage.timewindow import TimeWindow

WEEKDAYS = frozenset(range(5))
BERLIN_OFFICE = TimeWindow(WEEKDAYS, 9 * 60, 18 * 60, "Europe/Berlin")
NIGHTS = TimeWindow(frozenset(range(7)), 22 * 60, 6 * 60, "Europe/Berlin")
FRIDAY_NIGHT = TimeWindow(frozenset({4}), 22 * 60, 6 * 60, "UTC")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("window", "at", "inside"),
    [
        # winter, CET = UTC+1: 09:00 Berlin is 08:00 UTC
        (BERLIN_OFFICE, "2024-03-28T07:59", False),
        (BERLIN_OFFICE, "2024-03-28T08:00", True),
        (BERLIN_OFFICE, "2024-03-28T16:59", True),
        (BERLIN_OFFICE, "2024-03-28T17:00", False),
        # summer after the change of 31 March 2024, CEST = UTC+2: 09:00 Berlin is 07:00 UTC
        (BERLIN_OFFICE, "2024-04-02T07:00", True),
        (BERLIN_OFFICE, "2024-04-02T06:59", False),
        (BERLIN_OFFICE, "2024-04-02T15:59", True),
        (BERLIN_OFFICE, "2024-04-02T16:00", False),
        # back to CET after 27 October 2024
        (BERLIN_OFFICE, "2024-10-25T07:30", True),
        (BERLIN_OFFICE, "2024-10-28T07:30", False),
        (BERLIN_OFFICE, "2024-10-28T08:00", True),
        # weekend: Saturday noon Berlin
        (BERLIN_OFFICE, "2024-03-30T11:00", False),
        # nights span midnight, on the wall clock, both sides of the spring change
        (NIGHTS, "2024-03-30T20:59", False),
        (NIGHTS, "2024-03-30T21:00", True),
        (NIGHTS, "2024-03-31T00:30", True),  # 02:30 does not exist; 01:30 CET then 03:30 CEST
        (NIGHTS, "2024-03-31T03:59", True),  # 05:59 CEST
        (NIGHTS, "2024-03-31T04:00", False),  # 06:00 CEST
        # the night belongs to the day it starts on
        (FRIDAY_NIGHT, "2024-05-03T22:00", True),  # Friday
        (FRIDAY_NIGHT, "2024-05-04T05:59", True),  # Saturday morning
        (FRIDAY_NIGHT, "2024-05-04T06:00", False),
        (FRIDAY_NIGHT, "2024-05-04T22:30", False),  # Saturday night
        (FRIDAY_NIGHT, "2024-05-03T05:00", False),  # Friday morning: Thursday's night
    ],
)
def test_window_contains(window: TimeWindow, at: str, inside: bool) -> None:
    assert window.contains(utc(at)) is inside


def test_window_compares_on_its_own_zone_whatever_the_zone_of_now() -> None:
    from zoneinfo import ZoneInfo

    tokyo = datetime(2024, 3, 28, 17, 0, tzinfo=ZoneInfo("Asia/Tokyo"))  # 09:00 Berlin

    assert BERLIN_OFFICE.contains(tokyo)


def test_empty_span_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        TimeWindow(WEEKDAYS, 540, 540, "UTC")


# --- routes with windows and continue --------------------------------------------------------

FALLBACK = RouteDecision(team="ops", channel="#alerts", policy="default", route_index=None)


def _event(**labels: str) -> AlertEvent:
    return AlertEvent(
        fingerprint="f", status=SourceStatus.FIRING, title="t", source="am", labels=labels
    )


DAY_NIGHT = [
    Route(team="db", channel="#db", policy="day", match={"team": "db"}, windows=(BERLIN_OFFICE,)),
    Route(team="db", channel="#db-night", policy="night", match={"team": "db"}),
]


def test_business_hours_route_by_day_and_night_route_otherwise() -> None:
    day = route(_event(team="db"), 2, DAY_NIGHT, fallback=FALLBACK, now=utc("2024-04-02T10:00"))
    night = route(_event(team="db"), 2, DAY_NIGHT, fallback=FALLBACK, now=utc("2024-04-02T20:00"))

    assert (day.channel, day.policy) == ("#db", "day")
    assert (night.channel, night.policy) == ("#db-night", "night")


def test_same_utc_hour_routes_differently_after_the_dst_change() -> None:
    # 07:30 UTC is 08:30 Berlin in winter (before hours) and 09:30 in summer (office hours)
    winter = route(_event(team="db"), 2, DAY_NIGHT, fallback=FALLBACK, now=utc("2024-03-29T07:30"))
    summer = route(_event(team="db"), 2, DAY_NIGHT, fallback=FALLBACK, now=utc("2024-04-02T07:30"))

    assert winter.policy == "night"
    assert summer.policy == "day"


NOON = utc("2024-05-01T12:00")
CONTINUED = [
    Route(team="audit", channel="#audit", policy="none", match={"env": "prod"}, continue_=True),
    Route(team="db", channel="#db", policy="db", match={"team": "db"}, continue_=True),
    Route(team="dba", channel="#dba", policy="dba", match={"team": "db"}),
    Route(team="late", channel="#never", policy="default", match={"team": "db"}),
]


def test_continue_collects_mirrors_until_a_route_without_continue() -> None:
    routing = route_all(_event(team="db", env="dev"), 3, CONTINUED, fallback=FALLBACK, now=NOON)

    assert routing == Routing(
        RouteDecision("db", "#db", "db", 1), (RouteDecision("dba", "#dba", "dba", 2),)
    )


def test_first_matching_route_owns_the_alert_even_with_continue() -> None:
    routing = route_all(_event(team="db", env="prod"), 3, CONTINUED, fallback=FALLBACK, now=NOON)

    assert routing.primary.channel == "#audit"
    assert [m.channel for m in routing.mirrors] == ["#db", "#dba"]


def test_continued_route_alone_is_the_owner_and_has_no_mirrors() -> None:
    routing = route_all(_event(env="prod"), 3, CONTINUED, fallback=FALLBACK, now=NOON)

    assert routing == Routing(RouteDecision("audit", "#audit", "none", 0))


def test_mirror_in_the_owners_channel_is_not_repeated() -> None:
    routes = [
        Route(team="a", channel="#x", policy="p", continue_=True),
        Route(team="b", channel="#x", policy="p", continue_=True),
        Route(team="c", channel="#y", policy="p"),
    ]

    routing = route_all(_event(), 3, routes, fallback=FALLBACK, now=NOON)

    assert [m.channel for m in routing.mirrors] == ["#y"]


def test_route_outside_its_window_does_not_continue_either() -> None:
    routes = [
        Route(team="a", channel="#day", policy="p", windows=(BERLIN_OFFICE,), continue_=True),
        Route(team="b", channel="#all", policy="p"),
    ]

    at_night = route_all(_event(), 3, routes, fallback=FALLBACK, now=utc("2024-05-01T23:00"))

    assert at_night == Routing(RouteDecision("b", "#all", "p", 1))
