"""A feed's shifts as iCalendar text (RFC 5545), drawn with the ``icalendar`` library.

Each shift is one ``VEVENT`` with times in UTC. Its ``UID`` names the rotation and the
instant the shift (or the piece of it an override leaves) starts, so a calendar app that
fetches the feed again updates an event instead of adding a second one: an override covering
a whole shift changes that event's person; one cutting a shift in two keeps the first piece's
event (now shorter) and adds events for the rest. Events are ``TRANSPARENT``: a week on call
does not mark the week busy.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from icalendar import Calendar, Event

from bot.schedule.feeds import FeedShift

PRODID = "-//Tocsin//On-call calendar//EN"
REFRESH = timedelta(hours=1)
"""How often calendar apps are asked to fetch the feed again (a hint; Google decides itself)."""


def shift_uid(rotation: str, start: datetime, *, domain: str) -> str:
    """Stable across renders: the rotation and the piece's start (UTC, to the second)."""
    stamp = start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"tocsin-oncall-{quote(rotation, safe='')}-{stamp}@{domain}"


def summary(item: FeedShift) -> str:
    return f"On call: {item.rotation} ({item.person})"


def description(item: FeedShift) -> str:
    lines = [f"Rotation: {item.rotation} (hand-offs in {item.timezone})"]
    if item.teams:
        lines.append(f"Team: {', '.join(item.teams)}")
    lines.append(f"On call: {item.person}")
    if item.covers is not None:
        lines.append(f"Covering for {item.covers} (override)")
    return "\n".join(lines)


def render_feed(title: str, shifts: Sequence[FeedShift], *, stamp: datetime, domain: str) -> bytes:
    """The whole feed. ``stamp`` (aware) is the ``DTSTAMP`` of every event: when it was drawn;
    ``domain`` ends every ``UID`` (this instance's host), so two Tocsins never share one."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", title)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")  # Outlook's name for the same hint
    drawn = stamp.astimezone(UTC)
    for item in shifts:
        shift = item.shift
        event = Event()
        event.add("uid", shift_uid(item.rotation, shift.start, domain=domain))
        event.add("dtstamp", drawn)
        event.add("dtstart", shift.start.astimezone(UTC))
        event.add("dtend", shift.end.astimezone(UTC))
        event.add("summary", summary(item))
        event.add("description", description(item))
        event.add("categories", ["On call"])
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    text: bytes = calendar.to_ical()
    return text
