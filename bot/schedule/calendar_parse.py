"""An iCalendar file (RFC 5545) as the event occurrences in a window: pure, bytes in.

Recurrences are expanded by ``recurring-ical-events``: ``RRULE`` and ``RDATE``, minus
``EXDATE``, with overridden instances (a ``RECURRENCE-ID``) in place of the ones they move.
Times with a ``TZID`` keep their wall-clock time across DST changes (a 09:00 hand-off stays
09:00 local); UTC times stay UTC; floating times (no zone) and all-day events (``VALUE=DATE``)
are read in the rotation's time zone (an all-day event runs from local midnight to local
midnight of its end date). Cancelled events (``STATUS:CANCELLED``) hold no time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from escalation.calendar import CalendarEvent


class CalendarParseError(ValueError):
    """The bytes are not a calendar Tocsin can read; the message says why."""


def parse_calendar(
    data: bytes, *, start: datetime, end: datetime, timezone: str
) -> list[CalendarEvent]:
    """Every event occurrence overlapping ``[start, end)``, in order of start."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError as exc:
        raise CalendarParseError(f"not an iCalendar file: {exc}") from None
    if not isinstance(calendar, icalendar.Calendar) or calendar.name != "VCALENDAR":
        raise CalendarParseError("not an iCalendar file: no VCALENDAR")
    zone = ZoneInfo(timezone)
    try:
        found = recurring_ical_events.of(calendar).between(start, end)
    except Exception as exc:  # the library raises its own types for broken rules and zones
        raise CalendarParseError(f"the calendar's events cannot be expanded: {exc}") from None
    events = [
        e
        for e in (_event(component, zone) for component in found)
        if e is not None and e.end > start and e.start < end
    ]
    events.sort(key=lambda e: (e.start, e.end, e.uid))
    return events


def _event(component: Any, zone: ZoneInfo) -> CalendarEvent | None:
    if component.name != "VEVENT":
        return None
    if str(component.get("STATUS", "")).upper() == "CANCELLED":
        return None
    raw_start = component.decoded("DTSTART", None)
    if raw_start is None:
        return None
    raw_end = component.decoded("DTEND", None)
    if raw_end is None:
        duration = component.decoded("DURATION", None)
        if isinstance(duration, timedelta):
            raw_end = raw_start + duration
        elif isinstance(raw_start, datetime):
            raw_end = raw_start  # RFC 5545: a date-time without an end takes no time
        else:
            raw_end = raw_start + timedelta(days=1)  # a date without an end: that one day
    attendees = component.get("ATTENDEE", [])
    if not isinstance(attendees, list):
        attendees = [attendees]
    return CalendarEvent(
        uid=str(component.get("UID", "")),
        start=_instant(raw_start, zone),
        end=_instant(raw_end, zone),
        summary=str(component.get("SUMMARY", "")),
        description=str(component.get("DESCRIPTION", "")),
        attendees=tuple(a for a in (_email(str(v)) for v in attendees) if a),
    )


def _instant(value: date | datetime, zone: ZoneInfo) -> datetime:
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(0))
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def _email(value: str) -> str:
    address = value.removeprefix("mailto:").removeprefix("MAILTO:").strip()
    return address.lower() if "@" in address else ""
