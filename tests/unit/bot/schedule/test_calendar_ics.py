"""Calendar feeds drawn from rotations and read back with the ``icalendar`` library: times in
UTC across a DST change, overrides splitting shifts, UIDs that stay put, person feeds."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from icalendar import Calendar, Component

from bot.schedule.feeds import FEED_AHEAD, FEED_PAST, Feed, OnCallCalendars
from bot.schedule.ics import render_feed
from escalation.oncall import Override, Rotation

ALICE, BOB, CAROL, DAVE = "U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"
NAMES = {ALICE: "Alice Archer", BOB: "Bob Baker", DAVE: "Dave Diaz"}  # Carol has no name

PRIMARY = Rotation(
    name="ops-primary",
    members=(ALICE, BOB),
    timezone="Europe/Berlin",
    handoff=time(9, 0),
    shift="daily",
    anchor=date(2026, 1, 5),
)
NIGHTS = Rotation(
    name="db-nights",
    members=(CAROL, ALICE),
    timezone="America/New_York",
    handoff=time(18, 0),
    shift="weekly",
    anchor=date(2026, 1, 5),
)


def utc(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def calendars(*rotations: Rotation) -> OnCallCalendars:
    return OnCallCalendars(
        rotations={r.name: r for r in rotations or (PRIMARY, NIGHTS)},
        names=NAMES,
        teams={"ops-primary": ("Operations",)},
    )


def events(
    cals: OnCallCalendars,
    feed: Feed,
    *,
    now: datetime,
    extra: dict[str, tuple[Override, ...]] | None = None,
) -> list[Component]:
    text = render_feed(
        cals.title(feed),
        cals.shifts(feed, now=now, extra=extra),
        stamp=now,
        domain="tocsin.example.com",
    )
    parsed = Calendar.from_ical(text)
    assert parsed["X-WR-CALNAME"] == cals.title(feed)
    assert parsed["VERSION"] == "2.0"
    return list(parsed.walk("VEVENT"))


def span(event: Component) -> tuple[datetime, datetime]:
    return event.decoded("DTSTART"), event.decoded("DTEND")


def in_window(found: list[Component], start: datetime, end: datetime) -> list[Component]:
    return [e for e in found if span(e)[0] < end and span(e)[1] > start]


ROTATION = Feed("rotation", "ops-primary")


def test_shifts_keep_the_local_handoff_across_dst_and_are_written_in_utc() -> None:
    cals = calendars(PRIMARY)
    found = in_window(events(cals, ROTATION, now=utc(3, 20)), utc(3, 28), utc(3, 31))
    assert [span(e) for e in found] == [
        (utc(3, 27, 8), utc(3, 28, 8)),  # 09:00 CET
        (utc(3, 28, 8), utc(3, 29, 7)),  # the night the clocks go forward: 23 hours
        (utc(3, 29, 7), utc(3, 30, 7)),  # 09:00 CEST
        (utc(3, 30, 7), utc(3, 31, 7)),
    ]
    text = render_feed("t", cals.shifts(ROTATION, now=utc(3, 20)), stamp=utc(3, 20), domain="d")
    assert b"DTSTART:20260328T080000Z\r\nDTEND:20260329T070000Z\r\n" in text  # UTC
    assert b"TZID" not in text  # no time zone for a calendar app to resolve


def test_every_event_names_the_rotation_person_and_team() -> None:
    (event,) = in_window(
        events(calendars(PRIMARY), ROTATION, now=utc(2, 1)), utc(2, 2, 10), utc(2, 2, 11)
    )
    assert str(event["SUMMARY"]) == "On call: ops-primary (Alice Archer)"
    description = str(event["DESCRIPTION"])
    assert "Rotation: ops-primary (hand-offs in Europe/Berlin)" in description
    assert "Team: Operations" in description
    assert str(event["TRANSP"]) == "TRANSPARENT"


def test_an_override_splits_a_shift_into_three_events() -> None:
    cover = Override(user=DAVE, start=utc(2, 2, 12), end=utc(2, 2, 15))
    cals = calendars(replace(PRIMARY, overrides=(cover,)))
    found = in_window(events(cals, ROTATION, now=utc(2, 1)), utc(2, 2, 9), utc(2, 3, 7))
    assert [(span(e), str(e["SUMMARY"])) for e in found] == [
        ((utc(2, 2, 8), utc(2, 2, 12)), "On call: ops-primary (Alice Archer)"),
        ((utc(2, 2, 12), utc(2, 2, 15)), "On call: ops-primary (Dave Diaz)"),
        ((utc(2, 2, 15), utc(2, 3, 8)), "On call: ops-primary (Alice Archer)"),
    ]
    assert "Covering for Alice Archer (override)" in str(found[1]["DESCRIPTION"])
    assert "Covering" not in str(found[0]["DESCRIPTION"])
    assert len({str(e["UID"]) for e in found}) == 3


def test_uids_are_stable_across_renders_and_an_override_keeps_the_first_piece() -> None:
    cals = calendars(PRIMARY)
    first = {span(e): str(e["UID"]) for e in events(cals, ROTATION, now=utc(2, 1))}
    later = {span(e): str(e["UID"]) for e in events(cals, ROTATION, now=utc(2, 1, 7, 30))}
    shared = first.keys() & later.keys()
    assert len(shared) > 90
    assert all(first[s] == later[s] for s in shared)
    assert len(set(first.values())) == len(first)  # one UID per event

    cover = Override(user=DAVE, start=utc(2, 2, 12), end=utc(2, 2, 15))
    overridden = calendars(replace(PRIMARY, overrides=(cover,)))
    after = {span(e)[0]: str(e["UID"]) for e in events(overridden, ROTATION, now=utc(2, 1))}
    # the shift keeps its event (now ending at the override); the override adds its own
    assert after[utc(2, 2, 8)] == first[(utc(2, 2, 8), utc(2, 3, 8))]
    assert after[utc(2, 2, 12)] not in first.values()


def test_a_whole_shift_override_changes_the_person_of_the_same_event() -> None:
    cover = Override(user=DAVE, start=utc(2, 2, 8), end=utc(2, 3, 8))
    before = events(calendars(PRIMARY), ROTATION, now=utc(2, 1))
    after = events(calendars(replace(PRIMARY, overrides=(cover,))), ROTATION, now=utc(2, 1))
    (old,) = in_window(before, utc(2, 2, 9), utc(2, 2, 10))
    (new,) = in_window(after, utc(2, 2, 9), utc(2, 2, 10))
    assert str(old["UID"]) == str(new["UID"])
    assert (str(old["SUMMARY"]), str(new["SUMMARY"])) == (
        "On call: ops-primary (Alice Archer)",
        "On call: ops-primary (Dave Diaz)",
    )


def test_extra_overrides_apply_after_the_policy_files_and_win() -> None:
    in_file = Override(user=CAROL, start=utc(2, 2, 10), end=utc(2, 2, 20))
    extra = Override(user=DAVE, start=utc(2, 2, 12), end=utc(2, 2, 14))
    cals = calendars(replace(PRIMARY, overrides=(in_file,)))
    found = in_window(
        events(cals, ROTATION, now=utc(2, 1), extra={"ops-primary": (extra,)}),
        utc(2, 2, 9),
        utc(2, 3, 7),
    )
    assert [str(e["SUMMARY"]).split("(")[1] for e in found] == [
        "Alice Archer)",
        "U0CAROL)",  # no name under people: the Slack id
        "Dave Diaz)",
        "U0CAROL)",
        "Alice Archer)",
    ]


def test_a_feed_spans_two_weeks_back_to_three_months_ahead() -> None:
    now = utc(2, 1, 12)
    found = events(calendars(PRIMARY), ROTATION, now=now)
    starts = [span(e)[0] for e in found]
    assert starts == sorted(starts)
    assert span(found[0])[0] <= now - FEED_PAST < span(found[0])[1]
    assert span(found[-1])[0] < now + FEED_AHEAD <= span(found[-1])[1]


def test_a_person_feed_holds_their_shifts_in_every_rotation_and_no_one_elses() -> None:
    alice_covered = Override(user=DAVE, start=utc(2, 2, 8), end=utc(2, 3, 8))  # her shift
    bob_covered = Override(user=DAVE, start=utc(2, 3, 8), end=utc(2, 4, 8))
    cals = calendars(replace(PRIMARY, overrides=(alice_covered, bob_covered)), NIGHTS)
    feed = cals.feed("person", ALICE)
    assert feed is not None
    found = events(cals, feed, now=utc(2, 1))
    summaries = {str(e["SUMMARY"]) for e in found}
    assert summaries == {
        "On call: ops-primary (Alice Archer)",
        "On call: db-nights (Alice Archer)",
    }
    starts = [span(e)[0] for e in found]
    assert utc(2, 4, 8) in starts
    assert starts == sorted(starts)
    assert utc(2, 2, 8) not in starts  # covered by Dave: not on call, not in her calendar
    dave = cals.feed("person", DAVE)
    assert dave is not None
    assert [span(e) for e in events(cals, dave, now=utc(2, 1))] == [
        (utc(2, 2, 8), utc(2, 3, 8)),
        (utc(2, 3, 8), utc(2, 4, 8)),
    ]


@pytest.mark.parametrize(
    ("kind", "name", "found"),
    [
        ("rotation", "ops-primary", True),
        ("rotation", "nope", False),
        ("person", ALICE, True),  # named and a member
        ("person", CAROL, True),  # a member without a name
        ("person", "U0NOBODY", False),
    ],
)
def test_only_the_policys_rotations_and_people_have_feeds(
    kind: str, name: str, found: bool
) -> None:
    cals = calendars()
    assert (cals.feed("rotation" if kind == "rotation" else "person", name) is not None) is found


def test_find_prefers_a_rotation_and_paths_are_quoted() -> None:
    cals = calendars(replace(PRIMARY, name="ops/primary night"))
    assert cals.find("ops/primary night") == Feed("rotation", "ops/primary night")
    assert cals.find(ALICE) == Feed("person", ALICE)
    assert cals.find("nope") is None
    assert Feed("rotation", "ops/primary night").path == (
        "/calendar/rotations/ops%2Fprimary%20night.ics"
    )
    assert Feed("person", ALICE).path == "/calendar/people/U0ALICE.ics"


def test_a_shift_longer_than_the_window_is_one_event() -> None:
    monthly = replace(PRIMARY, shift=timedelta(days=200))
    (event,) = events(calendars(monthly), ROTATION, now=utc(2, 1))
    assert span(event) == (utc(1, 5, 8), utc(1, 5, 8) + timedelta(days=200))
