"""iCalendar bytes → event occurrences: recurrences, EXDATE, moved instances, DST, all-day
events, floating times, cancelled events, and bytes that are not a calendar."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.schedule.calendar_parse import CalendarParseError, parse_calendar
from escalation.calendar import slots_from_events

BERLIN = "Europe/Berlin"


def ics(*events: str) -> bytes:
    body = "".join(f"BEGIN:VEVENT\r\n{e.strip()}\r\nEND:VEVENT\r\n" for e in events)
    text = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{body}END:VCALENDAR\r\n"
    return text.replace("\n            ", "\r\n").encode()


def utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


WEEKLY = """UID:weekly
            DTSTART;TZID=Europe/Berlin:20260316T090000
            DTEND;TZID=Europe/Berlin:20260323T090000
            RRULE:FREQ=WEEKLY
            SUMMARY:On call
            ATTENDEE;CN=Alice:mailto:Alice@Example.com"""


def test_a_weekly_recurrence_keeps_its_local_hand_off_time_across_the_dst_change() -> None:
    events = parse_calendar(
        ics(WEEKLY), start=utc(2026, 3, 16), end=utc(2026, 4, 6), timezone=BERLIN
    )
    assert [(e.start, e.end) for e in events] == [
        (utc(2026, 3, 16, 8), utc(2026, 3, 23, 8)),  # CET: 09:00 = 08:00 UTC
        (utc(2026, 3, 23, 8), utc(2026, 3, 30, 7)),  # spans the change on 29 March: 167 h
        (utc(2026, 3, 30, 7), utc(2026, 4, 6, 7)),  # CEST: 09:00 = 07:00 UTC
    ]
    assert events[0].attendees == ("alice@example.com",)


def test_exdate_removes_an_occurrence_and_a_recurrence_id_moves_one() -> None:
    moved = """UID:weekly
            RECURRENCE-ID;TZID=Europe/Berlin:20260330T090000
            DTSTART;TZID=Europe/Berlin:20260331T090000
            DTEND;TZID=Europe/Berlin:20260406T090000
            SUMMARY:On call (moved a day)"""
    excluded = WEEKLY + "\n            EXDATE;TZID=Europe/Berlin:20260323T090000"
    events = parse_calendar(
        ics(excluded, moved), start=utc(2026, 3, 16), end=utc(2026, 4, 13), timezone=BERLIN
    )
    starts = [(e.start, e.summary) for e in events]
    assert starts == [
        (utc(2026, 3, 16, 8), "On call"),
        (utc(2026, 3, 31, 7), "On call (moved a day)"),
        (utc(2026, 4, 6, 7), "On call"),
    ]


def test_an_all_day_event_runs_from_local_midnight_to_local_midnight() -> None:
    all_day = """UID:holiday
            DTSTART;VALUE=DATE:20260401
            DTEND;VALUE=DATE:20260403
            SUMMARY:U0BOB00002"""
    no_end = """UID:one-day
            DTSTART;VALUE=DATE:20260410
            SUMMARY:U0BOB00002"""
    events = parse_calendar(
        ics(all_day, no_end), start=utc(2026, 3, 1), end=utc(2026, 5, 1), timezone=BERLIN
    )
    assert [(e.start, e.end) for e in events] == [
        (utc(2026, 3, 31, 22), utc(2026, 4, 2, 22)),
        (utc(2026, 4, 9, 22), utc(2026, 4, 10, 22)),
    ]


def test_floating_times_are_read_in_the_rotations_zone_and_utc_stays_utc() -> None:
    floating = "UID:f\nDTSTART:20260105T090000\nDTEND:20260105T170000\nSUMMARY:x"
    in_utc = "UID:u\nDTSTART:20260106T090000Z\nDTEND:20260106T170000Z\nSUMMARY:x"
    body = ics(floating.replace("\n", "\r\n"), in_utc.replace("\n", "\r\n"))
    events = parse_calendar(body, start=utc(2026, 1, 1), end=utc(2026, 2, 1), timezone=BERLIN)
    assert [e.start for e in events] == [utc(2026, 1, 5, 8), utc(2026, 1, 6, 9)]


def test_cancelled_events_and_events_outside_the_window_hold_no_time() -> None:
    cancelled = WEEKLY.replace("UID:weekly", "UID:gone") + "\n            STATUS:CANCELLED"
    events = parse_calendar(
        ics(cancelled), start=utc(2026, 3, 16), end=utc(2026, 4, 6), timezone=BERLIN
    )
    assert events == []
    assert parse_calendar(ics(WEEKLY), start=utc(2025, 1, 1), end=utc(2025, 2, 1),
                          timezone=BERLIN) == []  # fmt: skip


def test_attendees_map_to_people_through_the_rotation_map() -> None:
    events = parse_calendar(
        ics(WEEKLY), start=utc(2026, 3, 16), end=utc(2026, 3, 23), timezone=BERLIN
    )
    slots, problems = slots_from_events(events, {"alice@example.com": "U0ALICE001"}.get)
    assert problems == []
    assert [s.user for s in slots] == ["U0ALICE001"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"<html>Sign in to Google</html>", "not an iCalendar file"),
        (b"BEGIN:VCARD\r\nVERSION:3.0\r\nEND:VCARD\r\n", "not an iCalendar file"),
    ],
)
def test_bytes_that_are_not_a_calendar_are_a_clear_error(body: bytes, says: str) -> None:
    with pytest.raises(CalendarParseError, match=says):
        parse_calendar(body, start=utc(2026, 1, 1), end=utc(2026, 2, 1), timezone=BERLIN)
