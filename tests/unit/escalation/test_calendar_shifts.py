"""Calendar events become a rotation's shifts: who an event names, overlaps, gaps held by the
fallback, and overrides on top."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

import pytest

from escalation.calendar import CalendarEvent, emails_to_resolve, person_of, slots_from_events
from escalation.oncall import (
    Override,
    Rotation,
    handoffs_between,
    next_shifts,
    on_call,
    shifts_between,
    validate_rotation,
)

ALICE, BOB, CAROL, FALLBACK = "U0ALICE001", "U0BOB00002", "U0CAROL003", "U0FALLBK04"
PEOPLE = {"alice@example.com": ALICE, "bob@example.com": BOB, "carol smith": CAROL}


def at(day: int, hour: int = 0, month: int = 1) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def event(start: datetime, end: datetime, summary: str = "", uid: str = "") -> CalendarEvent:
    return CalendarEvent(uid=uid or summary or "e", start=start, end=end, summary=summary)


def rotation(*events: CalendarEvent, overrides: tuple[Override, ...] = ()) -> Rotation:
    slots, problems = slots_from_events(events, PEOPLE.get)
    assert not problems
    users = tuple(dict.fromkeys([FALLBACK, *(s.user for s in slots)]))
    return Rotation(
        name="cal",
        members=users,
        timezone="UTC",
        handoff=time(9),
        shift="weekly",
        anchor=date(1970, 1, 1),
        overrides=overrides,
        calendar=tuple(slots),
    )


@pytest.mark.parametrize(
    ("summary", "description", "attendees", "expected"),
    [
        (f"On call: <@{BOB}>", "", ("alice@example.com",), BOB),
        (f"{BOB} primary", "", (), BOB),
        ("Alice@Example.com on call", "", ("bob@example.com",), ALICE),
        ("Carol Smith", "", ("bob@example.com",), CAROL),
        ("On call", f"Phone: call {BOB}", ("alice@example.com",), BOB),
        ("On call", "", ("nobody@example.com", "Bob@example.com"), BOB),
        ("On call UTC", "", (), None),
    ],
)
def test_an_event_names_its_person_by_slack_id_then_email_or_name_then_attendees(
    summary: str, description: str, attendees: tuple[str, ...], expected: str | None
) -> None:
    found = CalendarEvent("u", at(1), at(2), summary, description, attendees)
    assert person_of(found, PEOPLE.get) == expected


@pytest.mark.parametrize(
    ("summary", "description", "attendees", "expected"),
    [
        ("Cover: Alice@Example.com", "or bob@example.com", ("Carol@x.org",),
         ["alice@example.com", "bob@example.com", "carol@x.org"]),
        ("On call", f"<@{BOB}> (bob@example.com)", ("carol@x.org",), []),
        ("dave@example.com", f"Phone: call {BOB}", ("carol@x.org",), ["dave@example.com"]),
        (f"{ALICE} alice@example.com", "", ("carol@x.org",), []),
        ("Primary", "", (), []),
    ],
)  # fmt: skip
def test_the_emails_to_look_up_are_those_person_of_may_ask_about_before_any_slack_id(
    summary: str, description: str, attendees: tuple[str, ...], expected: list[str]
) -> None:
    found = CalendarEvent("u", at(1), at(2), summary, description, attendees)
    assert emails_to_resolve(found) == expected
    asked: list[str] = []

    def nobody(key: str) -> None:
        asked.append(key)

    person_of(found, nobody)
    emails = [key for key in dict.fromkeys(asked) if re.fullmatch(r"\S+@\S+", key)]
    assert emails == expected  # the same emails as person_of asks about, in its order


def test_an_event_naming_nobody_is_skipped_with_a_problem_and_its_time_goes_to_the_fallback() -> (
    None
):
    events = [event(at(1), at(2), "alice@example.com"), event(at(2), at(3), "Mystery person")]
    slots, problems = slots_from_events(events, PEOPLE.get)
    assert [s.user for s in slots] == [ALICE]
    assert len(problems) == 1
    assert "'Mystery person'" in problems[0]
    assert "skipped" in problems[0]
    cal = rotation(events[0])
    assert on_call(cal, at=at(2, 12)).user == FALLBACK


def test_a_later_starting_event_wins_over_a_longer_one_and_the_long_one_resumes_after() -> None:
    week = event(at(5, 9), at(12, 9), "alice@example.com", uid="week")
    swap = event(at(7, 9), at(8, 9), "bob@example.com", uid="swap")
    cal = rotation(week, swap)
    shifts = shifts_between(cal, start=at(5, 9), end=at(12, 9))
    assert [(s.user, s.start, s.end) for s in shifts] == [
        (ALICE, at(5, 9), at(7, 9)),
        (BOB, at(7, 9), at(8, 9)),
        (ALICE, at(8, 9), at(12, 9)),
    ]


def test_events_starting_together_the_shorter_wins_then_the_one_listed_last() -> None:
    long = event(at(1), at(3), "alice@example.com", uid="long")
    short = event(at(1), at(2), "bob@example.com", uid="short")
    assert [s.user for s in rotation(short, long).calendar or ()] == [BOB, ALICE]
    same_a = event(at(1), at(2), "alice@example.com", uid="a")
    same_b = event(at(1), at(2), "bob@example.com", uid="b")
    assert [s.user for s in rotation(same_a, same_b).calendar or ()] == [BOB]


def test_gaps_before_between_and_after_events_belong_to_the_fallback() -> None:
    cal = rotation(event(at(2), at(3), "alice@example.com"), event(at(4), at(5), "bob@example.com"))
    assert on_call(cal, at=at(1)).user == FALLBACK
    assert on_call(cal, at=at(2, 5)).user == ALICE
    assert on_call(cal, at=at(3, 5)).user == FALLBACK
    assert on_call(cal, at=at(4)).user == BOB
    assert on_call(cal, at=at(20, month=6)).user == FALLBACK
    upcoming = next_shifts(cal, at=at(2, 5), count=10)  # stops after the last (open) shift
    assert [s.user for s in upcoming] == [ALICE, FALLBACK, BOB, FALLBACK]
    assert [s.user for s in handoffs_between(cal, start=at(1), end=at(6))] == [
        ALICE,
        FALLBACK,
        BOB,
        FALLBACK,
    ]


def test_an_empty_calendar_puts_the_fallback_on_call_at_all_times() -> None:
    cal = rotation()
    assert on_call(cal, at=at(1)).user == FALLBACK
    assert [s.user for s in shifts_between(cal, start=at(1), end=at(9))] == [FALLBACK]


def test_an_override_replaces_whoever_the_calendar_names_and_covers_may_name_anyone() -> None:
    week = event(at(5, 9), at(12, 9), "alice@example.com")
    cover = Override(user=CAROL, start=at(6), end=at(7), covers=ALICE)
    cal = rotation(week, overrides=(cover,))
    assert validate_rotation(cal) == []
    current = on_call(cal, at=at(6, 12))
    assert (current.user, current.scheduled, current.override) == (CAROL, ALICE, cover)
    assert on_call(cal, at=at(7, 1)).user == ALICE


def test_calendar_shifts_out_of_order_are_reported() -> None:
    cal = rotation(event(at(1), at(3), "alice@example.com"))
    slots = cal.calendar or ()
    broken = Rotation(**{**{f: getattr(cal, f) for f in cal.__slots__}, "calendar": slots * 2})
    assert any("must be in order" in p for p in validate_rotation(broken))
